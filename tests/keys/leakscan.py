"""The leak scanner: looks for any secret key that existed during a test in everything the test left
behind — log records (DEBUG and up, every logger), stdout/stderr, every file under tmp_path, the reprs
of watched objects, and watched exceptions with their whole chain (cause, context, traceback text).

Which secrets? Every `SecretKey` constructed in this process during the test (recorded by wrapping its
constructor), plus secrets read back from keyring services the test used (for CLI subprocesses).
Each is searched as hex (any case), nsec, the repr of its bytes (in text), and raw bytes (in files).
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from nostr_desk.protocol import bech32


@dataclass
class Finding:
    channel: str  # log, stdout, stderr, file, repr, exception
    where: str
    form: str  # hex, HEX, nsec, raw


def secret_forms(secret: bytes) -> dict[str, bytes]:
    return {
        "hex": secret.hex().encode(),  # matched in any case
        "nsec": bech32.encode("nsec", secret).encode(),
        "raw": secret,
        "bytes-repr": repr(secret)[2:-1].encode(),  # b'\\x..' as a repr of the raw bytes shows it
    }


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self._formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        # Format everything a real handler would write: message, args, exception and stack text.
        self.texts.append(self._formatter.format(record) + repr(record.args))


@dataclass
class LeakScan:
    secrets: list[bytes] = field(default_factory=list)
    watched: list[object] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)
    roots: list[Path] = field(default_factory=list)
    services: list[str] = field(default_factory=list)  # keyring services to harvest secrets from
    # Set by the scanner's self-test: the channels it planted a leak in (the scan must find exactly those).
    expected_channels: set[str] = field(default_factory=set)

    def add_secret(self, secret: bytes) -> None:
        if secret not in self.secrets:
            self.secrets.append(bytes(secret))

    def watch(self, *objects: object) -> None:
        """Scan these at the end: repr/str, and for exceptions the whole chain and traceback."""
        self.watched.extend(objects)

    def add_text(self, channel: str, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.texts.setdefault(channel, []).append(text)

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        forms = [secret_forms(s) for s in self.secrets]
        for channel, texts in self.texts.items():
            for i, text in enumerate(texts):
                found += _search(text.encode("utf-8", "surrogateescape"), forms, channel, f"#{i}", text_only=True)
        for obj in self.watched:
            channel = "exception" if isinstance(obj, BaseException) else "repr"
            found += _search(_render(obj).encode(), forms, channel, type(obj).__name__, text_only=True)
        for root in self.roots:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                found += _search(path.read_bytes(), forms, "file", str(path), text_only=False)
        return found


def _render(obj: object) -> str:
    if not isinstance(obj, BaseException):
        return f"{obj!r} {obj!s}"
    parts, seen, todo = [], set(), [obj]
    while todo:  # walk cause and context, including suppressed context
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        parts += [repr(exc), str(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
        todo += [exc.__cause__, exc.__context__]
    return "\n".join(parts)


def _search(data: bytes, forms: list[dict[str, bytes]], channel: str, where: str, *, text_only: bool):
    hits = []
    for secret in forms:
        for name, needle in secret.items():
            if (text_only and name == "raw") or (not text_only and name == "bytes-repr"):
                continue
            if needle in data or (name in ("hex", "nsec") and needle.lower() in data.lower()):
                hits.append(Finding(channel, where, name))
                break
    return hits
