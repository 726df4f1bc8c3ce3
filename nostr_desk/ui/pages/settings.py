"""The Settings page: data folder, local relay port and bind address, limits; saved to settings.json.

Changes apply on the next start (the services are built once from a frozen config). Light/dark is not
a setting: Qt follows the system's colour scheme, and every colour here comes from the palette.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QWidget)

from nostr_desk.ui.pages.base import Page, page_layout

LIMIT_LABELS = {
    "max_message_bytes": ("Largest message (bytes)", "Frames bigger than this are refused with a NOTICE"),
    "max_subscriptions": ("Subscriptions per connection", "A client opening more gets CLOSED"),
    "max_filters": ("Filters per REQ", "REQs with more filters are refused"),
    "max_limit": ("Largest query limit", "Any filter's limit is capped to this"),
    "max_event_tags": ("Tags per event", "Events with more tags are refused"),
    "max_content_length": ("Content length (characters)", "Longer event content is refused"),
    "store_quota_mb": ("Store quota (MB)", "Old events of strangers are evicted past this; "
                       "your own events, profiles, contacts and relay lists never are"),
}


class SettingsPage(Page):
    title = "Settings"
    tooltip = "Data folder, local relay address, limits"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config: Any = None
        layout = page_layout(self, "Settings", "Changes are saved to the settings file and take effect "
                             "the next time nostr-desk starts. Light and dark follow your system.")
        self.data_dir = QLineEdit()
        self.data_dir.setReadOnly(True)
        self.data_dir.setToolTip("Where events, accounts list, settings and logs live. "
                                 "Start with --data-dir to use another folder.")
        open_dir = QPushButton("Open folder")
        open_dir.setToolTip("Open the data folder in the file manager")
        open_dir.clicked.connect(self._open_data_dir)
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(open_dir)
        folder = QGroupBox("Data folder")
        folder.setLayout(row)
        layout.addWidget(folder)

        relay = QGroupBox("Local relay")
        form = QFormLayout(relay)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.enabled = QCheckBox("Start the local relay with nostr-desk")
        self.enabled.setToolTip("Serve this machine's cached events to other Nostr clients at "
                                "ws://bind address:port")
        self.host = QLineEdit()
        self.host.setToolTip("127.0.0.1 keeps the relay private to this machine. "
                             "0.0.0.0 exposes it to your network: only do that on purpose.")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setToolTip("The port clients connect to (ws://host:port)")
        self.host.setMaximumWidth(320)
        form.addRow(self.enabled)
        form.addRow("Bind address", self.host)
        form.addRow("Port", self.port)
        layout.addWidget(relay)

        limits = QGroupBox("Limits")
        lform = QFormLayout(limits)
        lform.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.limits: dict[str, QSpinBox] = {}
        for key, (label, tip) in LIMIT_LABELS.items():
            box = QSpinBox()
            box.setRange(1, 2_000_000_000)
            box.setToolTip(tip)
            box.setGroupSeparatorShown(True)
            box.setMinimumWidth(160)
            self.limits[key] = box
            lform.addRow(label, box)
        layout.addWidget(limits)

        buttons = QHBoxLayout()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Write settings.json in the data folder")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.save_button.setEnabled(False)  # until the services (and so the settings file) are known
        # Until then the form would show placeholder values (port 1, limits 1) as if they were real.
        self.form_parts = (folder, relay, limits)
        for part in self.form_parts:
            part.setEnabled(False)
        self.message.setText("Reading the settings…")

    def attach(self, services: Any, bridge: Any) -> None:
        super().attach(services, bridge)
        self.load(services.config)
        problem = services.problems.get("settings")
        if problem:  # the form shows the defaults in use; Save merges into the file, so bad JSON refuses it
            self.message.setText(problem)
            self.message.setStyleSheet("color: #c0392b;")

    def load(self, config: Any) -> None:
        self.config = config
        self.save_button.setEnabled(True)
        for part in self.form_parts:
            part.setEnabled(True)
        self.message.setText("")
        self.data_dir.setText(str(config.data_dir))
        self.enabled.setChecked(config.relay_enabled)
        self.host.setText(config.relay_host)
        self.port.setValue(config.relay_port)
        for key, box in self.limits.items():
            box.setValue(getattr(config.limits, key))

    def values(self) -> dict[str, Any]:
        return {
            "relay_enabled": self.enabled.isChecked(),
            "relay_host": self.host.text().strip() or "127.0.0.1",
            "relay_port": self.port.value(),
            "limits": {key: box.value() for key, box in self.limits.items()},
        }

    def save(self) -> None:
        """Merge the form into the existing file (keeps keys this page does not show, e.g. relays)."""
        try:
            settings = self.services.read_settings()
            settings.update(self.values())
            self.services.save_settings(settings)
        except (OSError, ValueError) as exc:
            self.message.setText(f"Not saved: {exc}")
            self.message.setStyleSheet("color: #c0392b;")
            return
        self.message.setText("Saved. Restart nostr-desk to apply.")
        self.message.setStyleSheet("")

    def _open_data_dir(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.config.data_dir)))
