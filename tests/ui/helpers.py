"""UI test helpers: a window over real services, and a fast pool config for relays on 127.0.0.1."""

from __future__ import annotations

from nostr_desk.pool.config import PoolConfig
from nostr_desk.ui.bridge import Bridge
from nostr_desk.ui.main_window import MainWindow


def fast_pool(**overrides) -> PoolConfig:
    base = dict(connect_timeout=2.0, eose_timeout=2.0, ok_timeout=2.0, nip11_timeout=2.0, auth_timeout=2.0,
                backoff_base=0.05, backoff_cap=0.3, backoff_http_floor=0.5, backoff_rejection_floor=0.4,
                rate_limit_pause=0.3, breaker_failure_threshold=50, breaker_open_seconds=1.0,
                ping_interval=0.5, outbox_retry_interval=1.0, auth_default="always")
    base.update(overrides)
    return PoolConfig(**base)


def open_window(qtbot, config, services, tick_ms: int = 200) -> MainWindow:
    bridge = Bridge(tick_ms=tick_ms)
    window = MainWindow(config, bridge)
    bridge.setParent(window)
    qtbot.addWidget(window, before_close_func=lambda _w: bridge.detach())
    window.show()
    bridge.attach_pool(services.pool) if services.pool is not None else None
    bridge.ready.emit(services)
    return window
