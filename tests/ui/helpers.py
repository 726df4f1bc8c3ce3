"""UI test helpers: a window over real services, and a fast pool config for relays on 127.0.0.1."""

from __future__ import annotations

from nostr_desk.pool.config import PoolConfig
from nostr_desk.ui.bridge import Bridge
from nostr_desk.ui.main_window import MainWindow
from tests.pool.helpers import fast_config


def fast_pool(**overrides) -> PoolConfig:
    """The pool tests' quick timeouts, with pings and a slower retry tick so the window has RTTs to show."""
    return fast_config(**{"ping_interval": 0.5, "outbox_retry_interval": 1.0, **overrides})


def open_window(qtbot, config, services, tick_ms: int = 200) -> MainWindow:
    bridge = Bridge(tick_ms=tick_ms)
    window = MainWindow(config, bridge)
    bridge.setParent(window)
    qtbot.addWidget(window, before_close_func=lambda _w: bridge.detach())
    window.show()
    bridge.attach_pool(services.pool) if services.pool is not None else None
    bridge.ready.emit(services)
    return window
