"""Durability: every event the headless relay answered `OK true` survives a `kill -9` of its
process (the OK is sent only after the writer's COMMIT), and the relay serves them after restart."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from .helpers import Client, key, make

URL = re.compile(r"listening on (ws://\S+)")


async def start_relay(db: Path, data_dir: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nostr_desk", "relay", "--port", "0", "--db", str(db), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
    match = URL.search(line)
    assert match, f"relay did not start: {line!r}"
    return proc, match.group(1)


async def test_okd_events_survive_kill_9(tmp_path):
    db, data_dir = tmp_path / "events.sqlite3", tmp_path / "data"
    proc, url = await start_relay(db, data_dir)
    acked: list[str] = []
    try:
        events = [make(key(10 + i % 7), 1, f"durable {i}") for i in range(400)]
        async with Client.open(url) as c:
            for ev in events:  # pipelined: many EVENTs in flight, OKs arriving as batches commit
                await c.send("EVENT", ev.to_obj())
            for _ in range(200):
                reply = await c.next(lambda m: m[0] == "OK")
                assert reply[2] is True, reply
                acked.append(reply[1])
            os.kill(proc.pid, signal.SIGKILL)  # no shutdown at all, mid-stream
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    proc, url = await start_relay(db, data_dir)
    try:
        async with Client.open(url) as c:
            found = set()
            for start in range(0, len(acked), 100):
                chunk = acked[start : start + 100]
                found |= {e["id"] for e in await c.req(f"q{start}", {"ids": chunk})}
        assert found == set(acked)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0 and "relay stopped" in out
