"""Logging for the app: a rotating file in the data folder's `logs/`, behind a filter that masks secrets.

A secret must never reach the log, whatever a message or a traceback happens to contain, so the
redaction runs on the fully formatted text (message, arguments, exception and stack) of every record
before any handler writes it. What it masks: `nsec1…` (bech32 secret keys), `ncryptsec1…` (encrypted,
but still a password-guessing target) and any free-standing 64-hex run — a raw secret key looks exactly
like an event id or a pubkey, so all three are masked; log short ids (`id[:12]`) where one is useful.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

LOG_FILE = "nostr-desk.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# bech32 data characters; a key is far longer than 20 but a truncated paste is still a secret.
_BECH32 = r"[02-9ac-hj-np-z]"
_SECRET = re.compile(
    rf"\b(?:nsec1|ncryptsec1){_BECH32}{{20,}}"
    r"|(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])",
    re.IGNORECASE,
)
MASK = "[redacted]"


def redact(text: str) -> str:
    return _SECRET.sub(MASK, text)


class RedactSecrets(logging.Filter):
    """Rewrites the record in place so that every handler after it sees only the masked text."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(self._formatter.formatException(record.exc_info))
            record.exc_info = None  # formatters then use exc_text, the masked copy
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def setup_logging(log_dir: Path, level: str = "INFO", *, stderr: bool = True) -> Path:
    """Route the root logger to `log_dir/nostr-desk.log` (5 × 2 MB) and, optionally, stderr (warnings only)."""
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / LOG_FILE
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_nostr_desk", False):  # a second call (tests) replaces ours, not others'
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    handlers: list[logging.Handler] = [file_handler]
    if stderr:
        err = logging.StreamHandler()
        err.setLevel(logging.WARNING)
        err.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handlers.append(err)
    for handler in handlers:
        handler.addFilter(RedactSecrets())
        handler._nostr_desk = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    path.chmod(0o600)
    return path
