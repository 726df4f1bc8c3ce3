"""The desktop entry point: one qasync loop for Qt and asyncio, window first, services behind it.

Order matters for the 2-second launch target: the window is built and shown before any service
starts; the store, local relay and pool then start as a background task and the pages fill in as the
bridge reports them ready. Closing the last window does not quit Qt by itself
(`setQuitOnLastWindowClosed(False)`): it sets an event, `amain` shuts the services down in order
(pool → relay → writer → SQLite) while the loop still runs, and only then returns.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from typing import Any

from nostr_desk import __version__
from nostr_desk.app.config import AppConfig
from nostr_desk.app.logging_setup import redact, setup_logging
from nostr_desk.app.services import Services

log = logging.getLogger(__name__)


def run_gui(config: AppConfig, *, quit_after: float | None = None, page: str | None = None) -> int:
    """Run the app until the window is closed; the exit code. `quit_after` closes it (benchmarks)."""
    t0 = time.monotonic()
    import qasync
    from PySide6.QtWidgets import QApplication

    try:
        setup_logging(config.paths.log_dir, config.log_level)
    except OSError as exc:  # a data folder we cannot write: the window still opens and says so
        logging.basicConfig(level=logging.WARNING)
        log.warning("no log file in %s: %s", config.paths.log_dir, exc.strerror or exc)
    log.info("nostr-desk %s starting, data folder %s", __version__, config.data_dir)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("nostr-desk")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("nostr-desk")
    app.setQuitOnLastWindowClosed(False)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        return runner.run(amain(app, config, t0=t0, quit_after=quit_after, page=page))


async def amain(app: Any, config: AppConfig, *, t0: float | None = None,
                quit_after: float | None = None, page: str | None = None) -> int:
    from nostr_desk.ui.bridge import Bridge
    from nostr_desk.ui.errors import ErrorReporter
    from nostr_desk.ui.main_window import MainWindow

    loop = asyncio.get_running_loop()
    bridge = Bridge()
    window = MainWindow(config, bridge)
    app.setWindowIcon(window.windowIcon())
    reporter = ErrorReporter(window, redact)
    reporter.install(loop)
    closed = asyncio.Event()
    app.lastWindowClosed.connect(closed.set)
    _close_on_signals(window)
    window.show()
    if page:
        window.open_page_named(page)
    if t0 is not None:
        log.info("window shown %.0f ms after launch", (time.monotonic() - t0) * 1000)
    services = Services(config)
    services.auth_asker = window.ask_auth
    starting = asyncio.create_task(start_services(services, bridge), name="start services")
    if quit_after is not None:
        loop.call_later(quit_after, window.close)
    try:
        await closed.wait()
        window.local_state.setText("Shutting down…")
        await stop_services(services, bridge, starting)
    finally:
        reporter.uninstall(loop)
    return 0


async def start_services(services: Services, bridge: Any) -> None:
    await services.start(bridge.progress.emit)
    for name, sentence in services.problems.items():
        bridge.problem.emit(name, sentence)
    if services.pool is not None:
        bridge.attach_pool(services.pool)
    bridge.changed.connect(lambda what: on_changed(services, what))
    bridge.ready.emit(services)
    # What exists now (Qt wrappers, modules, services) lives as long as the app: out of the GC's
    # generations it is never traversed again, which keeps full collections short while events stream.
    gc.freeze()
    log.info("services ready %.0f ms after start; problems: %s",
             (time.monotonic() - services.started_at) * 1000, services.problems or "none")


def _close_on_signals(window: Any) -> None:
    """Ctrl-C in the terminal and SIGTERM (logout, `kill`) close the window, so shutdown stays
    ordered. Python runs the handler between bytecodes; the bridge's 1 s timer keeps that happening."""
    import signal

    from PySide6.QtCore import QTimer

    def handler(_signum: int, _frame: Any) -> None:
        QTimer.singleShot(0, window.close)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)


def on_changed(services: Services, what: str) -> None:
    """Another account or other relays: who signs AUTH, and what the feed reads."""
    if what == "accounts":
        services.refresh_auth_signer()
    if what in ("accounts", "relays") and services.feed is not None:
        services.feed.restart()


async def stop_services(services: Services, bridge: Any, starting: asyncio.Task) -> None:
    """Let a start in progress finish (a half-built stack would leak), then unwind it in order."""
    try:
        await asyncio.wait_for(asyncio.shield(starting), timeout=15)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        starting.cancel()
    except Exception:
        log.exception("service start failed")
    bridge.detach()
    await services.aclose()
