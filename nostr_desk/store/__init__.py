"""The one SQLite event store: schema, single batched writer, NIP-01 queries, retention, transfer.

Public surface (the team contract): `EventStore`, `StoreConfig`, `SaveOutcome`, `SaveResult`,
`StoreStats`; `StoreError`/`StoreClosed`/`StoreBusy` for known failures.
"""

from .model import SaveOutcome, SaveResult, StoreConfig, StoreStats
from .sqlite import StoreBusy, StoreClosed, StoreError
from .store import EventStore

__all__ = ["EventStore", "SaveOutcome", "SaveResult", "StoreBusy", "StoreClosed", "StoreConfig", "StoreError", "StoreStats"]
