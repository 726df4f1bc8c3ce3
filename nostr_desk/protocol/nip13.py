"""NIP-13 proof of work: difficulty (leading zero bits of the id), the committed target, and mining.

`mine` is pure and bounded: it tries at most `max_tries` nonces and returns None when none reaches
the target, so callers decide how long to spend (in a worker thread, in slices).
"""

from __future__ import annotations

import hashlib

from .errors import Prefix, ProtocolError
from .event import Event, EventTemplate, canonical_bytes

NONCE_TAG = "nonce"


def leading_zero_bits(event_id: str | bytes) -> int:
    """Leading zero bits of an id given as hex text or raw bytes (256 for an all-zero id)."""
    raw = bytes.fromhex(event_id) if isinstance(event_id, str) else event_id
    value = int.from_bytes(raw, "big")
    return len(raw) * 8 - value.bit_length()


def difficulty(event: Event) -> int:
    return leading_zero_bits(event.id)


def committed_target(tags: list[list[str]]) -> int | None:
    """The target difficulty in the first `nonce` tag's third element, or None when absent or not a number."""
    for tag in tags:
        if len(tag) >= 1 and tag[0] == NONCE_TAG:
            if len(tag) >= 3 and tag[2].isascii() and tag[2].isdigit():
                return int(tag[2])
            return None
    return None


def check(event: Event, min_difficulty: int, *, require_commitment: bool = False) -> None:
    """Raise a `pow:` ProtocolError unless the event meets `min_difficulty`.

    A committed target below the minimum is refused even when the id is lucky enough (NIP-13: this
    stops spammers who aim low from getting through by chance).
    """
    if min_difficulty <= 0:
        return
    bits = difficulty(event)
    if bits < min_difficulty:
        raise ProtocolError(f"difficulty {bits} is less than {min_difficulty}", prefix=Prefix.POW,
                            event_id=event.id)
    target = committed_target(event.tags)
    if target is None and require_commitment:
        raise ProtocolError("missing committed target in the nonce tag", prefix=Prefix.POW, event_id=event.id)
    if target is not None and target < min_difficulty:
        raise ProtocolError(f"committed target {target} is less than {min_difficulty}", prefix=Prefix.POW,
                            event_id=event.id)


def mine(
    template: EventTemplate,
    pubkey: str,
    target: int,
    *,
    start_nonce: int = 0,
    max_tries: int = 1_000_000,
) -> EventTemplate | None:
    """A copy of `template` with a `["nonce", n, target]` tag whose id (for `pubkey`) has `target` bits.

    Tries nonces start_nonce .. start_nonce + max_tries - 1; returns None if none works, so a caller
    can continue from `start_nonce + max_tries`. Any existing nonce tag is replaced.
    """
    if not 0 <= target <= 256:
        raise ValueError("target difficulty must be between 0 and 256")
    base = [list(t) for t in template.tags if not (t and t[0] == NONCE_TAG)]
    committed = str(target)
    for nonce in range(start_nonce, start_nonce + max_tries):
        tags = [*base, [NONCE_TAG, str(nonce), committed]]
        data = canonical_bytes(pubkey, template.created_at, template.kind, tags, template.content)
        if leading_zero_bits(hashlib.sha256(data).digest()) >= target:
            return EventTemplate(kind=template.kind, content=template.content, tags=tags,
                                 created_at=template.created_at)
    return None
