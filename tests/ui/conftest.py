"""Qt + asyncio for the UI tests: one qasync loop for the session, pumped by qtbot.

The loop is created `already_running` and installed as the running loop, so `qtbot.waitUntil` (which
spins Qt) also runs asyncio callbacks. It is never stopped: stopping it would quit the QApplication.
"""

from __future__ import annotations

import asyncio
from typing import Any, Coroutine

import pytest
import qasync

from nostr_desk.app.config import build_config
from nostr_desk.app.services import Services


@pytest.fixture(scope="session")
def qloop(qapp):
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    yield loop
    asyncio.events._set_running_loop(None)
    # Join qasync's default executor (asyncio.to_thread workers); close() refuses an already_running
    # loop, and stop() would quit the QApplication.
    executor = getattr(loop, "_QEventLoop__default_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)


@pytest.fixture
def run(qtbot, qloop):
    """run(coro, timeout=s) -> its result, pumping Qt and asyncio meanwhile."""

    def runner(coro: Coroutine[Any, Any, Any], timeout: float = 20.0) -> Any:
        task = qloop.create_task(coro)
        qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()

    return runner


@pytest.fixture
def config(tmp_path, free_port):
    return build_config(tmp_path / "data", relay_port=free_port)


@pytest.fixture
def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def services(config, run):
    """Real services (whatever this build has) in a tmp data folder; stopped in order afterwards."""
    from tests.ui.helpers import fast_pool
    svc = Services(config, pool_config=fast_pool())
    run(svc.start())
    yield svc
    run(svc.aclose())


@pytest.fixture(autouse=True)
def _qt_app(qapp):
    """Pixmaps and fonts need a QApplication before any model hands one out."""
    return qapp


@pytest.fixture(autouse=True)
def _collect_qt_garbage_here():
    """pyqtgraph widgets live in reference cycles; if Python's GC happened to collect them inside an
    asyncio.to_thread worker, Qt would stop their timers from the wrong thread (a Qt warning). So the
    previous test's widgets are collected here, on the GUI thread."""
    import gc
    gc.collect()
    yield
    gc.collect()
