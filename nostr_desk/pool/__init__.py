"""The multi-relay pool: resilient reads and durable publishes across many relays, with per-relay health.

Public objects: `RelayPool` (pool.py), `PoolConfig` (config.py), the typed notices (notices.py),
`HealthSnapshot` (health.py), `PublishReport` (publisher.py) and `Subscription` (subscription.py).
Everything else is an implementation part.
"""

from .config import PoolConfig
from .health import HealthSnapshot
from .notices import EventReceived, HealthSample, Notice, NoticeHub, PublishResult, StatusChanged
from .pool import PoolClosed, PoolFull, RelayPool
from .publisher import PublishReport, RelayOutcome
from .subscription import Subscription

__all__ = [
    "EventReceived", "HealthSample", "HealthSnapshot", "Notice", "NoticeHub", "PoolClosed", "PoolConfig",
    "PoolFull", "PublishReport", "PublishResult", "RelayOutcome", "RelayPool", "StatusChanged", "Subscription",
]
