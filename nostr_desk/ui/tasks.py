"""Running coroutines from Qt slots: keep a reference, and let failures reach the error dialog.

`spawn(coro)` schedules a task on the running (qasync) loop. asyncio only keeps weak references to
tasks, so we hold them until done; an exception nobody handled goes to the loop's exception handler,
which the app routes to the error dialog (app keeps running).
"""

from __future__ import annotations

import asyncio
from typing import Any, Coroutine

_running: set[asyncio.Task] = set()


def spawn(coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task:
    task = asyncio.get_event_loop().create_task(coro, name=name)
    _running.add(task)
    task.add_done_callback(_done)
    return task


def _done(task: asyncio.Task) -> None:
    _running.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        task.get_loop().call_exception_handler(
            {"message": f"task {task.get_name()} failed", "exception": exc, "task": task})


def running() -> int:
    return len(_running)
