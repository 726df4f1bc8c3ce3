"""The Accounts page on a real Secret Service (./dev test): welcome, create + backup, import, watch;
and the plain explanation plus session-only keys when no secure keyring exists."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from nostr_desk.protocol import nip49
from nostr_desk.ui.bridge import Bridge
from nostr_desk.ui.main_window import MainWindow
from nostr_desk.ui.pages.accounts import AccountsPage

NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
NPUB_OF_NSEC = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"


@pytest.fixture
def window(qtbot, config, services):
    if services.vault is None:
        pytest.skip(f"no keyring in this run: {services.problems.get('vault')}")
    bridge = Bridge()
    win = MainWindow(config, bridge)
    qtbot.addWidget(win)
    win.show()
    bridge.ready.emit(services)
    return win


def test_first_run_opens_the_welcome(window):
    page = window.page(AccountsPage)
    assert window.stack.currentWidget() is page
    assert page.intro.isVisible() and "Welcome" in page.intro.text()
    assert not page.table.isVisible()


def test_create_then_backup(window, run, services):
    page = window.page(AccountsPage)
    run(page.create())
    assert page.model.rowCount() == 1 and page.model.row(0).active
    assert "npub1" in page.message.text() and page.npub_view.text().startswith("npub1")
    page.backup_password.setText("correct horse")
    page.backup_confirm.setText("correct horse")
    run(page.backup(), timeout=60)
    backup = page.backup_view.text()
    assert backup.startswith("ncryptsec1")
    secret = nip49.decrypt(backup, "correct horse")
    assert secret.public_key == page.model.row(0).pubkey
    assert not page.intro.isVisible()  # welcome gone once an account exists


def test_backup_password_mismatch_is_refused(window, run):
    page = window.page(AccountsPage)
    run(page.create())
    page.backup_password.setText("one password")
    page.backup_confirm.setText("another one!")
    run(page.backup())
    assert "differ" in page.message.text() and page.backup_view.text() == ""


def test_import_nsec_and_watch_npub(window, run, services):
    page = window.page(AccountsPage)
    page.import_text.setText("nsec1notreallyakey")
    run(page.import_key())
    assert page.message.text().startswith("Not imported") and page.model.rowCount() == 0
    assert "nsec1notreallyakey" not in page.message.text()  # a typo'd secret is never echoed
    page.import_text.setText(NSEC)
    run(page.import_key())
    assert page.model.rowCount() == 1 and page.import_text.text() == ""
    assert services.vault.vault.has(page.model.row(0).pubkey)
    page.watch_text.setText(NPUB_OF_NSEC.replace("npub1", "npub1x"))
    run(page.watch())
    assert page.message.text().startswith("Not added")
    page.watch_text.setText("npub1sg6plzptd64u62a878hep2kev88swjh3tw00gjsfl8f237lmu63q0uf63m")
    run(page.watch())
    assert page.model.rowCount() == 2
    assert page.model.data(page.model.index(1, 3)) == "watch-only"


def test_no_keyring_says_so_and_offers_session_keys(qtbot, config, run):
    from nostr_desk.app.services import Services
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        svc = Services(config)
        run(svc.start())
    finally:
        keyring.set_keyring(previous)
    try:
        assert svc.vault is None and "vault" in svc.problems
        bridge = Bridge()
        win = MainWindow(config, bridge)
        qtbot.addWidget(win)
        win.show()
        bridge.ready.emit(svc)
        page = win.page(AccountsPage)
        assert win.stack.currentWidget() is page
        assert page.keyring_box.isVisible() and "fail" in page.keyring_text.text().lower()
        assert not page.tabs.isEnabled()
        assert not page.table.isVisible() and not page.backup_box.isVisible()  # nothing to list yet
        page.session_button.click()
        assert page.tabs.isEnabled() and not page.keyring_box.isVisible()
        run(page.create())
        assert page.model.rowCount() == 1 and svc.vault.vault.is_session_only
        assert not config.paths.accounts_file.exists()  # nothing written
    finally:
        run(svc.aclose())


def test_no_secret_in_any_file_of_the_data_folder(window, run, services, config):
    """Create, back up, import, post; then no file nostr-desk wrote holds a secret (log included)."""
    import logging
    from nostr_desk.app.logging_setup import setup_logging
    from nostr_desk.protocol.nip19 import encode_nsec
    log_path = setup_logging(config.paths.log_dir, "DEBUG", stderr=False)
    try:
        page = window.page(AccountsPage)
        run(page.create())
        page.backup_password.setText("a long password")
        page.backup_confirm.setText("a long password")
        run(page.backup(), timeout=60)
        page.import_text.setText(NSEC)
        run(page.import_key())
        secrets = [services.vault.vault.load(row.pubkey) for row in page.model.rows()]
        logging.getLogger("nostr_desk.test").info("accounts: %r", secrets)  # reprs are redacted too
        run(services.actions.post("hello"))
        for handler in logging.getLogger().handlers:
            handler.flush()
        needles = [s.secret_bytes().hex() for s in secrets] + [encode_nsec(s) for s in secrets]
        files = [p for p in config.data_dir.rglob("*") if p.is_file()]
        assert log_path in files and len(files) > 3
        for path in files:
            raw = path.read_bytes()
            blob = raw.decode("latin-1").lower()
            for needle in needles:
                assert needle.lower() not in blob, f"a secret is in {path}"
            assert not any(s.secret_bytes() in raw for s in secrets), f"raw secret bytes in {path}"
    finally:
        root = logging.getLogger()
        for h in [h for h in root.handlers if getattr(h, "_nostr_desk", False)]:
            root.removeHandler(h)
            h.close()
