"""NIP-10 threads: where a kind-1 note sits (root, direct parent, mentions, p tags) and reply tags.

Reading follows the two schemes of the NIP:
- marked (preferred): `["e", id, relay, "root"|"reply", pubkey]`. When any `e` tag carries one of these
  markers, the others (unmarked, "mention", or unknown markers) are mentions. A lone "root" means a
  direct reply to the root; a lone "reply" (common in older clients) is taken as both root and parent.
- positional (deprecated): no markers; one `e` = root and parent; several = first is root, last is
  the parent, the ones between are mentions. Tags marked "mention" never count as positions.
`e` tags whose id is not 64 lowercase hex are skipped: a bad reference is no reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ProtocolError
from .event import Event
from .keys import is_hex

ROOT, REPLY, MENTION = "root", "reply", "mention"


@dataclass(frozen=True)
class EventRef:
    id: str
    relay: str = ""
    marker: str | None = None
    pubkey: str | None = None  # the referenced event's author, when the tag names it


@dataclass(frozen=True)
class Thread:
    root: EventRef | None = None
    reply: EventRef | None = None        # the direct parent; the root itself for a top-level reply
    mentions: tuple[EventRef, ...] = ()
    pubkeys: tuple[str, ...] = ()        # `p` tags, in order, without duplicates

    @property
    def is_reply(self) -> bool:
        return self.reply is not None


def _ref(tag: list[str]) -> EventRef:
    relay = tag[2] if len(tag) > 2 else ""
    marker = tag[3] if len(tag) > 3 and tag[3] else None
    pubkey = tag[4] if len(tag) > 4 and is_hex(tag[4], 64) else None
    return EventRef(tag[1], relay, marker, pubkey)


def parse(tags: list[list[str]]) -> Thread:
    """Read the thread position from an event's tags (marked or positional `e` tags, and `p` tags)."""
    refs = [_ref(t) for t in tags if len(t) >= 2 and t[0] == "e" and is_hex(t[1], 64)]
    pubkeys = tuple(dict.fromkeys(t[1] for t in tags if len(t) >= 2 and t[0] == "p" and is_hex(t[1], 64)))
    if any(r.marker in (ROOT, REPLY) for r in refs):
        root = next((r for r in refs if r.marker == ROOT), None)
        reply = next((r for r in refs if r.marker == REPLY), None)
        mentions = tuple(r for r in refs if r is not root and r is not reply)
        return Thread(root or reply, reply or root, mentions, pubkeys)
    positional = [r for r in refs if r.marker != MENTION]
    mentions = [r for r in refs if r.marker == MENTION]
    if not positional:
        return Thread(None, None, tuple(mentions), pubkeys)
    root, reply = positional[0], positional[-1]
    between = list(positional[1:-1])
    return Thread(root, reply, tuple(between + mentions), pubkeys)


def thread_of(event: Event) -> Thread:
    return parse(event.tags)


def reply_tags(
    parent: Event, *, relay_hint: str = "", exclude_pubkeys: frozenset[str] = frozenset()
) -> list[list[str]]:
    """The `e` and `p` tags of a kind-1 reply to `parent`, in NIP-10's marked form.

    The root is the parent's root when the parent is itself a reply (its relay hint and author kept),
    else the parent. `p` tags: the parent's author, then the parent's own `p` tags, without duplicates
    and without `exclude_pubkeys` (usually the replying user).
    """
    if parent.kind != 1:
        raise ProtocolError(f"NIP-10 replies are for kind-1 notes; kind {parent.kind} needs a NIP-22 comment")
    above = thread_of(parent)
    tags: list[list[str]] = []
    if above.root is not None and above.root.id != parent.id:
        tags.append(_e_tag(above.root.id, above.root.relay, ROOT, above.root.pubkey))
        tags.append(_e_tag(parent.id, relay_hint, REPLY, parent.pubkey))
    else:
        tags.append(_e_tag(parent.id, relay_hint, ROOT, parent.pubkey))
    for pubkey in dict.fromkeys((parent.pubkey, *above.pubkeys)):
        if pubkey not in exclude_pubkeys:
            tags.append(["p", pubkey])
    return tags


def _e_tag(event_id: str, relay: str, marker: str, pubkey: str | None) -> list[str]:
    return ["e", event_id, relay, marker, pubkey] if pubkey else ["e", event_id, relay, marker]
