"""NIP-42: building and checking kind-22242 auth events, on a real one and on every way one can be wrong."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nostr_desk.protocol import nip42
from nostr_desk.protocol.errors import InvalidEvent, Prefix, ProtocolError
from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.keys import SecretKey

KEY = SecretKey(b"\x2a" * 32)
RELAY = "ws://127.0.0.1:7447"
NOW = 1_750_000_000


def _auth(relay=RELAY, challenge="c-123", created_at=NOW, kind=None, tags=None) -> Event:
    template = nip42.auth_template(relay, challenge, created_at)
    if kind is not None or tags is not None:
        template = EventTemplate(kind=kind if kind is not None else template.kind, content="",
                                 tags=tags if tags is not None else template.tags, created_at=created_at)
    return sign(template, KEY, aux_rand=bytes(32))


def test_template():
    template = nip42.auth_template("wss://relay.example.com/", "abc", 42)
    assert (template.kind, template.content, template.created_at) == (22242, "", 42)
    assert template.tags == [["relay", "wss://relay.example.com/"], ["challenge", "abc"]]


def test_a_good_auth_event_returns_the_pubkey():
    assert nip42.check(_auth(), relay_url=RELAY, challenge="c-123", now=NOW) == KEY.public_key
    # Relay URLs are compared after normalisation.
    ev = _auth(relay="WS://127.0.0.1:7447/")
    assert nip42.check(ev, relay_url=RELAY, challenge="c-123", now=NOW + 600) == KEY.public_key


def test_the_real_auth_event(sample_event_lines):
    (line,) = [line for line in sample_event_lines if '"kind":22242' in line]
    ev = Event.from_json(line)
    pubkey = nip42.check(ev, relay_url="wss://relay.example.com", challenge="some-challenge-string",
                         now=ev.created_at + 30)
    assert pubkey == ev.pubkey


def _reason(ev: Event, **kwargs) -> str:
    args = {"relay_url": RELAY, "challenge": "c-123", "now": NOW} | kwargs
    with pytest.raises(ProtocolError) as info:
        nip42.check(ev, **args)
    assert info.value.event_id == ev.id
    return info.value.reason


def test_malformed_auth_events_are_invalid():
    assert _reason(_auth(kind=1)).startswith("invalid: auth event must be kind 22242")
    assert _reason(_auth(tags=[["relay", RELAY]])).startswith("invalid: auth event needs")
    assert _reason(_auth(tags=[["challenge", "c-123"]])).startswith("invalid: auth event needs")
    good = _auth()
    forged = Event(good.id, good.pubkey, good.created_at, good.kind, good.tags, good.content, "0" * 128)
    with pytest.raises(InvalidEvent) as info:
        nip42.check(forged, relay_url=RELAY, challenge="c-123", now=NOW)
    assert info.value.prefix is Prefix.INVALID
    altered = Event(good.id, good.pubkey, good.created_at, good.kind, [["relay", RELAY], ["challenge", "x"]],
                    good.content, good.sig)
    assert _reason(altered).startswith("invalid: event id")


def test_auth_events_for_something_else_say_auth_required():
    assert _reason(_auth(), challenge="other") == "auth-required: challenge does not match the one this relay sent"
    assert _reason(_auth(relay="wss://127.0.0.1:7447")).startswith("auth-required: auth event is for another relay")
    assert _reason(_auth(relay="ws://127.0.0.1:7448")).startswith("auth-required: auth event is for another")
    assert _reason(_auth(relay="not a url")).startswith("auth-required: auth event is for another")
    assert _reason(_auth(created_at=NOW - 601)).startswith("auth-required: auth event created_at")
    assert _reason(_auth(created_at=NOW + 601)).startswith("auth-required: auth event created_at")
    assert nip42.check(_auth(created_at=NOW - 50), relay_url=RELAY, challenge="c-123", now=NOW, window=60)
    assert _reason(_auth(created_at=NOW - 61), window=60).startswith("auth-required:")


def test_host_only_matching():
    ev = _auth(relay="ws://127.0.0.1:9999/some/path")
    assert nip42.check(ev, relay_url=RELAY, challenge="c-123", now=NOW, host_only=True) == KEY.public_key
    assert _reason(_auth(relay="ws://localhost:7447"), host_only=True).startswith("auth-required:")
    assert _reason(_auth(relay="garbage"), host_only=True).startswith("auth-required:")


_TAG_VALUES = st.sampled_from([RELAY, "c-123", "wss://x", "", "relay", "challenge"]) | st.text(max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([22242, 1, 22241]),
       st.lists(st.lists(_TAG_VALUES, max_size=3), max_size=4),
       st.integers(NOW - 2000, NOW + 2000))
def test_any_auth_event_gives_a_pubkey_or_a_prefixed_error(kind, tags, created_at):
    ev = _auth(kind=kind, tags=tags, created_at=created_at)
    try:
        assert nip42.check(ev, relay_url=RELAY, challenge="c-123", now=NOW) == KEY.public_key
    except ProtocolError as exc:
        assert exc.prefix in (Prefix.INVALID, Prefix.AUTH_REQUIRED)
