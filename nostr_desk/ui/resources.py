"""Finding the files in `resources/` from a checkout, an installed package or a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon


def resource_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)  # PyInstaller one-folder app
    candidates = [Path(bundle) / "resources"] if bundle else []
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    for path in candidates:
        if path.is_dir():
            return path
    return candidates[-1]


def app_icon() -> QIcon:
    return QIcon(str(resource_dir() / "nostr-desk.svg"))
