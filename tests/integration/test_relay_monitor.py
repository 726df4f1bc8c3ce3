"""`nostr-desk relay` and `nostr-desk monitor` as a user runs them, against each other on 127.0.0.1:
the monitor measures the running relay, Ctrl-C stops the relay cleanly, a busy port is one clear line."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from .conftest import RelayProcess, assert_clean_failure, closed_port, nostr_desk


def test_monitor_measures_the_running_relay_then_ctrl_c_stops_it_cleanly(relay: RelayProcess):
    result = nostr_desk("monitor", relay.url, "--duration", "2", "--interval", "1", "--json")
    assert result.returncode == 0, result.stderr
    samples = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(samples) >= 2
    assert {s["url"] for s in samples} == {relay.url}
    last = samples[-1]
    assert last["status"] == "connected" and last["verify_failures"] == 0
    assert isinstance(last["connect_ms"], float) and isinstance(last["ping_ms"], float)
    assert last["eose_ms"] is not None  # its REQ was answered

    with connect(relay.url, open_timeout=10) as client:  # a client still connected at Ctrl-C
        client.send(json.dumps(["REQ", "s", {"limit": 1}]))
        assert json.loads(client.recv(timeout=10))[0] in ("AUTH", "EOSE")
        code, out, err = relay.interrupt()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                client.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001  # "going away", not a dropped socket
    assert code == 0, err
    assert "relay stopped" in out and "Traceback" not in err


def test_monitor_reports_a_closed_port_in_its_table(tmp_path):
    port = closed_port()
    result = nostr_desk("monitor", f"ws://127.0.0.1:{port}", "--duration", "1", "--interval", "1")
    assert "Traceback" not in result.stderr
    assert f"ws://127.0.0.1:{port}" in result.stdout
    assert "connect failed" in result.stdout  # the reason is shown, not just a status
    assert result.returncode == 1  # like ping(8): a health check can act on it


def test_a_second_relay_on_a_busy_port_is_refused_in_one_line(relay: RelayProcess, tmp_path):
    result = nostr_desk("relay", "--port", str(relay.port), "--db", str(tmp_path / "other.sqlite3"), timeout=20)
    line = assert_clean_failure(result, 1)
    assert "already in use" in line and "--port" in line
    assert relay.proc.poll() is None  # the first one keeps serving


def test_web_pages_need_allow_origin(tmp_path):
    relay = RelayProcess(tmp_path / "web.sqlite3", "--allow-origin", "https://Client.example/")
    try:
        with connect(relay.url, origin="https://client.example", open_timeout=10) as page:
            page.send(json.dumps(["REQ", "w", {"limit": 1}]))
            assert json.loads(page.recv(timeout=10))[0] in ("AUTH", "EOSE")
        with pytest.raises(InvalidStatus) as refused:
            connect(relay.url, origin="https://elsewhere.example", open_timeout=10)
        assert refused.value.response.status_code == 403
    finally:
        relay.kill()
