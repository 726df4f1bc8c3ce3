"""NIP-42 on the relay side: checking a client's AUTH event against our challenge and URL.

Written here because protocol/nip42.py was not committed yet when the relay needed it; the checks
are pure (time is an argument) so they can move down into protocol/ unchanged. The signature itself
is checked by the verifier (off the event loop), not here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.kinds import CLIENT_AUTH

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_DEFAULT_PORTS = {"ws": 80, "http": 80, "wss": 443, "https": 443}


def normalize_relay_url(url: str) -> tuple[str, int] | None:
    """`(host, port)` of a relay URL with its scheme's default port filled in; None if unparseable.

    Path, query and a trailing slash do not matter (NIP-42 allows normalising; NIP-01 says extra
    path segments must not change behaviour)."""
    text = url.strip()
    if "://" not in text:
        text = "ws://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not host or scheme not in _DEFAULT_PORTS:
        return None
    return host, port if port is not None else _DEFAULT_PORTS[scheme]


def acceptable_relay_urls(host: str, port: int, extra: tuple[str, ...] = (), host_header: str | None = None) -> frozenset[tuple[str, int]]:
    """Every normalised (host, port) a client may name in its `relay` tag for this relay."""
    out: set[tuple[str, int]] = set()
    hosts = {host.lower()}
    if host in LOOPBACK_HOSTS or host in ("0.0.0.0", "::"):
        hosts |= {"127.0.0.1", "localhost", "::1"}
    for h in hosts:
        out.add((h.strip("[]"), port))
    for url in (*extra, *((host_header,) if host_header else ())):
        norm = normalize_relay_url(url)
        if norm is not None:
            out.add((norm[0].strip("[]"), norm[1]))
    return frozenset(out)


def check_auth_event(
    event: Event, *, challenge: str, relay_urls: frozenset[tuple[str, int]], now: int, window: int
) -> str | None:
    """None when the AUTH event fits (kind, freshness, challenge, relay); else the reason why not."""
    if event.kind != CLIENT_AUTH:
        return f"AUTH event must be kind {CLIENT_AUTH}"
    if abs(event.created_at - now) > window:
        return "AUTH event created_at is not close to the current time"
    if event.first_tag_value("challenge") != challenge:
        return "AUTH challenge does not match"
    relay = event.first_tag_value("relay")
    norm = normalize_relay_url(relay) if relay else None
    if norm is None or (norm[0].strip("[]"), norm[1]) not in relay_urls:
        return "AUTH relay tag does not name this relay"
    return None
