"""De-duplication before verification: frame slicing, seen ids, bad copies never mark an id seen."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings, strategies as st

from nostr_desk.pool.dedup import Deduplicator, split_event_frame, split_event_frame_slow
from nostr_desk.protocol.messages import encode_event_frame

from .events import bad_sig, make_event, wrong_id


def test_split_compact_frame_without_parsing():
    ev = make_event(1)
    frame = encode_event_frame("sub-1", ev.to_bytes())
    assert split_event_frame(frame) == ("sub-1", ev.to_bytes())


def test_unusual_frames_fall_back_to_the_slow_splitter():
    ev = make_event(2)
    spaced = b'[ "EVENT", "s\\"x", ' + ev.to_bytes() + b" ]"
    assert split_event_frame(spaced) is None
    assert split_event_frame_slow(spaced) == ('s"x', ev.to_bytes())
    assert split_event_frame(b'["EOSE","x"]') is None
    assert split_event_frame_slow(b'["EOSE","x"]') is None
    assert split_event_frame_slow(b"not json") is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_splitters_never_crash(data):
    for fn in (split_event_frame, split_event_frame_slow):
        out = fn(data)
        assert out is None or isinstance(out[0], str)


def test_duplicate_costs_no_verification():
    d = Deduplicator()
    ev = make_event(3)
    assert d.offer("ws://a", "s", ev.to_bytes())
    good, bad = d.verify_now()
    assert [v.event.id for v in good] == [ev.id] and bad == []
    assert not d.offer("ws://b", "s", ev.to_bytes())
    assert d.duplicates == 1 and d.pending == 0


def test_bad_copy_first_then_good_copy_from_another_relay():
    d = Deduplicator()
    ev = make_event(4)
    assert d.offer("ws://evil", "s", bad_sig(ev).to_bytes())
    good, bad = d.verify_now()
    assert good == [] and [v.url for v in bad] == ["ws://evil"]
    assert "signature" in bad[0].error
    assert ev.id not in d.seen
    assert d.offer("ws://good", "s", ev.to_bytes())
    good, bad = d.verify_now()
    assert [v.url for v in good] == ["ws://good"]


def test_spare_copy_in_same_batch_rescues_a_bad_first_copy():
    d = Deduplicator()
    ev = make_event(5)
    d.offer("ws://evil", "s", wrong_id(ev).to_bytes())
    assert not d.offer("ws://good", "s", ev.to_bytes())   # waits as a spare, not verified yet
    d.offer("ws://third", "s", ev.to_bytes())
    good, bad = d.verify_now()
    assert [v.url for v in good] == ["ws://good"] and [v.url for v in bad] == ["ws://evil"]
    assert d.duplicates == 1


def test_large_batches_verify_in_a_thread_and_agree():
    async def go():
        d = Deduplicator(offload_at=4)
        evs = [make_event(i) for i in range(10)]
        for e in evs:
            d.offer("ws://a", "s", e.to_bytes())
        d.offer("ws://b", "s", bad_sig(make_event(99)).to_bytes())
        good, bad = await d.verify_pending()
        assert {v.event.id for v in good} == {e.id for e in evs} and len(bad) == 1
    asyncio.run(go())


def test_crafted_id_peek_mismatch_is_rejected():
    ev = make_event(6)
    other = make_event(7)
    # An event whose first "id" key holds another id: peek sees `other.id`, the parser the last key.
    raw = b'{"id":"' + other.id.encode() + b'",' + ev.to_bytes()[1:]
    d = Deduplicator()
    d.offer("ws://x", "s", raw)
    good, bad = d.verify_now()
    assert good == [] and len(bad) == 1
    assert other.id not in d.seen and ev.id not in d.seen


def test_seen_is_bounded():
    d = Deduplicator(capacity=3)
    for i in range(5):
        d.offer("u", "s", make_event(i).to_bytes())
    d.verify_now()
    assert len(d.seen) == 3 and make_event(4).id in d.seen and make_event(0).id not in d.seen


def test_copies_arriving_during_a_threaded_verify_are_not_verified_twice():
    async def go():
        d = Deduplicator(offload_at=1)
        evs = [make_event(i) for i in range(40)]
        for e in evs:
            d.offer("ws://a", "s", e.to_bytes())
        verifying = asyncio.ensure_future(d.verify_pending())
        await asyncio.sleep(0)                      # the batch is now in the worker thread
        assert d.pending == 0
        late = [d.offer("ws://b", "s", e.to_bytes()) for e in evs]
        assert late == [False] * 40                 # spares of ids in flight, not new work
        good, bad = await verifying
        assert len(good) == 40 and bad == [] and d.duplicates == 40 and d.pending == 0
    asyncio.run(go())


def test_spares_are_named_as_sources_only_once_their_id_verifies():
    d = Deduplicator()
    good_ev, bad_ev = make_event(8), make_event(9)
    d.offer("ws://a", "s", good_ev.to_bytes())
    assert not d.offer("ws://b", "s", good_ev.to_bytes()) and not d.last_seen   # a spare, not yet known good
    d.offer("ws://a", "s", bad_sig(bad_ev).to_bytes())
    d.offer("ws://b", "s", bad_sig(bad_ev).to_bytes())
    good, bad = d.verify_now()
    assert [(v.url, v.also) for v in good] == [("ws://a", ["ws://b"])]
    assert len(bad) == 2
    assert not d.offer("ws://c", "s", good_ev.to_bytes()) and d.last_seen
