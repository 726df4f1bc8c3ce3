"""NIP-10: marked and positional thread references, p tags, reply tags, on real events and fuzzed tags."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nostr_desk.protocol import nip10
from nostr_desk.protocol.errors import ProtocolError
from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.keys import SecretKey

A, B, C, D = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)
P1, P2 = ("1" * 64, "2" * 64)
ALICE, BOB, CAROL = SecretKey(b"\x01" * 32), SecretKey(b"\x02" * 32), SecretKey(b"\x03" * 32)


def _ids(thread: nip10.Thread):
    return (thread.root.id if thread.root else None, thread.reply.id if thread.reply else None,
            [m.id for m in thread.mentions])


@pytest.mark.parametrize(
    "tags, expected",
    [
        ([], (None, None, [])),
        # positional (deprecated)
        ([["e", A]], (A, A, [])),
        ([["e", A], ["e", B]], (A, B, [])),
        ([["e", A, ""], ["e", C, ""], ["e", D, ""], ["e", B, ""]], (A, B, [C, D])),
        ([["e", C, "", "mention"]], (None, None, [C])),
        ([["e", A], ["e", C, "", "mention"], ["e", B]], (A, B, [C])),
        # marked (preferred)
        ([["e", A, "", "root"]], (A, A, [])),
        ([["e", A, "wss://r", "root"], ["e", B, "", "reply"]], (A, B, [])),
        ([["e", B, "", "reply"], ["e", A, "", "root"]], (A, B, [])),  # order does not matter
        ([["e", B, "", "reply"]], (B, B, [])),  # a lone reply marker: root and parent
        ([["e", A, "", "root"], ["e", C], ["e", D, "", ""], ["e", B, "", "reply"]], (A, B, [C, D])),
        ([["e", A, "", "root"], ["e", C, "", "mention"]], (A, A, [C])),
        # bad ids are skipped, not fatal
        ([["e", "not-hex"], ["e", A.upper()], ["e"], ["e", A]], (A, A, [])),
    ],
)
def test_parse(tags, expected):
    assert _ids(nip10.parse(tags)) == expected


def test_marked_tag_parts_and_p_tags():
    thread = nip10.parse([["e", A, "wss://relay.example.com", "root", P1], ["p", P1], ["p", P2], ["p", P1],
                          ["p", "bad"], ["e", B, "", "reply", "not-a-key"]])
    assert thread.root == nip10.EventRef(A, "wss://relay.example.com", "root", P1)
    assert thread.reply == nip10.EventRef(B, "", "reply", None)
    assert thread.pubkeys == (P1, P2)
    assert thread.is_reply


def test_sample_events(sample_event_lines):
    events = {ev.id[:10]: ev for ev in map(Event.from_json, sample_event_lines)}
    marked = nip10.thread_of(events["94354a4a07"])  # a single marked root
    assert marked.root.id.startswith("d44ad96c") and marked.reply == marked.root
    positional = nip10.thread_of(events["2e30a99ce2"])  # two positional e tags
    assert positional.root.id.startswith("d8638968") and positional.reply.id.startswith("5647aaa2")


def test_every_real_event_parses(real_event_lines):
    replies = 0
    for line in real_event_lines:
        ev = Event.from_json(line)
        thread = nip10.thread_of(ev)
        if ev.kind == 1 and thread.is_reply:
            replies += 1
            assert thread.root is not None
            ids = {r.id for r in (thread.root, thread.reply, *thread.mentions)}
            assert ids <= {t[1] for t in ev.tags if t[0] == "e"}
    assert replies > 400  # the corpus holds hundreds of kind-1 replies in both schemes


def _note(key: SecretKey, tags, content="hi") -> Event:
    return sign(EventTemplate(kind=1, content=content, tags=tags, created_at=1_700_000_000), key,
                aux_rand=bytes(32))


def test_reply_to_a_root_note():
    root = _note(ALICE, [["p", P1]])
    tags = nip10.reply_tags(root, relay_hint="wss://relay.example.com")
    assert tags == [["e", root.id, "wss://relay.example.com", "root", ALICE.public_key],
                    ["p", ALICE.public_key], ["p", P1]]
    thread = nip10.parse(tags)
    assert thread.root.id == thread.reply.id == root.id


def test_reply_to_a_reply_keeps_the_root_and_collects_p_tags():
    root = _note(ALICE, [])
    first = _note(BOB, nip10.reply_tags(root, relay_hint="wss://a"))
    second = nip10.reply_tags(first, relay_hint="wss://b", exclude_pubkeys=frozenset({CAROL.public_key}))
    assert second[:2] == [["e", root.id, "wss://a", "root", ALICE.public_key],
                          ["e", first.id, "wss://b", "reply", BOB.public_key]]
    assert second[2:] == [["p", BOB.public_key], ["p", ALICE.public_key]]
    thread = nip10.parse(second)
    assert (thread.root.id, thread.reply.id) == (root.id, first.id)


def test_reply_to_a_positional_reply_uses_its_root():
    parent = _note(BOB, [["e", A], ["e", C], ["e", B], ["p", CAROL.public_key]])
    tags = nip10.reply_tags(parent, exclude_pubkeys=frozenset({CAROL.public_key}))
    assert tags == [["e", A, "", "root"], ["e", parent.id, "", "reply", BOB.public_key],
                    ["p", BOB.public_key]]


def test_replying_to_another_kind_is_refused():
    reaction = sign(EventTemplate(kind=7, content="+", created_at=1), ALICE, aux_rand=bytes(32))
    with pytest.raises(ProtocolError, match="NIP-22"):
        nip10.reply_tags(reaction)


_VALUES = st.sampled_from([A, B, C, P1, "", "x", "root", "reply", "mention", "wss://r"]) | st.text(max_size=6)


_TAG = st.tuples(st.sampled_from(["e", "p", "q"]), st.lists(_VALUES, max_size=4)).map(lambda t: [t[0], *t[1]])


@settings(max_examples=300, deadline=None)
@given(st.lists(_TAG | st.lists(st.text(max_size=3), max_size=3), max_size=8))
def test_any_tags_parse_to_a_consistent_thread(tags):
    thread = nip10.parse(tags)
    e_ids = {t[1] for t in tags if len(t) >= 2 and t[0] == "e"}
    refs = [r for r in (thread.root, thread.reply, *thread.mentions) if r is not None]
    assert {r.id for r in refs} <= e_ids
    assert (thread.root is None) == (thread.reply is None)
    assert all(len(p) == 64 for p in thread.pubkeys)
