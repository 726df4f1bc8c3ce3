"""The embedded local relay: NIP-01 over websockets on one SQLite event store (see DESIGN.md).

Public surface: `LocalRelay` (start/stop/running/url/metrics/publish_local/notify_stored),
`RelayConfig`, `RateLimit`, `MetricsSnapshot`. Events that others write into the same store (the
app's pool, `nostr-desk post` / `import` in another process) reach live subscribers through the
relay's store tail (tail.py).
"""

from .config import RateLimit, RelayConfig
from .local import LocalRelay
from .metrics import MetricsSnapshot

__all__ = ["LocalRelay", "MetricsSnapshot", "RateLimit", "RelayConfig"]
