"""Read models over generated signed events: cursor paging, names, counts, threads, notifications, search."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nostr_desk.cache.queries import build_tree
from nostr_desk.cache.projections import thread_links
from nostr_desk.cache.views import Cursor, NoteView
from nostr_desk.protocol.errors import ProtocolError

from .conftest import NOW, key, make

ME = key("me")
FRIENDS = [key(f"friend{i}") for i in range(3)]
STRANGER = key("stranger")


def _timeline_events():
    rng = random.Random(7)
    events = [make(ME, 3, "", [["p", f.public_key] for f in FRIENDS])]
    events += [make(f, 0, '{"name": "friend %d", "display_name": "Friend %d"}' % (i, i)) for i, f in enumerate(FRIENDS)]
    # Few distinct timestamps, so many notes tie on created_at and the id decides the order.
    for i in range(90):
        author = rng.choice([ME, STRANGER, *FRIENDS])
        events.append(make(author, 1, f"note {i}", at=1_000 + rng.randrange(12)))
    return events


@pytest.fixture(params=["sparse", "dense"])
def plan(request, monkeypatch):
    """Run home-timeline tests through both plans: per-author merge and the time-index walk."""
    monkeypatch.setattr("nostr_desk.cache.queries.SPARSE_FOLLOWS", 1000 if request.param == "sparse" else 0)
    return request.param


def test_home_pages_return_every_note_once_in_order(store, projector, queries, plan):
    events = _timeline_events()
    store.save_many(events, now=NOW)
    projector.catch_up()
    wanted = {ME.public_key, *(f.public_key for f in FRIENDS)}
    expected = [e.id for e in sorted(events, key=lambda e: (-e.created_at, e.id)) if e.kind == 1 and e.pubkey in wanted]
    assert len(expected) > 50
    for size in (1, 7, 50):
        seen, cursor, pages = [], None, 0
        while True:
            page = queries.home(ME.public_key, cursor, limit=size)
            seen += [n.id for n in page.items]
            pages += 1
            if page.next is None:
                break
            cursor = Cursor.decode(page.next.encode())  # the UI keeps cursors as text
            assert pages < 200
        assert seen == expected


def test_home_shows_author_names_and_bodies(store, projector, queries, plan):
    store.save_many(_timeline_events(), now=NOW)
    projector.catch_up()
    page = queries.home(ME.public_key, limit=50)
    names = {n.author_name for n in page.items if n.pubkey != ME.public_key}
    assert names <= {"Friend 0", "Friend 1", "Friend 2"} and names
    mine = [n for n in page.items if n.pubkey == ME.public_key]
    assert mine and all(n.author_name.startswith("npub1") for n in mine)
    assert all(n.content.startswith("note ") for n in page.items)


def test_profile_notes_page_by_cursor(store, projector, queries):
    events = _timeline_events()
    store.save_many(events, now=NOW)
    projector.catch_up()
    author = FRIENDS[1].public_key
    expected = [e.id for e in sorted(events, key=lambda e: (-e.created_at, e.id)) if e.kind == 1 and e.pubkey == author]
    seen, cursor = [], None
    for _ in range(100):
        page = queries.profile_notes(author, cursor, limit=3)
        seen += [n.id for n in page.items]
        if (cursor := page.next) is None:
            break
    assert seen == expected


def test_a_note_arriving_while_paging_does_not_shift_pages(store, projector, queries, plan):
    events = _timeline_events()
    store.save_many(events, now=NOW)
    projector.catch_up()
    first = queries.home(ME.public_key, limit=10)
    store.save_many([make(FRIENDS[0], 1, "brand new", at=5_000)], now=NOW)
    projector.catch_up()
    second = queries.home(ME.public_key, first.next, limit=10)
    wanted = {ME.public_key, *(f.public_key for f in FRIENDS)}
    expected = [e.id for e in sorted(events, key=lambda e: (-e.created_at, e.id)) if e.kind == 1 and e.pubkey in wanted]
    assert [n.id for n in first.items + second.items] == expected[:20]


def test_bad_cursor_text_is_a_typed_error():
    for bad in ("", "x:y", "12:" + "g" * 64, "-1:" + "a" * 64):
        with pytest.raises(ProtocolError):
            Cursor.decode(bad)


# --- threads -------------------------------------------------------------------------------------


def _thread():
    """root <- a <- b ; root <- c (positional) ; d replies to a missing note in the same thread."""
    root = make(FRIENDS[0], 1, "root", at=100)
    a = make(ME, 1, "a", [["e", root.id, "", "root"], ["p", FRIENDS[0].public_key]], at=101)
    b = make(FRIENDS[1], 1, "b", [["e", root.id, "", "root"], ["e", a.id, "", "reply"], ["p", ME.public_key]], at=102)
    c = make(FRIENDS[2], 1, "c", [["e", root.id]], at=103)
    d = make(STRANGER, 1, "d", [["e", root.id, "", "root"], ["e", "f" * 64, "", "reply"]], at=104)
    mention = make(STRANGER, 1, "quotes b", [["e", b.id, "", "mention"]], at=105)
    return root, a, b, c, d, mention


def _shape(node):
    return (node.note.content if node.note else None, [_shape(c) for c in node.children])


def test_thread_is_a_tree_from_any_member(store, projector, queries):
    events = _thread()
    store.save_many(events, now=NOW)
    projector.catch_up()
    expected = ("root", [("a", [("b", [])]), ("c", []), ("d", [])])
    for member in events[:5]:
        assert _shape(queries.thread(member.id)) == expected
    assert _shape(queries.thread(events[5].id)) == ("quotes b", [])


def test_thread_counts_replies_reactions_reposts(store, projector, queries):
    root, a, b, c, d, _ = _thread()
    like = make(STRANGER, 7, "+", [["e", root.id], ["p", root.pubkey]], at=200)
    boost = make(ME, 6, "", [["e", root.id, "wss://x"], ["p", root.pubkey]], at=201)
    store.save_many([root, a, b, c, d, like, boost], now=NOW)
    projector.catch_up()
    top = queries.thread(root.id).note
    # a and c reply to the root; d names a missing parent, so it counts there, not here
    assert (top.replies, top.reactions, top.reposts) == (2, 1, 1)


def test_thread_with_a_missing_root_still_builds(store, projector, queries):
    _, a, b, *_ = _thread()
    store.save_many([a, b], now=NOW)
    projector.catch_up()
    tree = queries.thread(b.id)
    assert tree.note is None and _shape(tree) == (None, [("a", [("b", [])])])


def _view(nid: str, parent: str | None, at: int) -> NoteView:
    return NoteView(nid, "p", at, nid, [], "n", None, "r", parent, 0, 0, 0)


def test_forged_parent_cycles_cannot_lose_or_loop_nodes():
    views = [_view("r", None, 0), _view("x", "y", 1), _view("y", "x", 2)]
    tree = build_tree("r", views)
    assert tree.size() == 3


# --- notifications and search -----------------------------------------------------------------


def test_notifications_cover_mentions_replies_reactions_reposts(store, projector, queries):
    mine = make(ME, 1, "my note", at=100)
    reply = make(FRIENDS[0], 1, "reply to you", [["e", mine.id, "", "root"]], at=101)  # no p tag
    like = make(FRIENDS[1], 7, "+", [["e", mine.id]], at=102)  # no p tag either
    boost = make(STRANGER, 6, "", [["e", mine.id], ["p", ME.public_key]], at=103)
    shout = make(STRANGER, 1, "hi @me", [["p", ME.public_key]], at=104)
    own = make(ME, 7, "+", [["e", mine.id], ["p", ME.public_key]], at=105)  # my own: not a notification
    unrelated = make(STRANGER, 1, "other", at=106)
    store.save_many([mine, reply, like, boost, shout, own, unrelated], now=NOW)
    projector.catch_up()
    page = queries.notifications(ME.public_key, limit=10)
    got = [(n.kind, n.event_id, n.target_id) for n in page.items]
    assert got == [
        ("mention", shout.id, None),
        ("repost", boost.id, mine.id),
        ("reaction", like.id, mine.id),
        ("reply", reply.id, mine.id),
    ]
    assert page.next is None
    first = queries.notifications(ME.public_key, limit=3)
    rest = queries.notifications(ME.public_key, first.next, limit=3)
    assert [n.event_id for n in first.items + rest.items] == [g[1] for g in got]


def test_search_pages_through_matching_notes(store, projector, queries):
    hits = [make(FRIENDS[0], 1, f"bitcoin price {i}", at=100 + i // 3) for i in range(12)]
    misses = [make(FRIENDS[0], 1, f"weather {i}", at=100 + i) for i in range(5)]
    store.save_many(hits + misses, now=NOW)
    projector.catch_up()
    seen, cursor = [], None
    for _ in range(20):
        page = queries.search("bitcoin", cursor, limit=5)
        seen += [n.id for n in page.items]
        if (cursor := page.next) is None:
            break
    assert seen == [e.id for e in sorted(hits, key=lambda e: (-e.created_at, e.id))]
    assert all(n.author_name for n in queries.search("bitcoin").items)


# --- NIP-10 links as the cache stores them (protocol/nip10 does the reading) ---------------------------------------------------------------------------

R, P, M = "a" * 64, "b" * 64, "c" * 64


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([], (None, None)),
        ([["e", R]], (R, R)),
        ([["e", R], ["e", P]], (R, P)),
        ([["e", R], ["e", M], ["e", P]], (R, P)),
        ([["e", R, "", "root"]], (R, R)),
        ([["e", P, "", "reply"]], (P, P)),
        ([["e", P, "", "reply"], ["e", R, "wss://r", "root"]], (R, P)),
        ([["e", M, "", "mention"]], (None, None)),
        ([["e", M, "", "mention"], ["e", R]], (R, R)),
        ([["e", M, "", "mention"], ["e", R, "", "root"], ["e", P, "", "reply"]], (R, P)),
        ([["e", "not-hex"], ["e", R]], (R, R)),
        ([["p", R], ["q", P]], (None, None)),
    ],
)
def test_thread_links(tags, expected):
    assert thread_links(tags) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(["e", "p", R, P, "", "root", "reply", "mention", "x"]), max_size=5), max_size=8))
def test_thread_links_never_crash_and_return_tagged_ids(tags):
    root, reply = thread_links(tags)
    ids = {t[1] for t in tags if len(t) > 1 and t[0] == "e"}
    assert root is None or root in ids
    assert reply is None or reply in ids


# --- hot queries stay index-backed --------------------------------------------------------------


def _plans(queries, call) -> list[str]:
    """EXPLAIN QUERY PLAN of every cache statement `call` runs (the trace gives them with values bound)."""
    seen: list[str] = []
    queries.conn.set_trace_callback(seen.append)
    try:
        call()
    finally:
        queries.conn.set_trace_callback(None)
    plans = []
    for sql in seen:
        if "cache_" in sql and sql.lstrip().upper().startswith("SELECT"):
            plans.append("\n".join(r[3] for r in queries.conn.execute("EXPLAIN QUERY PLAN " + sql)))
    assert plans
    return plans


def _full_scans(plan: str) -> list[str]:
    return [ln for ln in plan.splitlines() if ln.startswith("SCAN") and "INDEX" not in ln and "CONSTANT ROW" not in ln]


@pytest.mark.parametrize("which", ["home", "profile", "thread", "notifications"])
def test_hot_queries_use_indexes(store, projector, queries, plan, which):
    store.save_many(_timeline_events() + list(_thread()), now=NOW)
    projector.catch_up()
    root = _thread()[0]
    calls = {
        "home": lambda: queries.home(ME.public_key, Cursor(1_005, "0" * 64)),
        "profile": lambda: queries.profile_notes(FRIENDS[0].public_key, Cursor(1_005, "0" * 64)),
        "thread": lambda: queries.thread(root.id),
        "notifications": lambda: queries.notifications(ME.public_key),
    }
    for text in _plans(queries, calls[which]):
        # m and u are the small merged page-sized results of the sparse home and notifications plans.
        scans = [s for s in _full_scans(text) if not s.startswith(("SCAN m", "SCAN u", "SCAN (subquery"))]
        assert not scans, text
        if which in ("home", "profile") and plan == "dense":
            assert "TEMP B-TREE FOR ORDER BY" not in text, text  # the index gives NIP-01 order: no sort


def test_notifications_page_through_many_mixed_sources_exactly_once(store, projector, queries):
    rng = random.Random(11)
    mine = [make(ME, 1, f"mine {i}", at=100 + i) for i in range(4)]
    events, expected = list(mine), {}
    for i in range(70):
        who = rng.choice([STRANGER, *FRIENDS])
        target = rng.choice(mine)
        at = 200 + rng.randrange(8)  # many ties: the id decides
        p_me = [["p", ME.public_key]] if rng.random() < 0.5 else []  # both routes at once, often
        kind = rng.choice([1, 1, 7, 6, 0])
        if kind == 0:  # a plain mention, no target
            ev = make(who, 1, f"hey {i}", [["p", ME.public_key]], at=at)
        elif kind == 1:
            ev = make(who, 1, f"re {i}", [["e", target.id, "", "root"], *p_me], at=at)
        else:
            ev = make(who, kind, "+" if kind == 7 else "", [["e", target.id], *p_me], at=at)
        events.append(ev)
        expected[ev.id] = ev
    store.save_many(events, now=NOW)
    projector.catch_up()
    order = [e.id for e in sorted(expected.values(), key=lambda e: (-e.created_at, e.id))]
    seen, cursor = [], None
    for _ in range(100):
        page = queries.notifications(ME.public_key, cursor, limit=4)
        seen += [n.event_id for n in page.items]
        if (cursor := page.next) is None:
            break
    assert seen == order
