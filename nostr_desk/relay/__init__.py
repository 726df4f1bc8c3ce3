"""The embedded local relay: NIP-01 over websockets on one SQLite event store (see DESIGN.md).

Public surface: `LocalRelay` (start/stop/url/metrics/publish_local/notify_stored), `RelayConfig`,
`RateLimit`, `MetricsSnapshot`.
"""

from .config import RateLimit, RelayConfig
from .local import LocalRelay
from .metrics import MetricsSnapshot

__all__ = ["LocalRelay", "MetricsSnapshot", "RateLimit", "RelayConfig"]
