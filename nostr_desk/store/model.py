"""The store's value types: its configuration, the outcome of saving an event, and its statistics."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from nostr_desk.protocol.errors import Prefix


@dataclass(frozen=True)
class StoreConfig:
    path: Path
    max_limit: int = 5000  # cap applied to any filter's limit (and to limit-less queries)
    owner_pubkeys: frozenset[str] = frozenset()  # never evicted by retention
    max_batch: int = 2000  # most events the writer puts in one transaction
    max_queue: int = 20_000  # saves waiting for the writer before submit refuses with StoreBusy (~2 s of work)
    max_queue_bytes: int = 64 << 20  # ... or this much raw JSON waiting
    max_query_seconds: float = 10.0  # a read statement running longer is interrupted (StoreError)


class SaveOutcome(enum.Enum):
    SAVED = "saved"  # new event stored
    REPLACED = "replaced"  # stored, and an older replaceable/addressable version removed
    DUPLICATE = "duplicate"  # already have it
    STALE = "stale"  # a newer (or equal-time lower-id) version exists
    DELETED = "deleted"  # a NIP-09 deletion blocks it
    EPHEMERAL = "ephemeral"  # kinds 20000-29999: delivered live, never stored
    EXPIRED = "expired"  # NIP-40 expiration in the past


_ACCEPTED = frozenset({SaveOutcome.SAVED, SaveOutcome.REPLACED, SaveOutcome.DUPLICATE, SaveOutcome.EPHEMERAL})


@dataclass(frozen=True)
class SaveResult:
    outcome: SaveOutcome
    message: str = ""  # NIP-01 OK message with its prefix

    @property
    def accepted(self) -> bool:
        return self.outcome in _ACCEPTED


# One shared instance per outcome: the hot path allocates nothing for its answer.
SAVED = SaveResult(SaveOutcome.SAVED)
REPLACED = SaveResult(SaveOutcome.REPLACED)
EPHEMERAL = SaveResult(SaveOutcome.EPHEMERAL)
DUPLICATE = SaveResult(SaveOutcome.DUPLICATE, Prefix.DUPLICATE.message("already have this event"))
STALE = SaveResult(SaveOutcome.STALE, Prefix.INVALID.message("a newer version of this event is already stored"))
DELETED = SaveResult(SaveOutcome.DELETED, Prefix.BLOCKED.message("this event was deleted by its author"))
EXPIRED = SaveResult(SaveOutcome.EXPIRED, Prefix.INVALID.message("this event has expired"))


@dataclass(frozen=True)
class StoreStats:
    events: int
    db_bytes: int
    writer_queue: int = 0  # submissions waiting for the writer
    extra: dict[str, int] = field(default_factory=dict)
