"""The relays table: one row per relay of the user's list, with its NIP-65 flags and live health.

A `RelayRow` is built from the pool's `HealthSnapshot` plus the user's flags and AUTH policy; the
model never talks to the pool itself (the page feeds it), so it is checked with plain rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from nostr_desk.ui.models.base import Column, RowTableModel

GOOD = {"connected", "open", "ready", "authenticated"}
TRYING = {"connecting", "authenticating", "new", "starting"}  # backoff / breaker-open / waiting: down


@dataclass(frozen=True)
class RelayRow:
    url: str
    read: bool = True
    write: bool = True
    status: str = "new"
    ping_ms: float | None = None
    eose_ms: float | None = None
    ok_ms: float | None = None
    success_rate: float | None = None
    rate_limited: int = 0
    verify_failures: int = 0
    events: int = 0
    auth: str = ""
    policy: str = "ask"
    breaker: str = "closed"
    messages: tuple[str, ...] = field(default=(), compare=True)   # recent NOTICE / CLOSED / OK-false
    last_error: str = ""
    paused_for: int = 0            # seconds the pool still leaves this relay alone (rate limits)

    @classmethod
    def from_snapshot(cls, snap: Any, *, read: bool = True, write: bool = True, policy: str = "ask") -> "RelayRow":
        latest = dict(getattr(snap, "latest", {}) or {})
        messages = tuple(m for m in (
            _labelled("NOTICE", snap.last_notice), _labelled("CLOSED", snap.last_closed),
            _labelled("OK false", snap.last_ok_false)) if m)
        return cls(url=snap.url, read=read, write=write, status=str(snap.status),
                   ping_ms=latest.get("ping_ms", latest.get("connect_ms")),
                   eose_ms=latest.get("eose_ms"), ok_ms=latest.get("ok_ms"),
                   success_rate=snap.success_rate, rate_limited=snap.rate_limited,
                   verify_failures=snap.verify_failures, events=snap.events_received,
                   auth=str(snap.auth), policy=policy, breaker=str(snap.breaker),
                   messages=messages, last_error=snap.last_error,
                   paused_for=int(round(getattr(snap, "paused_for", 0) or 0)))


def _labelled(label: str, text: str) -> str:
    return f"{label}: {text}" if text else ""


def status_level(status: str) -> float:
    """For the Status chart: 2 connected, 1 trying, 0 down."""
    status = status.lower()
    return 2.0 if status in GOOD else 1.0 if status in TRYING else 0.0


def light_colour(status: str) -> str:
    status = status.lower()
    if status in GOOD:
        return "#2ecc71"
    if status in TRYING:
        return "#f1c40f"
    if status in {"paused", "rate-limited"}:
        return "#e67e22"
    return "#e74c3c"


@lru_cache(maxsize=16)
def light(colour: str) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(colour))
    painter.setPen(QColor(0, 0, 0, 60))
    painter.drawEllipse(1, 1, 12, 12)
    painter.end()
    return QIcon(pix)


STATUS_TEXT = {
    "connected": "connected", "connecting": "connecting…", "disconnected": "disconnected",
    "backoff": "down, retrying", "breaker-open": "down, paused", "waiting": "down, waiting",
    "closed": "closed", "new": "new",
}


def status_text(value: str | tuple[str, int]) -> str:
    if isinstance(value, tuple):  # (status, seconds paused after a rate-limit signal)
        return f"{status_text(value[0])}, rate-limited: paused {value[1]} s"
    return STATUS_TEXT.get(value.lower(), value)


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _yes(value: bool) -> str:
    return "✓" if value else ""


class RelaysModel(RowTableModel[RelayRow]):
    columns = (
        Column("Relay", lambda r: r.url, tooltip="The relay's address",
               decoration=lambda r: light(light_colour(r.status)),
               cell_tooltip=lambda r: f"{r.url}\nstatus: {r.status}" + (f"\n{r.last_error}" if r.last_error else "")),
        Column("Status", lambda r: r.status if not r.paused_for else (r.status, r.paused_for), status_text,
               tooltip="Connection state. 'down, paused': too many failures, the pool leaves it alone "
               "for a while (circuit breaker)", cell_tooltip=lambda r: f"{r.status}; breaker {r.breaker}"
               + (f"\n{r.last_error}" if r.last_error else "")),
        Column("Read", lambda r: r.read, _yes, tooltip="NIP-65: read from this relay (your inbox)"),
        Column("Write", lambda r: r.write, _yes, tooltip="NIP-65: publish to this relay (your outbox)"),
        Column("Latency", lambda r: r.ping_ms, _ms, tooltip="Last ping round-trip", align_right=True),
        Column("EOSE", lambda r: r.eose_ms, _ms, tooltip="Last REQ → EOSE time", align_right=True),
        Column("Success", lambda r: r.success_rate, _pct, tooltip="Share of recent requests that worked",
               align_right=True),
        Column("Rate-limited", lambda r: r.rate_limited, tooltip="rate-limited: answers and NOTICEs received",
               align_right=True),
        Column("Bad sigs", lambda r: r.verify_failures, tooltip="Events from this relay that failed verification",
               align_right=True),
        Column("Events", lambda r: r.events, tooltip="Events received from this relay", align_right=True),
        Column("AUTH", lambda r: r.policy, tooltip="NIP-42: answer this relay's AUTH challenges "
               "always / ask / never", cell_tooltip=lambda r: f"policy {r.policy}; state {r.auth or 'none'}"),
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(key=lambda r: r.url, parent=parent)
