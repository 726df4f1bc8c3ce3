"""NIP-42 client authentication: the kind-22242 auth event template, and the relay's check of one.

`check` returns the authenticated pubkey or raises ProtocolError with one of two prefixes:
- `invalid:` the event is not a well-formed auth event (kind, id, signature, missing tags);
- `auth-required:` it is well formed but does not answer this relay's current challenge (wrong
  challenge, another relay, created_at outside the window), so the client still has to authenticate.
The clock is an argument (`now`), as everywhere in the core.
"""

from __future__ import annotations

from .errors import Prefix, ProtocolError
from .event import Event, EventTemplate
from .kinds import CLIENT_AUTH
from .relay_url import InvalidRelayUrl, same_relay
from .relay_url import parse as parse_relay_url

DEFAULT_WINDOW = 600  # NIP-42: "within ~10 minutes" of the current time


def auth_template(relay_url: str, challenge: str, created_at: int) -> EventTemplate:
    """What a client signs to answer `["AUTH", challenge]` from `relay_url`."""
    return EventTemplate(kind=CLIENT_AUTH, content="", tags=[["relay", relay_url], ["challenge", challenge]],
                         created_at=created_at)


def check(
    event: Event,
    *,
    relay_url: str,
    challenge: str,
    now: int,
    window: int = DEFAULT_WINDOW,
    host_only: bool = False,
) -> str:
    """Check an AUTH event against the challenge this connection was sent; return its pubkey.

    The relay tag must name this relay after normalisation (`host_only=True` compares just the host,
    for a relay reachable under several ports or paths).
    """
    if event.kind != CLIENT_AUTH:
        raise _invalid(event, f"auth event must be kind {CLIENT_AUTH}, not {event.kind}")
    event.verify()  # InvalidEvent (invalid:) for a wrong id or signature
    relay_tag = event.first_tag_value("relay")
    challenge_tag = event.first_tag_value("challenge")
    if relay_tag is None or challenge_tag is None:
        raise _invalid(event, "auth event needs a relay tag and a challenge tag")
    if challenge_tag != challenge:
        raise _auth_required(event, "challenge does not match the one this relay sent")
    if not _relay_matches(relay_tag, relay_url, host_only):
        raise _auth_required(event, f"auth event is for another relay ({relay_tag[:100]})")
    if abs(now - event.created_at) > window:
        raise _auth_required(event, f"auth event created_at is more than {window} s from now")
    return event.pubkey


def _relay_matches(tag: str, ours: str, host_only: bool) -> bool:
    if not host_only:
        return same_relay(tag, ours)
    try:
        return parse_relay_url(tag).host == parse_relay_url(ours).host
    except InvalidRelayUrl:
        return False


def _invalid(event: Event, text: str) -> ProtocolError:
    return ProtocolError(text, prefix=Prefix.INVALID, event_id=event.id)


def _auth_required(event: Event, text: str) -> ProtocolError:
    return ProtocolError(text, prefix=Prefix.AUTH_REQUIRED, event_id=event.id)
