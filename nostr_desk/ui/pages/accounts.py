"""The Accounts page (being built)."""

from __future__ import annotations

from nostr_desk.ui.pages.base import Page, empty_state, page_layout


class AccountsPage(Page):
    title = "Accounts"
    tooltip = "Your keys and watch-only accounts"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = page_layout(self, "Accounts")
        layout.addWidget(empty_state("Nothing here yet."), 1)
