"""What a user meets when things around the app are wrong: a corrupt settings.json (a readable message,
defaults in use, the file left as the user wrote it), a data folder that cannot be written (the window
still opens and says why), and closing with publishes pending (they stay in the durable outbox and
go out on the next start)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nostr_desk.app.config import build_config
from nostr_desk.app.services import Services
from nostr_desk.ui.pages.local_relay import LocalRelayPage
from nostr_desk.ui.pages.settings import SettingsPage
from tests.pool.fault_relay import FaultRelay
from tests.ui.helpers import fast_pool, open_window

CORRUPT = '{"relay_port": 4870, "relays": ["wss://relay.example"],,}\n'


def test_corrupt_settings_are_said_used_as_defaults_and_left_alone(qtbot, tmp_path, free_port, run):
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text(CORRUPT)
    config = build_config(data, relay_port=free_port)
    assert config.relays == () and "settings.json is not valid JSON" in config.settings_problem
    svc = Services(config, pool_config=fast_pool())
    run(svc.start())
    try:
        assert svc.relay is not None  # the app runs, with the defaults (and the flag)
        window = open_window(qtbot, config, svc)
        bar = window.statusBar().currentMessage()
        assert "Settings not used" in bar and "not valid JSON" in bar and "fix or remove it" in bar
        page = window.page(SettingsPage)
        assert "not valid JSON" in page.message.text()

        page.save()  # an explicit Save cannot merge into a file it cannot read: refused, said
        assert page.message.text().startswith("Not saved:")
        svc.relay_list.add("ws://127.0.0.1:9")  # the Relays page saves too: it must not overwrite either
        assert (data / "settings.json").read_text() == CORRUPT
    finally:
        run(svc.aclose())


def test_a_data_folder_that_cannot_be_written(qtbot, tmp_path, free_port, run):
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a folder below a file can never be created, whoever runs the test (root too)
    config = build_config(blocker / "data", relay_port=free_port)
    svc = Services(config, pool_config=fast_pool())
    run(svc.start())
    try:
        assert svc.store is None and svc.relay is None
        assert "could not be opened" in svc.problems["store"] and "--data-dir" in svc.problems["store"]
        window = open_window(qtbot, config, svc)
        assert "could not be opened" in window.statusBar().currentMessage()
        assert window.local_state.text() == "Local relay not started: no event store"
        assert "--data-dir" in window.page(LocalRelayPage).url.text()
    finally:
        run(svc.aclose())


def test_the_window_opens_even_without_a_writable_data_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = ("import sys; from nostr_desk.app.config import build_config; from nostr_desk.app.gui import run_gui; "
            f"sys.exit(run_gui(build_config({str(blocker / 'data')!r}, relay_port=0), quit_after=2))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "no log file" in proc.stderr


def test_publishes_pending_at_close_go_out_on_the_next_start(config, free_port, run):
    import socket
    with socket.socket() as s:  # a port nothing listens on yet: the relay is "down" for the first run
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"ws://127.0.0.1:{port}"
    first = Services(config, pool_config=fast_pool())
    run(first.start())
    if first.vault is None:
        pytest.skip(f"no keyring: {first.problems.get('vault')}")
    try:
        first.vault.use(first.vault.generate("me").pubkey)
        first.refresh_auth_signer()
        first.relay_list.add(url)
        event, _delivery = run(first.actions.post("written while the relay was down"))
        assert event.id in first.pool.publisher.pending_ids()
    finally:
        run(first.aclose())

    relay = run(FaultRelay(port=port).start())
    again = Services(build_config(config.data_dir, relay_port=config.relay_port), pool_config=fast_pool())
    try:
        run(again.start())
        assert again.relay_list.get(url) is not None  # the relay list came back from settings.json
        wait_until(run, lambda: event.id in relay.events, timeout=15)
        wait_until(run, lambda: event.id not in again.pool.publisher.pending_ids(), timeout=5)
    finally:
        run(again.aclose())
        run(relay.stop())


def wait_until(run, predicate, timeout: float) -> None:
    import asyncio

    async def until() -> None:
        while not predicate():
            await asyncio.sleep(0.05)
    run(until(), timeout=timeout)


def test_a_backfill_marker_that_cannot_be_written_does_not_stop_the_feed(config, services):
    from nostr_desk.app.feed import LiveFeed

    feed = LiveFeed(services)
    feed._marker().mkdir()  # writing the marker file now fails (OSError), as in a read-only folder
    me = "ab" * 32
    assert feed._first_time(me)
    feed._mark_done(me)  # logged, not raised: the live subscription after the backfill still starts
    assert feed._first_time(me)  # and the backfill is simply done again next start


def test_a_file_that_is_not_an_event_store_is_named(tmp_path, free_port, run):
    config = build_config(tmp_path / "data", relay_port=free_port)
    config.paths.ensure()
    config.paths.event_db.write_bytes(b"this is not SQLite" * 100)
    svc = Services(config, pool_config=fast_pool())
    run(svc.start())
    try:
        problem = svc.problems["store"]
        assert str(config.paths.event_db) in problem and "Move it aside" in problem
        assert config.paths.event_db.read_bytes() == b"this is not SQLite" * 100  # never overwritten
    finally:
        run(svc.aclose())
