"""Home end to end with real services, keyring and two relays on 127.0.0.1: post from compose → it
appears on Home (with "accepted by 2 of 2") and on both relays; a followed author's new note → the
"new notes" banner, not a jump; thread and profile views; own-note delete; watch-only refusal."""

from __future__ import annotations

import time

import pytest

from nostr_desk.protocol.event import EventTemplate, sign
from nostr_desk.ui.pages.home import HomePage
from tests.pool.events import secret
from tests.pool.fault_relay import FaultRelay
from tests.ui.helpers import open_window


@pytest.fixture
def two_relays(run):
    relays = [run(FaultRelay().start()) for _ in range(2)]
    yield relays
    for r in relays:
        run(r.stop())


@pytest.fixture
def me(services):
    if services.vault is None:
        pytest.skip(f"no keyring: {services.problems.get('vault')}")
    account = services.vault.generate("me")
    services.vault.use(account.pubkey)
    return account.pubkey


def post_via_composer(qtbot, page: HomePage, text: str) -> None:
    page.compose()
    page.composer.edit.setPlainText(text)
    assert page.composer.count.text() == str(len(text))
    page.composer.post_button.click()
    qtbot.waitUntil(lambda: any(r.note.content == text for r in page.timeline.model_.rows()), timeout=10000)
    qtbot.waitUntil(lambda: not page.composer.isVisible(), timeout=10000)  # the action finished


def test_post_appears_on_home_and_both_relays(qtbot, config, services, two_relays, me, run):
    for r in two_relays:
        services.relay_list.add(r.url)
    window = open_window(qtbot, config, services)
    page = window.page(HomePage)
    post_via_composer(qtbot, page, "hello from nostr-desk")
    row = next(r for r in page.timeline.model_.rows() if r.note.content == "hello from nostr-desk")
    assert row.mine and row.note.author_name
    assert all(row.note.id in r.events for r in two_relays)
    qtbot.waitUntil(lambda: page.timeline.model_.row(page.timeline.model_.find(row.id)).delivery
                    == "accepted by 2 of 2 relays", timeout=5000)
    assert not page.composer.isVisible() and "Posted" in page.message.text()
    # it is in the local relay too (served to other clients)
    assert services.store.get(row.note.id) is not None


def test_reply_thread_profile_and_delete(qtbot, config, services, two_relays, me, run):
    services.relay_list.add(two_relays[0].url)
    window = open_window(qtbot, config, services)
    page = window.page(HomePage)
    post_via_composer(qtbot, page, "root note")
    page.timeline.setCurrentIndex(page.timeline.model_.index(0, 0))
    page.act("reply")
    assert page.composer.context.isVisible() and "root note" in page.composer.context.text()
    page.composer.edit.setPlainText("a reply")
    page.composer.post_button.click()
    qtbot.waitUntil(lambda: any(r.note.content == "a reply" for r in page.timeline.model_.rows()), timeout=10000)
    qtbot.waitUntil(lambda: not page.composer.isVisible(), timeout=10000)
    reply = next(r for r in page.timeline.model_.rows() if r.note.content == "a reply")
    page.open_thread(reply.id)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.thread, timeout=5000)
    assert [(r.note.content, r.depth) for r in page.thread.model_.rows()] == [("root note", 0), ("a reply", 1)]
    page.open_profile(me)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.profile_box, timeout=5000)
    assert page.profile.model_.rowCount() == 2 and "npub1" in page.profile_header.text()
    page.profile.setCurrentIndex(page.profile.model_.index(0, 0))
    assert page.action_buttons["delete"].isEnabled()
    page.act("delete")
    qtbot.waitUntil(lambda: "Deletion requested" in page.message.text(), timeout=5000)
    page.show_timeline()
    assert page.stack.currentWidget() is page.timeline


def test_new_notes_banner_instead_of_jumping(qtbot, config, services, me, run):
    window = open_window(qtbot, config, services)
    page = window.page(HomePage)
    post_via_composer(qtbot, page, "my first note")
    friend = secret(42)
    contacts = sign(EventTemplate(kind=3, content="", tags=[["p", friend.public_key]], created_at=int(time.time())),
                    _my_secret(services, me), aux_rand=bytes(32))
    run(services.store.save(contacts))
    note = sign(EventTemplate(kind=1, content="friend says hi", tags=[], created_at=int(time.time()) + 1), friend,
                aux_rand=bytes(32))
    run(services.store.save(note))
    services.cache.poke()
    qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=5000)
    assert page.banner.text() == "↑ 1 new note"
    assert page.timeline.model_.row(0).note.content == "my first note"  # the list did not move
    page.banner.click()
    assert page.timeline.model_.row(0).note.content == "friend says hi" and not page.banner.isVisible()


def _my_secret(services, me):
    return services.vault.vault.load(me)


def test_watch_only_cannot_post(qtbot, config, services, run):
    if services.vault is None:
        pytest.skip("no keyring")
    account = services.vault.watch("npub1sg6plzptd64u62a878hep2kev88swjh3tw00gjsfl8f237lmu63q0uf63m")
    services.vault.use(account.pubkey)
    window = open_window(qtbot, config, services)
    page = window.page(HomePage)
    page.compose()
    page.composer.edit.setPlainText("can I?")
    page.composer.post_button.click()
    qtbot.waitUntil(lambda: "watch-only" in page.composer.error.text(), timeout=5000)
    assert page.composer.isVisible()


def test_no_account_empty_state(qtbot, config, services):
    window = open_window(qtbot, config, services)
    page = window.page(HomePage)
    assert page.stack.currentWidget() is page.empty
    assert "No account yet" in page.empty.text()


def test_feed_reads_the_follows_notes_from_a_relay(qtbot, config, services, me, run):
    """The live feed fetches the account's contact list, then the follows' notes: they reach Home."""
    friend = secret(7)
    now = int(time.time())
    contacts = sign(EventTemplate(kind=3, content="", tags=[["p", friend.public_key]], created_at=now - 60),
                    _my_secret(services, me), aux_rand=bytes(32))
    profile = sign(EventTemplate(kind=0, content='{"name": "Friendly"}', tags=[], created_at=now - 60), friend,
                   aux_rand=bytes(32))
    note = sign(EventTemplate(kind=1, content="from the relay", tags=[], created_at=now - 30), friend,
                aux_rand=bytes(32))
    relay = run(FaultRelay().start())
    try:
        relay.add(contacts, profile, note)
        window = open_window(qtbot, config, services)
        page = window.page(HomePage)
        from nostr_desk.ui.pages.relays import RelaysPage
        relays = window.page(RelaysPage)
        relays.url_edit.setText(relay.url)
        relays.add_button.click()  # -> bridge.changed("relays") -> the feed re-plans
        qtbot.waitUntil(lambda: relays.model.find(relay.url) >= 0, timeout=5000)
        services.feed.restart()     # (the app connects that signal in gui.py; here we call it)
        qtbot.waitUntil(lambda: any(r.note.content == "from the relay" for r in page.timeline.model_.rows())
                        or page.banner.isVisible(), timeout=15000)
        if page.banner.isVisible():
            page.banner.click()
        row = next(r for r in page.timeline.model_.rows() if r.note.content == "from the relay")
        assert row.note.author_name == "Friendly"
        # the first-run backfill ran once for this account, with progress shown, and is remembered
        qtbot.waitUntil(lambda: (config.data_dir / "backfilled.json").exists(), timeout=10000)
        assert me in (config.data_dir / "backfilled.json").read_text()
    finally:
        run(relay.stop())


def test_clicking_a_name_opens_the_profile(qtbot, config, services, me):
    from PySide6.QtCore import QPoint, Qt
    window = open_window(qtbot, config, services)
    page = window.page(HomePage)
    post_via_composer(qtbot, page, "click my name")
    view = page.timeline
    rect = view.visualRect(view.model_.index(0, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + 14, rect.top() + 16))
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.profile_box, timeout=5000)
    assert page.profile.model_.rowCount() == 1


def test_endless_scroll_loads_pages(qtbot, config, services, me, run):
    key = _my_secret(services, me)
    now = int(time.time())
    events = [sign(EventTemplate(kind=1, content=f"note {i}", tags=[], created_at=now - i), key, aux_rand=bytes(32))
              for i in range(120)]
    services.store.save_many(events)
    window = open_window(qtbot, config, services)
    page = window.page(HomePage)
    qtbot.waitUntil(lambda: page.timeline.model_.rowCount() == 50, timeout=10000)
    assert page.timeline.model_.row(0).note.content == "note 0"  # newest first
    bar = page.timeline.verticalScrollBar()
    for expected in (100, 120):
        bar.setValue(bar.maximum())
        qtbot.waitUntil(lambda e=expected: page.timeline.model_.rowCount() == e, timeout=10000)
    assert page.next_cursor is None and page.timeline.model_.row(119).note.content == "note 119"


def test_delivery_retries_visibly_until_the_relay_is_back(qtbot, config, services, me, run):
    relay = run(FaultRelay().start())
    port = relay.port
    services.relay_list.add(relay.url)
    window = open_window(qtbot, config, services)
    page = window.page(HomePage)
    qtbot.waitUntil(lambda: services.pool.health()[relay.url].status == "connected", timeout=5000)
    run(relay.stop())
    qtbot.waitUntil(lambda: services.pool.health()[relay.url].status != "connected", timeout=5000)
    page.compose()
    page.composer.edit.setPlainText("while the relay is down")
    page.composer.post_button.click()
    qtbot.waitUntil(lambda: any(r.note.content == "while the relay is down" for r in page.timeline.model_.rows()),
                    timeout=15000)
    row_id = next(r.id for r in page.timeline.model_.rows() if r.note.content == "while the relay is down")

    def delivery() -> str:
        return page.timeline.model_.row(page.timeline.model_.find(row_id)).delivery

    qtbot.waitUntil(lambda: "0 of 1" in delivery() and "retrying" in delivery(), timeout=15000)
    assert window.pending_state.text() == "1 publish pending"
    back = run(FaultRelay(port=port).start())
    try:
        qtbot.waitUntil(lambda: delivery() == "accepted by 1 of 1 relays", timeout=20000)
        assert row_id in back.events
        qtbot.waitUntil(lambda: window.pending_state.text() == "No pending publishes", timeout=5000)
    finally:
        run(back.stop())
