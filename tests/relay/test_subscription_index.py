"""The live subscription index, checked against the naive `Filter.matches` (strfry's method):
hundreds of random filters installed, generated events replayed, matches compared with a full scan.
Also: removal leaves nothing behind, and a REQ replaced in place stops matching."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nostr_desk.protocol.event import Event
from nostr_desk.protocol.filters import Filter
from nostr_desk.relay.subscriptions import LiveSub, SubscriptionIndex

HEX = [c * 64 for c in "0123456789abcdef"]
IDS, PUBKEYS, VALUES = HEX[:6], HEX[6:11], ["x", "y", "z", HEX[0], HEX[7]]
KINDS = [0, 1, 3, 7, 30023]
TAG_NAMES = ["e", "p", "t", "d"]

events = st.builds(
    lambda id_, pk, ts, kind, tags, content: Event(id_, pk, ts, kind, tags, content, "0" * 128),
    st.sampled_from(IDS),
    st.sampled_from(PUBKEYS),
    st.integers(0, 20),
    st.sampled_from(KINDS),
    st.lists(
        st.one_of(
            st.tuples(st.sampled_from(TAG_NAMES), st.sampled_from(VALUES)).map(list),
            st.lists(st.sampled_from(VALUES + TAG_NAMES), max_size=1),  # 0- and 1-element tags
        ),
        max_size=4,
    ),
    st.sampled_from(["", "hello world", "Orange sky", "nostr"]),
)


def maybe(strategy):
    return st.one_of(st.none(), strategy)


filters = st.builds(
    Filter,
    ids=maybe(st.frozensets(st.sampled_from(IDS), max_size=3)),
    authors=maybe(st.frozensets(st.sampled_from(PUBKEYS), max_size=3)),
    kinds=maybe(st.frozensets(st.sampled_from(KINDS), max_size=3)),
    tags=st.dictionaries(st.sampled_from(TAG_NAMES), st.frozensets(st.sampled_from(VALUES), max_size=3), max_size=2),
    since=maybe(st.integers(0, 20)),
    until=maybe(st.integers(0, 20)),
    limit=maybe(st.integers(0, 5)),  # ignored for live matching
    search=maybe(st.sampled_from(["orange", "hello", "nostr extension:x"])),
)


def naive(subs: list[LiveSub], event: Event) -> set[int]:
    return {id(s) for s in subs if any(f.matches(event) for f in s.filters)}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(filters, min_size=1, max_size=3), min_size=1, max_size=40), st.lists(events, max_size=25))
def test_index_matches_full_scan(sub_filters, evs):
    index = SubscriptionIndex()
    subs = [LiveSub(None, f"s{i}", tuple(fs)) for i, fs in enumerate(sub_filters)]
    for s in subs:
        index.add(s)
    for ev in evs:
        hits = index.match(ev)
        assert len(hits) == len({id(s) for s in hits}), "a subscription matched twice"
        assert {id(s) for s in hits} == naive(subs, ev)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(filters, min_size=1, max_size=3), min_size=1, max_size=30), st.data())
def test_removal_leaves_the_index_consistent(sub_filters, data):
    index = SubscriptionIndex()
    subs = [LiveSub(None, f"s{i}", tuple(fs)) for i, fs in enumerate(sub_filters)]
    for s in subs:
        index.add(s)
    gone = data.draw(st.sets(st.sampled_from(range(len(subs)))))
    for i in gone:
        index.remove(subs[i])
        index.remove(subs[i])  # twice is harmless
    kept = [s for i, s in enumerate(subs) if i not in gone]
    assert len(index) == len(kept)
    for ev in data.draw(st.lists(events, max_size=15)):
        assert {id(s) for s in index.match(ev)} == naive(kept, ev)
    for s in kept:
        index.remove(s)
    assert len(index) == 0
    assert not (index._ids or index._authors or index._tags or index._kinds or index._all)


def test_hundreds_of_subscriptions_replayed_over_many_events():
    """A deterministic large case: 600 subscriptions, 400 events, every match equals a full scan."""
    import random

    rnd = random.Random(7)
    index = SubscriptionIndex()
    subs = []
    for i in range(600):
        f = _random_filter(rnd)
        subs.append(LiveSub(None, f"s{i}", (f,)))
        index.add(subs[-1])
    for _ in range(400):
        ev = Event(rnd.choice(IDS), rnd.choice(PUBKEYS), rnd.randint(0, 20), rnd.choice(KINDS),
                   [[rnd.choice(TAG_NAMES), rnd.choice(VALUES)] for _ in range(rnd.randint(0, 3))], "hello", "0" * 128)
        assert {id(s) for s in index.match(ev)} == naive(subs, ev)


def _random_filter(rnd) -> Filter:
    def pick(pool, p=0.4):
        return frozenset(rnd.sample(pool, rnd.randint(1, 2))) if rnd.random() < p else None

    tags = {rnd.choice(TAG_NAMES): frozenset(rnd.sample(VALUES, 2))} if rnd.random() < 0.3 else {}
    return Filter(ids=pick(IDS, 0.1), authors=pick(PUBKEYS), kinds=pick(KINDS), tags=tags,
                  since=rnd.choice([None, 5]), until=rnd.choice([None, 15]))
