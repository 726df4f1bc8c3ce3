"""Signed test events made on the fly (deterministic keys and aux randomness), and bad copies of them."""

from __future__ import annotations

import hashlib

from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.keys import SecretKey


def secret(n: int = 1) -> SecretKey:
    return SecretKey(hashlib.sha256(f"pool-test-key-{n}".encode()).digest())


def make_event(i: int, *, key: int = 1, kind: int = 1, created_at: int = 1_700_000_000, content: str | None = None,
               tags: list[list[str]] | None = None) -> Event:
    template = EventTemplate(kind=kind, content=content if content is not None else f"note {i}",
                             tags=tags or [], created_at=created_at + i)
    return sign(template, secret(key), aux_rand=hashlib.sha256(b"aux%d" % i).digest())


def bad_sig(ev: Event) -> Event:
    """Same id, broken signature."""
    sig = ("0" if ev.sig[0] != "0" else "1") + ev.sig[1:]
    return Event(ev.id, ev.pubkey, ev.created_at, ev.kind, ev.tags, ev.content, sig)


def wrong_id(ev: Event) -> Event:
    """Same id field, altered content: the id no longer matches."""
    return Event(ev.id, ev.pubkey, ev.created_at, ev.kind, ev.tags, ev.content + "!", ev.sig)
