"""The one SQLite event store: schema, single batched writer, NIP-01 queries, retention, transfer.

Public surface (the team contract): `EventStore`, `StoreConfig`, `SaveOutcome`, `SaveResult`,
`StoreStats`; `StoreError`/`StoreClosed` for known failures.
"""

from .model import SaveOutcome, SaveResult, StoreConfig, StoreStats
from .sqlite import StoreClosed, StoreError
from .store import EventStore

__all__ = ["EventStore", "SaveOutcome", "SaveResult", "StoreClosed", "StoreConfig", "StoreError", "StoreStats"]
