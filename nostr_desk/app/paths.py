"""Where nostr-desk keeps its files, per OS (platformdirs). Computed once in the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "nostr-desk"


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path

    @property
    def event_db(self) -> Path:
        """The one SQLite event store (local relay + client cache)."""
        return self.data_dir / "events.sqlite3"

    @property
    def accounts_file(self) -> Path:
        return self.data_dir / "accounts.json"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def settings_file(self) -> Path:
        return self.data_dir / "settings.json"

    def ensure(self) -> AppPaths:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self


def default_paths(data_dir: str | Path | None = None) -> AppPaths:
    """The user's data folder, or `data_dir` when given (the `--data-dir` option)."""
    return AppPaths(Path(data_dir) if data_dir else platformdirs.user_data_path(APP_NAME))
