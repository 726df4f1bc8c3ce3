"""Per-note delivery for the user's own notes: which relays accepted, which are still being tried.

Fed by the `PublishReport` an action returns and then by the pool's live `PublishResult` notices (the
durable outbox keeps retrying in the background), it gives the text shown under each own note.
"""

from __future__ import annotations

from typing import Any


class DeliveryBook:
    def __init__(self) -> None:
        self.states: dict[str, dict[str, str]] = {}   # event id -> relay url -> accepted|rejected|pending

    def started(self, event_id: str, report: Any) -> None:
        if report is None:
            self.states.setdefault(event_id, {})
            return
        # pool.PublishReport has .outcomes, posting.Delivery has .relays: both carry url and state
        items = getattr(report, "outcomes", None) or getattr(report, "relays", ())
        self.states[event_id] = {o.url: o.state for o in items}

    def result(self, result: Any) -> None:
        relays = self.states.setdefault(result.event_id, {})
        if result.accepted:
            relays[result.url] = "accepted"
        elif result.final:
            relays[result.url] = "rejected"
        elif relays.get(result.url) != "accepted":
            relays[result.url] = "pending"

    def text(self, event_id: str) -> str:
        relays = self.states.get(event_id)
        if relays is None:
            return ""
        if not relays:
            return "saved locally; no write relays"
        accepted = sum(1 for s in relays.values() if s == "accepted")
        text = f"accepted by {accepted} of {len(relays)} relays"
        if any(s == "pending" for s in relays.values()):
            text += " · retrying…"
        rejected = sum(1 for s in relays.values() if s == "rejected")
        if rejected:
            text += f" · {rejected} refused"
        return text
