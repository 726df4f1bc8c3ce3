"""Failures a user can cause, each answered with a readable sentence in the window: composing with no
account / watch-only / no write relays, exporting to a folder that cannot be written, an ncryptsec with
the wrong password, a relay without a NIP-11 document."""

from __future__ import annotations

import pytest

from nostr_desk.ui.pages.accounts import AccountsPage
from nostr_desk.ui.pages.home import HomePage
from nostr_desk.ui.pages.local_relay import LocalRelayPage
from nostr_desk.ui.pages.relays import RelaysPage
from tests.pool.fault_relay import FaultRelay
from tests.ui.helpers import open_window


def _vault(services):
    if services.vault is None:
        pytest.skip(f"no keyring: {services.problems.get('vault')}")
    return services.vault


def test_composer_says_up_front_why_a_note_would_not_go_out(qtbot, config, services, run):
    vault = _vault(services)
    window = open_window(qtbot, config, services)
    home = window.page(HomePage)
    home.compose()
    assert "No account yet" in home.composer.error.text()
    watched = vault.watch("npub1pmhevxtlt3478pvmdqt7dftnv6zc2mzpdc569yjm6ks4k2jhezcs53uksr")
    vault.use(watched.pubkey)
    home.compose()
    assert "watch-only" in home.composer.error.text()
    me = vault.generate("me")
    vault.use(me.pubkey)
    home.compose()
    assert "No write relays" in home.composer.error.text()
    relay = run(FaultRelay().start())
    try:
        services.relay_list.add(relay.url, read=True, write=False)
        home.compose()
        assert "No write relays" in home.composer.error.text()   # read-only relays do not count
        services.relay_list.set_flags(relay.url, read=True, write=True)
        home.compose()
        assert home.composer.error.text() == ""
    finally:
        run(relay.stop())


def test_export_to_an_unwritable_place_is_a_message(qtbot, config, services, run, tmp_path):
    window = open_window(qtbot, config, services)
    page = window.page(LocalRelayPage)
    target = tmp_path / "no-such-folder" / "events.jsonl"
    run(page.run_transfer("export", target))
    text = page.progress_text.text()
    assert text.startswith("Export failed") and str(target) in text
    assert page.export_button.isEnabled()   # the page is usable again


def test_wrong_ncryptsec_password_is_a_message(qtbot, config, services, run):
    vault = _vault(services)
    account = vault.generate("old")
    backup = vault.export_ncryptsec(account.pubkey, "the right one")
    vault.remove(account.pubkey)
    window = open_window(qtbot, config, services)
    page = window.page(AccountsPage)
    page.import_text.setText(backup)
    run(page.import_key())
    assert "password" in page.message.text()             # none given: asks for it
    page.import_password.setText("a wrong one")
    run(page.import_key())
    assert page.message.text().startswith("Not imported") and page.model.rowCount() == 0
    assert page.import_text.text() == backup             # kept, to try another password


def test_a_relay_without_nip11_says_so(qtbot, config, services, run):
    relay = run(FaultRelay().start())
    try:
        window = open_window(qtbot, config, services)
        page = window.page(RelaysPage)
        page.url_edit.setText(relay.url)
        page.add_button.click()
        qtbot.waitUntil(lambda: "no NIP-11 document" in page.message.text(), timeout=10000)
        assert "NIP-11: not available" in page.info.toPlainText()
    finally:
        run(relay.stop())
