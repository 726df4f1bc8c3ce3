"""NIP-42 on the relay side: the URLs that name this relay, and checking a client's AUTH event
against them with the protocol's check (`protocol.nip42.check`: kind, id and signature, challenge,
relay tag, created_at window).

A relay on loopback answers to several names (127.0.0.1, localhost, ::1), to configured public URLs
and to the Host the client used, so the relay tag is matched against each (after the protocol's URL
normalisation) and the check is run with the one it names.
"""

from __future__ import annotations

from nostr_desk.protocol import nip42
from nostr_desk.protocol.event import Event
from nostr_desk.protocol.relay_url import same_relay

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::"})


def acceptable_relay_urls(host: str, port: int, extra: tuple[str, ...] = (), host_header: str | None = None) -> tuple[str, ...]:
    """Every URL a client may name in its AUTH `relay` tag for this relay (first: the bound one)."""
    hosts = [host.lower().strip("[]")]
    if host in LOOPBACK_HOSTS or host in _WILDCARD_HOSTS:
        hosts += [h for h in ("127.0.0.1", "localhost", "::1") if h not in hosts]
    urls = [f"ws://[{h}]:{port}" if ":" in h else f"ws://{h}:{port}" for h in hosts]
    urls += extra
    if host_header:
        urls.append(host_header if "://" in host_header else f"ws://{host_header}")
    return tuple(dict.fromkeys(urls))


def check_auth(event: Event, *, relay_urls: tuple[str, ...], challenge: str, now: int, window: int) -> str:
    """The authenticated pubkey; else `ProtocolError` with `invalid:` (not a valid auth event) or
    `auth-required:` (valid, but not an answer to this challenge at this relay now). Verifies the
    signature: call it off the event loop."""
    tag = event.first_tag_value("relay") or ""
    ours = next((url for url in relay_urls if same_relay(tag, url)), relay_urls[0])
    return nip42.check(event, relay_url=ours, challenge=challenge, now=now, window=window)
