"""Every item model passes Qt's model tester, through resets, inserts, updates and removals."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt

from nostr_desk.ui.models.accounts import AccountRow, AccountsModel
from nostr_desk.ui.models.base import ROW_ROLE
from nostr_desk.ui.models.relays import RelayRow, RelaysModel, light_colour

PK = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"


def snapshot(url, **kw):
    base = dict(url=url, status="connected", breaker="closed", auth="", latest={"ping_ms": 12.5, "eose_ms": 40.0},
                success_rate=0.9, rate_limited=2, paused_for=0.0, verify_failures=1, events_received=10,
                duplicates=0, bytes_in=0, bytes_out=0, connects=1, disconnects=0, last_notice="slow down",
                last_closed="", last_ok_false="", last_error="")
    base.update(kw)
    return SimpleNamespace(**base)


def test_relays_model(qtmodeltester):
    model = RelaysModel()
    qtmodeltester.check(model)
    rows = [RelayRow.from_snapshot(snapshot(f"ws://127.0.0.1:{p}")) for p in (1001, 1002, 1003)]
    model.set_rows(rows)
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    assert model.data(model.index(0, 4)) == "12 ms"        # latency
    assert model.data(model.index(0, 6)) == "90 %"         # success rate
    assert model.data(model.index(0, 0), ROW_ROLE).messages == ("NOTICE: slow down",)
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Relay"
    # update one, drop one, add one: selection-keeping diff
    changed = RelayRow.from_snapshot(snapshot("ws://127.0.0.1:1002", status="disconnected"))
    model.set_rows([rows[0], changed, RelayRow(url="ws://127.0.0.1:1004")])
    qtmodeltester.check(model)
    assert [r.url for r in model.rows()] == ["ws://127.0.0.1:1001", "ws://127.0.0.1:1002", "ws://127.0.0.1:1004"]
    assert model.data(model.index(1, 1)) == "disconnected"
    assert model.data(model.index(2, 4)) == "–"
    model.set_rows([RelayRow(url="ws://127.0.0.1:1001", status="breaker-open")])
    qtmodeltester.check(model)
    assert model.data(model.index(0, 1)) == "down, paused"  # words, not the state machine's names
    model.set_rows([RelayRow(url="ws://127.0.0.1:1001", status="connected", paused_for=9)])
    qtmodeltester.check(model)
    assert model.data(model.index(0, 1)) == "connected, rate-limited: paused 9 s"
    model.clear()
    qtmodeltester.check(model)


def test_status_light_colours():
    assert light_colour("connected") != light_colour("disconnected") != light_colour("connecting")
    assert light_colour("disconnected") == light_colour("error") == "#e74c3c"


def test_accounts_model(qtmodeltester):
    model = AccountsModel()
    model.set_rows([AccountRow(PK, "me", False, True), AccountRow("a" * 64, "", True, False)])
    qtmodeltester.check(model)
    assert model.data(model.index(0, 2)).startswith("npub1")
    assert model.data(model.index(1, 3)) == "watch-only"
    assert model.data(model.index(1, 1)) == "(no name)"
