"""`nostr-desk monitor` as a user runs it (a subprocess) against a fault relay, a dead port and a bad URL."""

from __future__ import annotations

import asyncio
import json
import sys

from .events import make_event
from .fault_relay import Faults, FaultRelay
from .helpers import arun


async def run_cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "nostr_desk", "monitor", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


def test_json_lines_per_sample_with_bad_and_dead_relays():
    async def go():
        good = await FaultRelay().start()
        good.add(make_event(1))
        limited = await FaultRelay(faults=Faults(notice_on_connect="rate limited: slow down")).start()
        dead = await FaultRelay().start()
        dead_url = dead.url
        await dead.stop()
        rc, out, err = await run_cli(good.url, limited.url, dead_url, "https://nope", "--duration", "1.5",
                                     "--interval", "0.5", "--json")
        await good.stop()
        await limited.stop()
        return rc, out, err, good.url, dead_url, limited.url

    rc, out, err, good_url, dead_url, limited_url = arun(go(), timeout=90)
    assert rc == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0] == {**lines[0], "url": "https://nope", "status": "invalid-url"}
    samples = [r for r in lines if r["url"] == good_url]
    assert len(samples) >= 2
    last = samples[-1]
    assert last["status"] == "connected" and last["ping_ms"] is not None and last["eose_ms"] is not None
    assert last["rate_limited"] == 0 and last["verify_failures"] == 0
    # The relay said slow down: it is counted, and the monitor's probe REQs respect the pause.
    held = [r for r in lines if r["url"] == limited_url][-1]
    assert held["rate_limited"] >= 1 and held["last_notice"].startswith("rate limited")
    dead_rows = [r for r in lines if r["url"] == dead_url]
    assert dead_rows and dead_rows[-1]["status"] in ("backoff", "connecting", "waiting", "breaker-open")
    assert "connect failed" in dead_rows[-1]["last_error"]


def test_table_output_and_all_bad_urls():
    async def go():
        relay = await FaultRelay().start()
        table = await run_cli(relay.url, "--duration", "0.6", "--interval", "0.3")
        await relay.stop()
        bad = await run_cli("ftp://x", "ws://")
        return relay.url, table, bad

    url, (rc, out, err), (rc2, out2, err2) = arun(go(), timeout=90)
    assert rc == 0 and out.splitlines()[0].startswith("url") and url in out
    assert rc2 == 2 and "ftp://x" in err2 and "ws://" in err2
