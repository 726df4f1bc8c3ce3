"""The composition root's config (defaults ← file ← flags) and the log's secret redaction."""

from __future__ import annotations

import json
import logging

import pytest

from nostr_desk.app.config import SettingsError, build_config, save_settings, settings_of
from nostr_desk.app.logging_setup import MASK, redact, setup_logging

SECRET_HEX = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"


def test_defaults_then_file_then_flags(tmp_path):
    assert build_config(tmp_path).relay_port == 4869
    save_settings(tmp_path / "settings.json", {"relay_port": 5000, "limits": {"max_limit": 77}})
    config = build_config(tmp_path)
    assert (config.relay_port, config.limits.max_limit) == (5000, 77)
    assert build_config(tmp_path, relay_port=6001).relay_port == 6001
    assert config.relay_url == "ws://127.0.0.1:5000"


def test_settings_round_trip(tmp_path):
    config = build_config(tmp_path, relay_host="::1")
    save_settings(tmp_path / "settings.json", settings_of(config))
    assert build_config(tmp_path) == config
    assert build_config(tmp_path).relay_url == "ws://[::1]:4869"


@pytest.mark.parametrize("bad", [{"relay_port": 70000}, {"relay_port": "80"}, {"limits": {"max_limit": 0}},
                                 {"limits": {"nope": 1}}, {"colour": "red"}, {"relays": [1]}])
def test_bad_settings_refused_on_save_and_ignored_on_start(tmp_path, bad, caplog):
    with pytest.raises(SettingsError):
        save_settings(tmp_path / "settings.json", bad)
    (tmp_path / "settings.json").write_text(json.dumps(bad))
    with caplog.at_level(logging.WARNING):
        assert build_config(tmp_path).relay_port == 4869  # the app still starts, with defaults
    assert "ignoring the settings file" in caplog.text


def test_unreadable_json_is_ignored(tmp_path):
    (tmp_path / "settings.json").write_text("{not json")
    assert build_config(tmp_path).relay_enabled is True


def test_redact_masks_secret_forms_only():
    text = f"key {SECRET_HEX} and {NSEC} and short id {SECRET_HEX[:12]} ncryptsec1qgg9947rlpvqu76pj5ecreduf"
    out = redact(text)
    assert SECRET_HEX not in out and NSEC not in out and "ncryptsec1qgg" not in out
    assert out.count(MASK) == 3 and SECRET_HEX[:12] in out


def test_no_secret_reaches_the_log_file(tmp_path):
    path = setup_logging(tmp_path / "logs", stderr=False)
    logger = logging.getLogger("nostr_desk.test")
    logger.warning("arg %s", SECRET_HEX)
    logger.info("in message " + NSEC)
    try:
        raise ValueError(f"bad key {NSEC}")
    except ValueError:
        logger.exception("traceback carries %r", SECRET_HEX.upper())
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "arg [redacted]" in text and "ValueError: bad key [redacted]" in text
    assert SECRET_HEX not in text.lower() and NSEC not in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    setup_logging(tmp_path / "logs2", stderr=False)  # a second call replaces our handler, not adds one
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_nostr_desk", False)]
    assert len(ours) == 1
    for h in ours:
        logging.getLogger().removeHandler(h)
        h.close()
