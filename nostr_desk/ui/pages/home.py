"""The Home page (being built)."""

from __future__ import annotations

from nostr_desk.ui.pages.base import Page, empty_state, page_layout


class HomePage(Page):
    title = "Home"
    tooltip = "Notes of the people you follow"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = page_layout(self, "Home")
        layout.addWidget(empty_state("Nothing here yet."), 1)
