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
    assert rc == 1, err          # one relay could not be reached at all: scripts can tell
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
    assert "ping max" in out.splitlines()[0] and "medians over the run" in out
    assert rc2 == 2 and "ftp://x" in err2 and "ws://" in err2


def test_a_probe_round_is_bounded_by_its_timeout_however_many_relays():
    # Eight relays that never finish their EOSE: every probe runs at once (not four at a time on
    # the pool's background budget) and the round ends at its timeout.
    from nostr_desk.app.commands.monitor import monitor_config
    from nostr_desk.pool.pool import RelayPool
    from nostr_desk.pool.probe import probe_round

    async def go():
        loop = asyncio.get_running_loop()
        slow = [await FaultRelay(faults=Faults(eose_delay=30)).start() for _ in range(8)]
        urls = [r.url for r in slow]
        pool = RelayPool(monitor_config(0.5, len(urls)), None)
        for u in urls:
            pool.add_relay(u)
        for u in urls:
            assert await pool.relay(u).wait_connected(5)
        started = loop.time()
        await probe_round(pool, urls, timeout=0.5)
        assert loop.time() - started < 0.8
        await pool.close()
        for r in slow:
            await r.stop()

    arun(go())


def test_ctrl_c_still_prints_the_table_with_the_relays_last_words():
    import signal

    async def go():
        relay = await FaultRelay(faults=Faults(notice_on_connect="restricted: we are full")).start()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "nostr_desk", "monitor", relay.url,
                                                    "--duration", "60", "--interval", "0.3",
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while relay.connections == 0 or len(relay.req_times) < 2:     # measured at least once
            assert loop.time() < end, "the monitor never probed"
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        await relay.stop()
        return relay.url, proc.returncode, out.decode(), err.decode()

    url, rc, out, err = arun(go(), timeout=60)
    assert rc == 130 and "Traceback" not in err
    assert url in out and "last NOTICE: restricted: we are full" in out


def test_a_relay_that_comes_back_is_seen_within_a_few_intervals():
    # An operator restarts the relay while watching: the monitor must notice within seconds, not
    # after the pool's 60 s breaker cool-down.
    async def go():
        relay = await FaultRelay().start()
        await relay.stop()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "nostr_desk", "monitor", relay.url,
                                                    "--duration", "6", "--interval", "0.4", "--json",
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        await asyncio.sleep(3.5)           # long enough for the breaker to open
        await relay.start()
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        await relay.stop()
        return out.decode(), err.decode()

    out, err = arun(go(), timeout=60)
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[-1]["status"] == "connected", (rows[-1], err)
