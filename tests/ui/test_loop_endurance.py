"""Thousands of asyncio callbacks and timers through the qasync loop, in the app's real loop set-up.

PySide6 6.12.0 drops a reference to None in every QObject.killTimer(); qasync calls it once per timed
callback, so the interpreter dies (`none_dealloc`) after a few thousand. Short tests never see it:
this one runs well past that point, in a child process (a crash must fail the test, not the run).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import asyncio, sys, qasync
    from PySide6.QtWidgets import QApplication
    from PySide6.QtCore import QTimer

    app = QApplication([])
    fired = {"soon": 0, "later": 0, "qt": 0}

    async def main():
        loop = asyncio.get_running_loop()
        for i in range(6000):
            loop.call_soon(lambda: fired.__setitem__("soon", fired["soon"] + 1))
            await asyncio.sleep(0.0002 if i % 2 else 0)   # timed callbacks go through killTimer
            fired["later"] += 1
        qt = QTimer(); qt.setInterval(0)
        qt.timeout.connect(lambda: fired.__setitem__("qt", fired["qt"] + 1))
        qt.start()
        while fired["qt"] < 2000:
            await asyncio.sleep(0.001)
        qt.stop()
        return fired

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        result = runner.run(main())
    print(result["soon"], result["later"], result["qt"] >= 2000)
""")


def test_thousands_of_callbacks_survive(tmp_path):
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=110, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    soon, later, qt = proc.stdout.split()
    assert (int(soon), int(later), qt) == (6000, 6000, "True")
