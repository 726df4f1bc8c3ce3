"""The Monitor page (being built)."""

from __future__ import annotations

from nostr_desk.ui.pages.base import Page, empty_state, page_layout


class MonitorPage(Page):
    title = "Monitor"
    tooltip = "Live health charts per relay"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = page_layout(self, "Monitor")
        layout.addWidget(empty_state("Nothing here yet."), 1)
