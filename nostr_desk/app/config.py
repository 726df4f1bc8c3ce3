"""The app's one configuration: a frozen `AppConfig` built once from defaults, the settings file and CLI flags.

Precedence (lowest to highest): built-in defaults → `settings.json` in the data folder → command-line
flags. The result is passed down explicitly; nothing below `app/` reads the environment or a global.
The Settings page edits the same file through `save_settings`; changes apply on the next start.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from nostr_desk.app.paths import AppPaths, default_paths
from nostr_desk.app.relay_list import RelaySetting

log = logging.getLogger(__name__)

DEFAULT_RELAY_PORT = 4869


@dataclass(frozen=True)
class Limits:
    """Limits the local relay enforces (and advertises in NIP-11) and the store caps queries with."""

    max_message_bytes: int = 256 * 1024
    max_subscriptions: int = 64
    max_filters: int = 16
    max_limit: int = 5000
    max_event_tags: int = 2500
    max_content_length: int = 64 * 1024
    store_quota_mb: int = 2048


@dataclass(frozen=True)
class AppConfig:
    data_dir: Path
    relay_host: str = "127.0.0.1"
    relay_port: int = DEFAULT_RELAY_PORT
    relay_enabled: bool = True
    limits: Limits = field(default_factory=Limits)
    # The user's relays with their NIP-65 flags and AUTH policy (the Relays page edits them).
    relays: tuple[RelaySetting, ...] = ()
    log_level: str = "INFO"
    # Why settings.json was not used, for the window to say (empty: it was used, or there is none).
    settings_problem: str = ""

    @property
    def paths(self) -> AppPaths:
        return AppPaths(self.data_dir)

    @property
    def relay_url(self) -> str:
        host = f"[{self.relay_host}]" if ":" in self.relay_host else self.relay_host
        return f"ws://{host}:{self.relay_port}"


class SettingsError(ValueError):
    """The settings file exists but cannot be used (bad JSON or wrong types)."""


_LIMIT_KEYS = {f.name for f in fields(Limits)}
_TOP_KEYS = {"relay_host", "relay_port", "relay_enabled", "relays", "log_level", "limits"}


def read_settings(path: Path) -> dict[str, Any]:
    """The settings file as a dict; {} when it does not exist. Raises SettingsError when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SettingsError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} must hold a JSON object")
    return data


def save_settings(path: Path, settings: Mapping[str, Any]) -> None:
    """Write the settings atomically (a crash mid-write must not leave a half file)."""
    _check(dict(settings))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def settings_of(config: AppConfig) -> dict[str, Any]:
    """The file form of a config (what the Settings page starts from)."""
    return {
        "relay_host": config.relay_host,
        "relay_port": config.relay_port,
        "relay_enabled": config.relay_enabled,
        "relays": [r.to_obj() for r in config.relays],
        "log_level": config.log_level,
        "limits": {f.name: getattr(config.limits, f.name) for f in fields(Limits)},
    }


def build_config(
    data_dir: str | Path | None = None,
    *,
    relay_host: str | None = None,
    relay_port: int | None = None,
    relay_enabled: bool | None = None,
) -> AppConfig:
    """Defaults ← settings file ← flags. A broken settings file is logged and ignored (the app must start)."""
    paths = default_paths(data_dir)
    problem = ""
    try:
        settings = read_settings(paths.settings_file)
        _check(settings)
    except SettingsError as exc:
        # Start with the defaults, and leave the file alone: it is the user's, and saving over it
        # would lose what they wrote. The window says so (Services.problems["settings"]).
        log.warning("ignoring the settings file: %s", exc)
        settings = {}
        problem = (f"Settings not used: {exc}. nostr-desk runs with the default settings and leaves the file "
                   "as it is; fix or remove it, then restart.")
    config = _apply(AppConfig(data_dir=paths.data_dir, settings_problem=problem), settings)
    flags = {"relay_host": relay_host, "relay_port": relay_port, "relay_enabled": relay_enabled}
    return replace(config, **{k: v for k, v in flags.items() if v is not None})


def _apply(config: AppConfig, settings: Mapping[str, Any]) -> AppConfig:
    limits = replace(config.limits, **{k: v for k, v in settings.get("limits", {}).items() if k in _LIMIT_KEYS})
    top = {k: v for k, v in settings.items() if k in _TOP_KEYS - {"limits"}}
    if "relays" in top:
        top["relays"] = tuple(RelaySetting.from_obj(r) for r in top["relays"])
    return replace(config, limits=limits, **top)


def _check(settings: dict[str, Any]) -> None:
    """Types and ranges, so a hand-edited file gives one clear message instead of a crash later."""
    unknown = set(settings) - _TOP_KEYS
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    expect = {"relay_host": str, "relay_enabled": bool, "log_level": str, "relays": list, "limits": dict}
    for key, kind in expect.items():
        if key in settings and not isinstance(settings[key], kind):
            raise SettingsError(f"{key} must be a {kind.__name__}")
    port = settings.get("relay_port", DEFAULT_RELAY_PORT)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise SettingsError("relay_port must be a number from 0 to 65535")
    for key, value in settings.get("limits", {}).items():
        if key not in _LIMIT_KEYS:
            raise SettingsError(f"unknown limit: {key}")
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise SettingsError(f"limit {key} must be a positive whole number")
    for entry in settings.get("relays", []):
        try:
            RelaySetting.from_obj(entry)
        except ValueError as exc:
            raise SettingsError(f"relays: {exc}") from None
