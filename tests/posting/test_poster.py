"""Posting through real parts: a real signer, store, pool and local relays on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from nostr_desk.app.posting import PostingError, parse_event_ref
from nostr_desk.cache import CacheQueries, Projector
from nostr_desk.protocol import nip19, nip65
from nostr_desk.protocol.event import Event, EventTemplate
from nostr_desk.store import EventStore, StoreConfig

from .conftest import Relay, arun, make_poster, signer

ME = signer("me")
FRIEND = signer("friend")
OTHER = signer("other")


def _event(store: EventStore, event_id: str) -> Event:
    raw = store.get(event_id)
    assert raw is not None
    return Event.from_json(raw)


def test_note_is_stored_at_once_and_delivered_per_relay(tmp_path):
    async def go():
        a, b = await Relay(tmp_path / "a.db").start(), await Relay(tmp_path / "b.db").start()
        poster, store = make_poster(tmp_path, ME)
        try:
            posted = await poster.note("  hello nostr  ", [a.url, b.url])
            assert posted.event.content == "hello nostr" and posted.event.pubkey == ME.pubkey
            assert posted.event.verify()
            assert store.get(posted.event.id) is not None
            assert posted.delivery.summary() == "accepted by 2 of 2 relays"
            assert a.has(posted.event.id) and b.has(posted.event.id)
        finally:
            await poster.pool.close()
            store.close()
            await a.stop(); await b.stop()

    arun(go())


def test_one_relay_down_at_first_gets_it_when_back(tmp_path):
    async def go():
        up = await Relay(tmp_path / "up.db").start()
        down = Relay(tmp_path / "down.db")  # its port is chosen, nothing listens yet
        poster, store = make_poster(tmp_path, ME)
        try:
            posted = await poster.note("first try", [up.url, down.url])
            d = posted.delivery
            assert d.summary() == "accepted by 1 of 2 relays" and d.pending == [down.url]
            await down.start()
            for _ in range(50):
                d = await poster.push_pending(posted.event.id)
                if not d.pending:
                    break
            assert d.summary() == "accepted by 2 of 2 relays"
            assert down.has(posted.event.id)
        finally:
            await poster.pool.close()
            store.close()
            await up.stop(); await down.stop()

    arun(go())


def test_reply_tags_follow_nip10(tmp_path):
    async def go():
        poster, store = make_poster(tmp_path, ME)
        try:
            root = FRIEND.sign(EventTemplate(1, "root", [["p", OTHER.pubkey]], 100))
            await store.save(root)
            first = await poster.reply(nip19.encode_note(root.id), "first reply", [])
            assert first.delivery is None  # no relays named: stored, not published
            tags = first.event.tags
            assert ["e", root.id, "", "root", FRIEND.pubkey] in tags
            assert not any(t[0] == "e" and len(t) > 3 and t[3] == "reply" for t in tags)
            assert {t[1] for t in tags if t[0] == "p"} == {FRIEND.pubkey, OTHER.pubkey}
            # A reply to a reply: root stays the root, the parent is marked "reply", I am not p-tagged.
            theirs = OTHER.sign(EventTemplate(1, "answer", [["e", root.id, "", "root"], ["e", first.event.id, "", "reply"],
                                                            ["p", ME.pubkey], ["p", FRIEND.pubkey]], 200))
            await store.save(theirs)
            second = await poster.reply(theirs.id, "second reply", [])
            e_tags = [t for t in second.event.tags if t[0] == "e"]
            assert [t[1] for t in e_tags if t[3] == "root"] == [root.id]
            assert [t[1] for t in e_tags if t[3] == "reply"] == [theirs.id]
            assert {t[1] for t in second.event.tags if t[0] == "p"} == {OTHER.pubkey, FRIEND.pubkey}
            # The cache sees the thread the same way.
            conn = store.connect()
            Projector(store, conn).catch_up()
            tree = CacheQueries(store, conn).thread(second.event.id)
            conn.close()
            assert tree.id == root.id
            assert [c.note.content for c in tree.children] == ["first reply"]
            assert tree.children[0].children[0].children[0].note.content == "second reply"
        finally:
            await poster.pool.close()
            store.close()

    arun(go())


def test_reaction_repost_counted_by_the_cache(tmp_path):
    async def go():
        poster, store = make_poster(tmp_path, ME)
        try:
            note = FRIEND.sign(EventTemplate(1, "nice", [], 100))
            await store.save(note)
            like = await poster.react(note.id, "+", [])
            assert like.event.kind == 7 and ["p", FRIEND.pubkey] in like.event.tags and ["k", "1"] in like.event.tags
            assert like.event.tags[0][:2] == ["e", note.id]
            boost = await poster.repost(note.id, [])
            assert boost.event.kind == 6 and Event.from_json(boost.event.content) == note
            conn = store.connect()
            Projector(store, conn).catch_up()
            view = CacheQueries(store, conn).profile_notes(FRIEND.pubkey).items[0]
            conn.close()
            assert (view.reactions, view.reposts) == (1, 1)
        finally:
            await poster.pool.close()
            store.close()

    arun(go())


def test_delete_only_own_events(tmp_path):
    async def go():
        poster, store = make_poster(tmp_path, ME)
        try:
            mine = await poster.note("regret", [])
            theirs = FRIEND.sign(EventTemplate(1, "not yours", [], 100))
            await store.save(theirs)
            with pytest.raises(PostingError, match="only delete your own"):
                await poster.delete([theirs.id], relays=[])
            with pytest.raises(PostingError, match="not in the local store"):
                await poster.delete(["ab" * 32], relays=[])
            deletion = await poster.delete([mine.event.id], "typo", [])
            assert deletion.event.kind == 5 and ["e", mine.event.id] in deletion.event.tags
            assert store.get(mine.event.id) is None  # the store honours NIP-09 at once
            assert store.get(theirs.id) is not None
        finally:
            await poster.pool.close()
            store.close()

    arun(go())


def test_profile_update_merges_and_always_replaces(tmp_path):
    async def go():
        fixed = signer("profiled", clock=lambda: 1_700_000_000.0)  # same second every time
        poster, store = make_poster(tmp_path, fixed)
        poster.clock = lambda: 1_700_000_000.0
        try:
            one = await poster.update_profile({"name": "alice", "about": "hi", "lud16": "a@b.c"}, [])
            two = await poster.update_profile({"about": None, "picture": "https://x/p.png"}, [])
            assert two.event.created_at == one.event.created_at + 1
            assert json.loads(two.event.content) == {"name": "alice", "lud16": "a@b.c", "picture": "https://x/p.png"}
            assert store.get(one.event.id) is None and store.get(two.event.id) is not None
        finally:
            await poster.pool.close()
            store.close()

    arun(go())


def test_relay_list_sets_the_write_relays(tmp_path):
    async def go():
        a = await Relay(tmp_path / "a.db").start()
        poster, store = make_poster(tmp_path, ME)
        try:
            entries = [nip65.RelayEntry(a.url, read=False, write=True), nip65.RelayEntry("wss://read.example", True, False)]
            posted = await poster.set_relay_list(entries)
            assert posted.event.kind == 10002 and posted.delivery.accepted == 1 and a.has(posted.event.id)
            assert poster.write_relays() == [a.url]
            note = await poster.note("goes to my write relay")  # no relays named: the NIP-65 list decides
            assert note.delivery.summary() == "accepted by 1 of 1 relays" and a.has(note.event.id)
        finally:
            await poster.pool.close()
            store.close()
            await a.stop()

    arun(go())


def test_reply_to_a_note_only_a_relay_has(tmp_path):
    async def go():
        a = await Relay(tmp_path / "a.db").start()
        elsewhere = FRIEND.sign(EventTemplate(1, "far away", [], 100))
        a.store.save_many([elsewhere])
        poster, store = make_poster(tmp_path, ME)
        try:
            ref = nip19.encode_nevent(elsewhere.id, [a.url], FRIEND.pubkey)
            posted = await poster.reply(ref, "found you", [a.url])
            assert ["e", elsewhere.id, a.url, "root", FRIEND.pubkey] in posted.event.tags  # hint: where it came from
            assert posted.delivery.accepted == 1
        finally:
            await poster.pool.close()
            store.close()
            await a.stop()

    arun(go())


@pytest.mark.parametrize("bad", ["", "npub1xyz", "nsec1abc", "note1", "zz" * 32])
def test_bad_event_references_are_clear_errors(bad):
    with pytest.raises(PostingError):
        parse_event_ref(bad)


def test_empty_note_is_refused(tmp_path):
    async def go():
        poster, store = make_poster(tmp_path, ME)
        try:
            with pytest.raises(PostingError, match="empty"):
                await poster.note("   ", [])
        finally:
            await poster.pool.close()
            store.close()

    arun(go())


def test_store_path_is_a_real_file(tmp_path):
    store = EventStore.open(StoreConfig(path=tmp_path / "x.sqlite3"))
    store.close()
    assert (tmp_path / "x.sqlite3").exists()
