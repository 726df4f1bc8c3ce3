"""The Relays page (being built)."""

from __future__ import annotations

from nostr_desk.ui.pages.base import Page, empty_state, page_layout


class RelaysPage(Page):
    title = "Relays"
    tooltip = "Your relays: flags, health, details"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = page_layout(self, "Relays")
        layout.addWidget(empty_state("Nothing here yet."), 1)
