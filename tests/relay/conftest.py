"""Run `async def` tests of this package in a fresh event loop, each with a hard time limit
(pytest-asyncio is not a dependency; this is all the relay tests need)."""

from __future__ import annotations

import asyncio
import inspect

import pytest

ASYNC_TEST_TIMEOUT = 60


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

    async def guarded():
        async with asyncio.timeout(ASYNC_TEST_TIMEOUT):
            await pyfuncitem.obj(**kwargs)

    asyncio.run(guarded())
    return True
