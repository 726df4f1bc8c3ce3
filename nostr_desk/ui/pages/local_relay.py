"""The Local relay page (being built)."""

from __future__ import annotations

from nostr_desk.ui.pages.base import Page, empty_state, page_layout


class LocalRelayPage(Page):
    title = "Local relay"
    tooltip = "The relay built into nostr-desk"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = page_layout(self, "Local relay")
        layout.addWidget(empty_state("Nothing here yet."), 1)
