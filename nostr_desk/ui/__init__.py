"""The desktop interface (PySide6): main window, pages, item models, and the bridge from services to Qt."""
