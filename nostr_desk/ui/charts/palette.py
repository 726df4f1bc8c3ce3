"""Relay colours for charts and legends (no pyqtgraph import, so pages can colour without it)."""

PALETTE = ("#3b82f6", "#ef4444", "#10b981", "#f59e0b", "#8b5cf6", "#ec4899", "#14b8a6", "#84cc16",
           "#f97316", "#6366f1", "#06b6d4", "#a855f7")


def colour_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def dashed(index: int) -> bool:
    """Past the palette, colours repeat: the second round is drawn dashed so 13+ relays stay apart."""
    return (index // len(PALETTE)) % 2 == 1
