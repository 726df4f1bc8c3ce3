"""Posting, headless: build the user's events, sign them locally, store them at once, publish durably.

`Poster` wires a signer (keys/signer.py: anything with `pubkey` and `sign(template) -> Event`), the
event store, and optionally the pool and the local relay. Every action:
1. builds a template (NIP-10 reply tags from protocol/nip10, NIP-65 lists from protocol/nip65),
2. signs it in-process (the secret never leaves the signer),
3. saves it in the local store (through the local relay when one runs, so its live subscribers see it),
4. hands it to the pool's durable outbox for the target relays: explicit ones, else the user's NIP-65
   write relays, else the pool's configured write relays.

`delivery(event_id)` reads every relay's state back from the outbox ("accepted by 3 of 5 relays"), and
`retry_undelivered()` resumes what an earlier run left: publishes no relay accepted yet (the pool's
`resume`) and publishes some relays accepted while others were down (the outbox stops at the first
acceptance; we want the note on every write relay the user chose).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from nostr_desk.protocol import nip10, nip19, nip65
from nostr_desk.protocol.errors import ProtocolError
from nostr_desk.protocol.event import Event, EventTemplate
from nostr_desk.protocol.filters import Filter
from nostr_desk.protocol.kinds import DELETION, METADATA, REACTION, RELAY_LIST, REPOST, TEXT_NOTE
from nostr_desk.store import EventStore, SaveResult
from nostr_desk.store import outbox as ob

MAX_NOTE_CHARS = 64 * 1024  # the local relay's content limit: a longer note would be refused anyway


class PostingError(RuntimeError):
    """An action that cannot be done (nothing to say, not your event, target not found); user-facing."""


class EventSigner(Protocol):
    @property
    def pubkey(self) -> str: ...

    def sign(self, template: EventTemplate) -> Event: ...


@dataclass(frozen=True)
class RelayDelivery:
    url: str
    state: str  # pending | accepted | rejected | gave_up
    message: str
    attempts: int


@dataclass(frozen=True)
class Delivery:
    """Per-relay delivery of one event, as the durable outbox records it."""

    event_id: str
    relays: tuple[RelayDelivery, ...]

    @property
    def accepted(self) -> int:
        return sum(r.state == ob.RELAY_ACCEPTED for r in self.relays)

    @property
    def pending(self) -> list[str]:
        return [r.url for r in self.relays if r.state == ob.RELAY_PENDING]

    # The read side of the pool's `PublishReport`, so code written against it keeps working.
    @property
    def outcomes(self) -> tuple[RelayDelivery, ...]:
        return self.relays

    @property
    def tried(self) -> int:
        return len(self.relays)

    @property
    def delivered(self) -> bool:
        return self.accepted > 0

    def summary(self) -> str:
        return f"accepted by {self.accepted} of {len(self.relays)} relays"


@dataclass(frozen=True)
class Posted:
    event: Event
    saved: SaveResult
    delivery: Delivery | None  # None when nothing was published (no pool, or no relay to send to)


class Poster:
    def __init__(self, signer: EventSigner, store: EventStore, pool: Any = None, *, local_relay: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.signer = signer
        self.store = store
        self.pool = pool
        self.local_relay = local_relay
        self.clock = clock

    @property
    def me(self) -> str:
        return self.signer.pubkey

    # --- the actions -----------------------------------------------------------------------------
    async def note(self, text: str, relays: Sequence[str] | None = None) -> Posted:
        return await self.send(EventTemplate(TEXT_NOTE, _text(text), [], self._now()), relays)

    async def reply(self, parent: Event | str, text: str, relays: Sequence[str] | None = None) -> Posted:
        """A kind-1 reply with NIP-10 marked `e` tags (root, reply) and the thread's `p` tags."""
        parent_event, hint = await self._target(parent)
        try:
            tags = nip10.reply_tags(parent_event, relay_hint=hint, exclude_pubkeys=frozenset({self.me}))
        except ProtocolError as exc:
            raise PostingError(str(exc)) from None
        return await self.send(EventTemplate(TEXT_NOTE, _text(text), tags, self._now()), relays)

    async def react(self, target: Event | str, content: str = "+", relays: Sequence[str] | None = None) -> Posted:
        """NIP-25: `e` (with relay hint and author) and `p` of the target, and its kind in `k`."""
        ev, hint = await self._target(target)
        tags = [["e", ev.id, hint, ev.pubkey], ["p", ev.pubkey], ["k", str(ev.kind)]]
        return await self.send(EventTemplate(REACTION, content, tags, self._now()), relays)

    async def repost(self, target: Event | str, relays: Sequence[str] | None = None) -> Posted:
        """NIP-18 kind 6 of a kind-1 note: the note's JSON as content, `e` with a relay URL, `p`."""
        ev, hint = await self._target(target)
        if ev.kind != TEXT_NOTE:
            raise PostingError(f"kind 6 reposts are for kind-1 notes; this is kind {ev.kind}")
        tags = [["e", ev.id, hint], ["p", ev.pubkey]]
        return await self.send(EventTemplate(REPOST, ev.to_json(), tags, self._now()), relays)

    async def delete(self, targets: Iterable[Event | str], reason: str = "",
                     relays: Sequence[str] | None = None) -> Posted:
        """NIP-09 deletion request for the user's own events (each must be in the local store)."""
        events = [await self._local(t) if isinstance(t, str) else t for t in targets]
        if not events:
            raise PostingError("name at least one event to delete")
        foreign = [e.id for e in events if e.pubkey != self.me]
        if foreign:
            raise PostingError(f"you can only delete your own events; not yours: {', '.join(foreign)}")
        tags = [["e", e.id] for e in events] + [["k", str(k)] for k in sorted({e.kind for e in events})]
        return await self.send(EventTemplate(DELETION, reason, tags, self._now()), relays)

    async def update_profile(self, changes: dict[str, str | None], relays: Sequence[str] | None = None) -> Posted:
        """Kind 0 merged with the current one: fields not named are kept, a None value removes one."""
        current = self._current(METADATA)
        meta: dict[str, Any] = {}
        if current is not None:
            try:
                loaded = json.loads(current.content)
                meta = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                meta = {}
        for key, value in changes.items():
            if value is None:
                meta.pop(key, None)
            else:
                meta[key] = value
        content = json.dumps(meta, ensure_ascii=False, separators=(",", ":"))
        return await self.send(EventTemplate(METADATA, content, [], self._after(current)), relays)

    async def set_relay_list(self, entries: list[nip65.RelayEntry], relays: Sequence[str] | None = None) -> Posted:
        """Kind 10002. Published to the old write relays and the new ones, so both sides learn of it."""
        if not entries:
            raise PostingError("a relay list needs at least one relay")
        current = self._current(RELAY_LIST)
        template = nip65.template(entries, self._after(current))
        if relays is None:
            relays = list(dict.fromkeys([*self.write_relays(), *nip65.write_relays(entries)]))
        return await self.send(template, relays)

    # --- sign, store, publish ----------------------------------------------------------------------
    async def send(self, template: EventTemplate, relays: Sequence[str] | None = None) -> Posted:
        event = self.signer.sign(template)
        if self.local_relay is not None:
            saved = await self.local_relay.publish_local(event)
        else:
            saved = await self.store.save(event)
        if not saved.accepted:
            raise PostingError(f"the local store refused it: {saved.message or saved.outcome.value}")
        targets = list(relays) if relays is not None else self.write_relays()
        if self.pool is None or not targets:
            return Posted(event, saved, None)
        await self.pool.publish(event, targets)
        return Posted(event, saved, await self.delivery(event.id))

    def write_relays(self) -> list[str]:
        """The user's NIP-65 write relays from the store, else the pool's configured write relays."""
        current = self._current(RELAY_LIST)
        if current is not None:
            urls = nip65.write_relays(nip65.parse_tags(current.tags))
            if urls:
                return urls
        return list(getattr(self.pool, "write_relays", []) or [])

    async def delivery(self, event_id: str) -> Delivery:
        return _delivery(event_id, await asyncio.to_thread(self._read_entry, event_id))

    async def push_pending(self, event_id: str) -> Delivery:
        """One more round to the relays that have not accepted `event_id` yet (the signed event is
        taken from the outbox, which keeps it even if the local copy was since deleted)."""
        entry = await asyncio.to_thread(self._read_entry, event_id)
        delivery = _delivery(event_id, entry)
        if self.pool is not None and entry is not None and delivery.pending:
            await self.pool.publish(Event.from_json(entry.raw), delivery.pending)
            delivery = await self.delivery(event_id)
        return delivery

    async def retry_undelivered(self, max_age: float = 7 * 86_400) -> list[Delivery]:
        """Resume the outbox now (the user asked): publishes no relay took yet, and relays still pending
        for delivered ones. The pool's backoff schedule is for background retries, not for this."""
        if self.pool is None:
            return []
        resumed = [await self.delivery(r.event_id) for r in await self.pool.resume(force=True)]
        since = int(self.clock() - max_age)
        ids = await asyncio.to_thread(self._partly_delivered, since)
        latest = {d.event_id: d for d in resumed}
        for event_id in ids:  # includes resumed ones that reached some relays but not all
            latest[event_id] = await self.push_pending(event_id)
        return list(latest.values())

    # --- lookups ---------------------------------------------------------------------------------
    async def find(self, ref: str) -> Event:
        """An event by hex id, note1… or nevent1…: from the store, else fetched through the pool
        (the nevent's relay hints and its author's write relays)."""
        event_id, hints, author = parse_event_ref(ref)
        raw = self.store.get(event_id)
        if raw is not None:
            return Event.from_json(raw)
        if self.pool is not None:
            flt = Filter(ids=frozenset({event_id}), authors=frozenset({author}) if author else None, limit=1)
            found = await self.pool.fetch([flt], relays=list(hints) or None)
            for event in found:
                if event.id == event_id:
                    return event
        raise PostingError(f"event {event_id} is not in the local store and no relay had it")

    async def _target(self, target: Event | str) -> tuple[Event, str]:
        """The event and a relay hint for tags: where the store saw it, else the reference's first hint."""
        event = await self.find(target) if isinstance(target, str) else target
        hint = self._hint(event.id)
        if not hint and isinstance(target, str):
            hints = parse_event_ref(target)[1]
            hint = hints[0] if hints else ""
        return event, hint

    async def _local(self, ref: str) -> Event:
        event_id, _, _ = parse_event_ref(ref)
        raw = self.store.get(event_id)
        if raw is None:
            raise PostingError(f"event {event_id} is not in the local store: only events known here can be deleted")
        return Event.from_json(raw)

    def _current(self, kind: int) -> Event | None:
        raws = self.store.query([Filter(authors=frozenset({self.me}), kinds=frozenset({kind}), limit=1)],
                                now=self._now())
        return Event.from_json(raws[0]) if raws else None

    def _hint(self, event_id: str) -> str:
        """A relay that had the event (provenance), for the tag's relay-hint slot."""
        sources = self.store.relays_of(event_id) if hasattr(self.store, "relays_of") else []
        return sources[0][0] if sources else ""

    def _after(self, current: Event | None) -> int:
        # A replaceable event must be newer than the one it replaces, even within the same second.
        now = self._now()
        return now if current is None or current.created_at < now else current.created_at + 1

    def _now(self) -> int:
        return int(self.clock())

    def _read_entry(self, event_id: str) -> ob.OutboxEntry | None:
        conn = self.store.connect()
        try:
            return ob.entry(conn, event_id)
        finally:
            conn.close()

    def _partly_delivered(self, since: int) -> list[str]:
        conn = self.store.connect()
        try:
            rows = conn.execute(
                "SELECT DISTINCT o.event_id FROM outbox o JOIN outbox_relays r ON r.event_id = o.event_id"
                " WHERE o.state = 'delivered' AND r.state = 'pending' AND o.queued_at >= ? ORDER BY o.queued_at",
                (since,),
            )
            return [r[0] for r in rows]
        finally:
            conn.close()


def _delivery(event_id: str, entry: ob.OutboxEntry | None) -> Delivery:
    relays = () if entry is None else tuple(
        RelayDelivery(r.relay, r.state, r.last_message, r.attempts) for r in entry.relays
    )
    return Delivery(event_id, relays)


def parse_event_ref(ref: str) -> tuple[str, tuple[str, ...], str | None]:
    """(event id, relay hints, author) of a hex id, `note1…`, `nevent1…` (a `nostr:` prefix is fine)."""
    text = ref.strip().removeprefix("nostr:")
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return text, (), None
    try:
        value = nip19.decode(text)
    except ProtocolError as exc:
        raise PostingError(f"not an event reference ({exc.reason}): give a note1…, nevent1… or hex id") from None
    if isinstance(value, nip19.Note):
        return value.id, (), None
    if isinstance(value, nip19.Nevent):
        return value.id, tuple(value.relays), value.author
    raise PostingError(f"{type(value).__name__.lower()} is not an event reference: give a note1… or nevent1…")


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise PostingError("nothing to post: the text is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise PostingError(f"notes are limited to {MAX_NOTE_CHARS:,} characters")
    return text

