"""Run nostr-desk as a desktop in dark mode would: Fusion style, dark colour scheme (Qt's own when the
platform honours it, else a plain dark palette). For demo.sh's DARK=1 screenshots; Xvfb has no desktop
to say "dark", and the app follows whatever palette the system gives it.
Usage: python dark_palette.py [nostr-desk arguments...]"""

import sys
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette, QColor
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
app.setStyle("Fusion")
app.styleHints().setColorScheme(Qt.ColorScheme.Dark)
pal = app.palette()
if pal.color(QPalette.ColorRole.Window).lightness() > 128:
    p = QPalette()
    for role, c in [("Window", "#2b2b2b"), ("WindowText", "#e6e6e6"), ("Base", "#1e1e1e"), ("AlternateBase", "#2a2a2a"),
                    ("Text", "#e6e6e6"), ("Button", "#353535"), ("ButtonText", "#e6e6e6"), ("Highlight", "#2a82da"),
                    ("HighlightedText", "#ffffff"), ("PlaceholderText", "#9a9a9a"), ("ToolTipBase", "#353535"),
                    ("ToolTipText", "#e6e6e6"), ("Mid", "#555555"), ("Light", "#505050"), ("Dark", "#202020")]:
        p.setColor(getattr(QPalette.ColorRole, role), QColor(c))
    disabled = QPalette.ColorGroup.Disabled  # greyed, or disabled buttons look enabled
    for role in ("WindowText", "Text", "ButtonText", "HighlightedText"):
        p.setColor(disabled, getattr(QPalette.ColorRole, role), QColor("#6e6e6e"))
    p.setColor(disabled, QPalette.ColorRole.Button, QColor("#2f2f2f"))
    app.setPalette(p)
from nostr_desk.app.cli import main
sys.argv = ["nostr-desk"] + sys.argv[1:]
sys.exit(main())
