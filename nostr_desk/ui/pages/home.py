"""The Home page: the timeline of the people followed, a thread view, a profile view, and compose.

The timeline pages through the cache by cursor (endless scroll loads the next 50 at the bottom).
New notes never push the list down: they are counted into a "N new notes" banner the user clicks.
A note opens its thread on double-click; "Profile" opens the author's notes. The user's own notes
show their delivery ("accepted by 3 of 5 relays"), updated live from the pool's publish results.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from nostr_desk.protocol.event import Event
from nostr_desk.ui.composer import Composer
from nostr_desk.ui.delivery import DeliveryBook
from nostr_desk.ui.models.notes import NoteRow
from nostr_desk.ui.note_list import NoteList, flatten, is_user_error
from nostr_desk.ui.pages.base import Page, empty_state, heading
from nostr_desk.ui.tasks import spawn

log = logging.getLogger(__name__)

PAGE_SIZE = 50


class HomePage(Page):
    title = "Home"
    tooltip = "Notes of the people you follow"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.user: str | None = None
        self.next_cursor: Any = None
        self.loading = False
        self.pending_new: list[Any] = []
        self.delivery = DeliveryBook()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 14, 18, 14)
        top = QHBoxLayout()
        self.back_button = QPushButton("← Back")
        self.back_button.setToolTip("Back to the timeline")
        self.back_button.clicked.connect(self.show_timeline)
        self.back_button.hide()
        self.heading = heading("Home")
        self.compose_button = QPushButton("New note")
        self.compose_button.setToolTip("Write a note (Ctrl+N)")
        self.compose_button.clicked.connect(self.compose)
        top.addWidget(self.back_button)
        top.addWidget(self.heading)
        top.addStretch(1)
        top.addWidget(self.compose_button)
        outer.addLayout(top)

        self.composer = Composer(self)
        self.composer.hide()
        outer.addWidget(self.composer)

        self.banner = QPushButton("")
        self.banner.setToolTip("Show the notes that arrived since you started reading")
        self.banner.setStyleSheet("QPushButton { background: palette(highlight); color: palette(highlighted-text);"
                                  " border-radius: 12px; padding: 6px 14px; font-weight: bold; }")
        self.banner.clicked.connect(self.show_new)
        self.banner.hide()
        outer.addWidget(self.banner, 0, Qt.AlignmentFlag.AlignHCenter)

        self.stack = QStackedWidget()
        self.empty = empty_state("Starting…")
        self.timeline = NoteList()
        self.thread = NoteList()
        self.profile = NoteList()
        self.profile_header = QLabel("")
        self.profile_header.setWordWrap(True)
        self.profile_header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        profile_box = QWidget()
        pl = QVBoxLayout(profile_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.profile_header)
        pl.addWidget(self.profile, 1)
        for w in (self.empty, self.timeline, self.thread, profile_box):
            self.stack.addWidget(w)
        self.profile_box = profile_box
        outer.addWidget(self.stack, 1)
        for view in (self.timeline, self.thread, self.profile):
            view.doubleClicked.connect(lambda index, v=view: self.open_thread(v.model_.row(index.row()).note.id))
            view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.timeline.verticalScrollBar().valueChanged.connect(self._maybe_more)
        for view in (self.timeline, self.thread, self.profile):
            view.name_clicked.connect(self.open_profile)
            view.setMouseTracking(True)

        actions = QHBoxLayout()
        self.action_buttons: dict[str, QPushButton] = {}
        for key, label, tip in (("reply", "Reply", "Reply to the selected note"),
                                ("react", "Like", "React with + to the selected note"),
                                ("repost", "Repost", "Repost the selected note to your followers"),
                                ("thread", "Thread", "Open the conversation (or double-click the note)"),
                                ("profile", "Profile", "Open the author's profile and notes"),
                                ("delete", "Delete", "Ask relays to delete your note (NIP-09)")):
            button = QPushButton(label)
            button.setToolTip(tip)
            button.clicked.connect(lambda _c=False, k=key: self.act(k))
            self.action_buttons[key] = button
            actions.addWidget(button)
        actions.addStretch(1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        actions.addWidget(self.message, 2)
        outer.addLayout(actions)
        self._update_actions()

    # --- services ---------------------------------------------------------------------------------
    def attach(self, services: Any, bridge: Any) -> None:
        super().attach(services, bridge)
        bridge.publish_result.connect(self.on_publish_result)
        bridge.changed.connect(self.on_changed)
        bridge.events_tick.connect(self.on_events)
        if services.cache is not None:
            services.cache.listeners.append(self._projected)
        if getattr(services, "feed", None) is not None:
            services.feed.listeners.append(self._feed_progress)
        self.reload()

    def on_changed(self, what: str) -> None:
        if what == "accounts":
            self.reload()

    def on_events(self, counts: Any, _events: Any) -> None:
        if counts and self.services is not None and self.services.cache is not None:
            self.services.cache.poke()

    def _projected(self, _count: int) -> None:
        if self.user is not None and not self.loading:
            spawn(self.check_new(), "check new notes")

    def _feed_progress(self, text: str) -> None:
        self.say(text)
        if self.stack.currentWidget() is self.empty and self.user is not None:
            self.empty.setText(text)

    def current_user(self) -> str | None:
        keys = getattr(self.services, "vault", None)
        active = keys.active if keys is not None else None
        return active.pubkey if active is not None else None

    def reload(self) -> None:
        self.user = self.current_user()
        self.timeline.model_.clear()
        self.next_cursor = None
        self.pending_new.clear()
        self.banner.hide()
        if self.services is None or self.services.cache is None:
            reason = self.services.problems.get("cache", "") if self.services is not None else ""
            self.empty.setText("The timeline needs the local cache, which is not running. " + reason)
            self.stack.setCurrentWidget(self.empty)
            return
        if self.user is None:
            self.empty.setText("No account yet. Create or import one on the Accounts page (Ctrl+5) "
                               "to see the notes of the people you follow.")
            self.stack.setCurrentWidget(self.empty)
            return
        spawn(self.load_more(), "load timeline")

    # --- timeline ---------------------------------------------------------------------------------
    async def load_more(self) -> int:
        if self.loading or self.user is None:
            return 0
        first = self.timeline.model_.rowCount() == 0
        if not first and self.next_cursor is None:
            return 0  # the last page was reached
        self.loading = True
        try:
            page = await self.services.cache.call("home", self.user, self.next_cursor, PAGE_SIZE)
        finally:
            self.loading = False
        known = self.timeline.model_.ids()
        self.timeline.model_.append_rows([self._row(n) for n in page.items if n.id not in known])
        self.next_cursor = page.next
        self._show_timeline_or_empty()
        return len(page.items)

    def _show_timeline_or_empty(self) -> None:
        if self.stack.currentWidget() in (self.thread, self.profile_box):
            return
        if self.timeline.model_.rowCount():
            self.stack.setCurrentWidget(self.timeline)
        else:
            relays = bool(self.services.pool and self.services.pool.read_relays)
            self.empty.setText("Nothing here yet. Notes from you and the people you follow appear here "
                               "as they arrive." + ("" if relays else " Add relays on the Relays page "
                                                    "(Ctrl+2) so there is somewhere to read from."))
            self.stack.setCurrentWidget(self.empty)

    def _maybe_more(self, value: int) -> None:
        bar = self.timeline.verticalScrollBar()
        if value >= bar.maximum() - 200 and self.next_cursor is not None and not self.loading:
            spawn(self.load_more(), "next page")

    async def check_new(self) -> int:
        """Count notes newer than the top of the list into the banner (the list itself does not move)."""
        if self.user is None or self.services.cache is None:
            return 0
        page = await self.services.cache.call("home", self.user, None, PAGE_SIZE)
        model = self.timeline.model_
        if model.rowCount() == 0:
            model.append_rows([self._row(n) for n in page.items])
            self.next_cursor = page.next
            self._show_timeline_or_empty()
            return 0
        top = model.row(0).note
        known = model.ids() | {n.id for n in self.pending_new}
        fresh = [n for n in page.items if n.id not in known and (n.created_at, n.id) >= (top.created_at, "")]
        mine = [n for n in fresh if n.pubkey == self.user]
        if mine:  # your own new note goes straight in: you just wrote it
            model.prepend_rows([self._row(n) for n in mine])
            fresh = [n for n in fresh if n.pubkey != self.user]
        self.pending_new = fresh + self.pending_new
        if self.pending_new:
            n = len(self.pending_new)
            self.banner.setText(f"↑ {n} new note{'s' if n != 1 else ''}")
            self.banner.show()
        return len(fresh)

    def show_new(self) -> None:
        self.timeline.model_.prepend_rows([self._row(n) for n in sorted(
            self.pending_new, key=lambda n: (-n.created_at, n.id))])
        self.pending_new.clear()
        self.banner.hide()
        self.show_timeline()
        self.timeline.scrollToTop()

    def _row(self, note: Any, depth: int = 0) -> NoteRow:
        mine = note.pubkey == self.user
        return NoteRow(note, depth, self.delivery.text(note.id) if mine else "", mine)

    # --- thread and profile ----------------------------------------------------------------------
    def show_timeline(self) -> None:
        self.heading.setText("Home")
        self.back_button.hide()
        self._show_timeline_or_empty()
        if self.stack.currentWidget() is not self.empty:
            self.stack.setCurrentWidget(self.timeline)
        self._update_actions()

    def open_thread(self, note_id: str) -> None:
        spawn(self._open_thread(note_id), "open thread")

    async def _open_thread(self, note_id: str) -> None:
        tree = await self.services.cache.call("thread", note_id)
        self.thread.model_.clear()
        self.thread.model_.append_rows([self._row(n, d) for n, d in flatten(tree)])
        self.heading.setText("Thread")
        self.back_button.show()
        self.stack.setCurrentWidget(self.thread)
        i = self.thread.model_.find(note_id)
        if i >= 0:
            self.thread.setCurrentIndex(self.thread.model_.index(i, 0))
        self._update_actions()

    def open_profile(self, pubkey: str) -> None:
        spawn(self._open_profile(pubkey), "open profile")

    async def _open_profile(self, pubkey: str) -> None:
        profile = await self.services.cache.call("profile", pubkey)
        page = await self.services.cache.call("profile_notes", pubkey, None, PAGE_SIZE)
        from nostr_desk.protocol.nip19 import encode_npub
        name = profile.shown_name if profile else page.items[0].author_name if page.items else "Unknown"
        about = (profile.about or "") if profile else ""
        self.profile_header.setText(f"<b>{_esc(name)}</b> <span style='color:gray'>{encode_npub(pubkey)}</span>"
                                    + (f"<br>{_esc(about[:500])}" if about else ""))
        self.profile.model_.clear()
        self.profile.model_.append_rows([self._row(n) for n in page.items])
        self.heading.setText("Profile")
        self.back_button.show()
        self.stack.setCurrentWidget(self.profile_box)
        self._update_actions()

    # --- actions -----------------------------------------------------------------------------------
    def current_list(self) -> NoteList | None:
        widget = self.stack.currentWidget()
        return self.profile if widget is self.profile_box else widget if isinstance(widget, NoteList) else None

    def selected(self) -> NoteRow | None:
        view = self.current_list()
        return view.selected() if view is not None else None

    def _update_actions(self) -> None:
        row = self.selected()
        for key, button in self.action_buttons.items():
            button.setEnabled(row is not None and (key != "delete" or row.mine))

    def compose_warning(self) -> str:
        """Why a note written now would not reach a relay (or could not be signed); "" when all is well."""
        services = self.services
        if services is None:
            return "Still starting: the note can be posted once the services are up."
        keys = getattr(services, "vault", None)
        account = keys.active if keys is not None else None
        if account is None:
            return "No account yet: create or import one on the Accounts page (Ctrl+5) to post."
        if account.watch_only:
            return "This account is watch-only: import its secret key on the Accounts page to post."
        relays = getattr(services, "relay_list", None)
        items = relays.items.values() if relays is not None else ()
        if not any(item.write for item in items):
            return ("No write relays: the note stays on this computer (and the local relay) until you "
                    "add one or tick Write on the Relays page (Ctrl+2).")
        return ""

    def compose(self, reply_to: NoteRow | None = None) -> None:
        self.composer.open(reply_to.note if reply_to else None)

    def act(self, key: str) -> None:
        row = self.selected()
        if row is None:
            return
        if key == "reply":
            self.compose(row)
        elif key == "thread":
            self.open_thread(row.note.id)
        elif key == "profile":
            self.open_profile(row.note.pubkey)
        else:
            spawn(self._network_action(key, row), key)

    async def _network_action(self, key: str, row: NoteRow) -> None:
        event = self.full_event(row.note.id)
        if event is None:
            self.say("That note is not in the local store any more.", error=True)
            return
        actions = self.services.actions
        verb = {"react": "Liked", "repost": "Reposted", "delete": "Deletion requested"}[key]
        await self._run_action(getattr(actions, key)(event), verb)

    def full_event(self, event_id: str) -> Event | None:
        raw = self.services.store.get(event_id) if self.services.store is not None else None
        return Event.from_json(raw) if raw is not None else None

    async def _submit(self, text: str, reply_to_id: str) -> None:
        actions = self.services.actions
        if reply_to_id:
            parent = self.full_event(reply_to_id)
            if parent is None:
                self.composer.fail("The note you reply to is not in the local store.")
                return
            ok = await self._run_action(actions.reply(parent, text), "Reply sent")
        else:
            ok = await self._run_action(actions.post(text), "Posted")
        if ok:
            self.composer.done()

    async def _run_action(self, coro: Any, verb: str) -> bool:
        try:
            event, report = await coro
        except Exception as exc:
            if not is_user_error(exc):
                raise  # a bug: the error dialog shows it
            self.say(str(exc), error=True)
            self.composer.fail(str(exc))
            return False
        self.delivery.started(event.id, report)
        self.say(f"{verb}: {self.delivery.text(event.id) or 'stored locally (no write relays yet)'}.")
        await self.check_new()
        self._refresh_delivery(event.id)
        return True

    def on_publish_result(self, result: Any) -> None:
        self.delivery.result(result)
        self._refresh_delivery(result.event_id)

    def _refresh_delivery(self, event_id: str) -> None:
        text = self.delivery.text(event_id)
        for view in (self.timeline, self.thread, self.profile):
            view.model_.set_delivery(event_id, text)

    def say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c0392b;" if error else "")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
