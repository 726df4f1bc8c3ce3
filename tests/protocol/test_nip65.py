"""NIP-65 relay lists: the real kind-10002 events, markers, junk tolerance, building, fuzzed round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nostr_desk.protocol import nip65
from nostr_desk.protocol.errors import InvalidEvent
from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.protocol.nip65 import RelayEntry
from nostr_desk.protocol.relay_url import InvalidRelayUrl


def test_nip65_example():
    tags = [["r", "wss://alicerelay.example.com"], ["r", "wss://brando-relay.com"],
            ["r", "wss://expensive-relay.example2.com", "write"], ["r", "wss://nostr-relay.example.com", "read"]]
    entries = nip65.parse_tags(tags)
    assert entries == [RelayEntry("wss://alicerelay.example.com", True, True),
                       RelayEntry("wss://brando-relay.com", True, True),
                       RelayEntry("wss://expensive-relay.example2.com", False, True),
                       RelayEntry("wss://nostr-relay.example.com", True, False)]
    assert nip65.build_tags(entries) == tags
    assert nip65.read_relays(entries) == ["wss://alicerelay.example.com", "wss://brando-relay.com",
                                          "wss://nostr-relay.example.com"]
    assert nip65.write_relays(entries) == ["wss://alicerelay.example.com", "wss://brando-relay.com",
                                           "wss://expensive-relay.example2.com"]


def test_every_real_relay_list(real_event_lines):
    lists = [ev for ev in map(Event.from_json, real_event_lines) if ev.kind == 10002]
    assert len(lists) == 22
    for ev in lists:
        entries = nip65.parse_event(ev)
        r_tags = [t for t in ev.tags if t[0] == "r"]
        assert 0 < len(entries) <= len(r_tags)
        assert all(e.url.startswith(("ws://", "wss://")) and not e.url.endswith("/") for e in entries)
        assert nip65.parse_tags(nip65.build_tags(entries)) == entries
    marked = [e for ev in lists for e in nip65.parse_event(ev) if not (e.read and e.write)]
    assert RelayEntry("wss://relay.primal.net", True, False) in marked


def test_junk_is_skipped_and_repeats_merge():
    tags = [["r", "wss://Relay.One/"], ["r", "https://not-a-relay"], ["r"], ["p", "wss://x"],
            ["r", "wss://relay.two", "read"], ["r", "wss://relay.one", "write"], ["r", "wss://relay.two", "read"],
            ["r", "wss://relay.three", "bogus-marker"], ["r", "wss://relay.four", ""]]
    assert nip65.parse_tags(tags) == [RelayEntry("wss://relay.one"), RelayEntry("wss://relay.two", True, False),
                                      RelayEntry("wss://relay.three"), RelayEntry("wss://relay.four")]


def test_build_and_template():
    entries = [RelayEntry("WSS://A.example/", True, False), RelayEntry("wss://a.example", False, True),
               RelayEntry("wss://b.example", False, False), RelayEntry("wss://c.example", False, True)]
    assert nip65.build_tags(entries) == [["r", "wss://a.example"], ["r", "wss://c.example", "write"]]
    template = nip65.template(entries, 1_700_000_000)
    assert (template.kind, template.content, template.created_at) == (10002, "", 1_700_000_000)
    ev = sign(template, SecretKey(b"\x09" * 32), aux_rand=bytes(32))
    assert nip65.parse_event(ev) == [RelayEntry("wss://a.example"), RelayEntry("wss://c.example", False, True)]
    with pytest.raises(InvalidRelayUrl):
        nip65.build_tags([RelayEntry("http://a.example")])


def test_wrong_kind_is_refused():
    ev = sign(EventTemplate(kind=3, content="", created_at=1), SecretKey(b"\x09" * 32), aux_rand=bytes(32))
    with pytest.raises(InvalidEvent, match="kind 10002"):
        nip65.parse_event(ev)


_URLS = st.sampled_from(["wss://a.example", "WSS://a.example/", "ws://b.example:80", "wss://c.example/x",
                         "bad", "https://d.example", ""]) | st.text(max_size=12)
_MARKERS = st.sampled_from(["read", "write", "", "other"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.tuples(st.just("r"), _URLS).map(list),
                          st.tuples(st.just("r"), _URLS, _MARKERS).map(list),
                          st.lists(st.text(max_size=4), max_size=3)), max_size=10))
def test_any_tags_parse_and_round_trip(tags):
    entries = nip65.parse_tags(tags)
    assert len({e.url for e in entries}) == len(entries)
    assert all(e.read or e.write for e in entries)
    assert nip65.parse_tags(nip65.build_tags(entries)) == entries
