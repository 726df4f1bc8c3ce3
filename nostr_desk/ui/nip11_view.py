"""A NIP-11 relay information document as readable text (name, software, version, NIPs, limits, contact).

Accepts the raw dict or an object with the same attributes (protocol/nip11 model); tolerant of
whatever a relay sends, since many documents are incomplete or odd.
"""

from __future__ import annotations

import dataclasses
from typing import Any

FIELDS = (("name", "Name"), ("description", "Description"), ("software", "Software"),
          ("version", "Version"), ("contact", "Contact"), ("pubkey", "Operator pubkey"))


def as_dict(doc: Any) -> dict[str, Any]:
    if doc is None:
        return {}
    if isinstance(doc, dict):
        return doc
    if dataclasses.is_dataclass(doc) and not isinstance(doc, type):  # protocol.nip11.RelayInfo
        data = {k: v for k, v in dataclasses.asdict(doc).items() if v not in (None, (), {})}
        if isinstance(data.get("limitation"), dict):
            data["limitation"] = {k: v for k, v in data["limitation"].items() if v is not None}
        data.pop("extra", None)
        return data
    for name in ("to_obj", "to_dict", "as_dict"):
        method = getattr(doc, name, None)
        if callable(method):
            return dict(method())
    raw = getattr(doc, "raw", None)
    if isinstance(raw, dict):
        return raw
    return {k: v for k, v in vars(doc).items() if not k.startswith("_")} if hasattr(doc, "__dict__") else {}


def describe_nip11(doc: Any) -> str:
    data = as_dict(doc)
    if not data:
        return "NIP-11: loading…" if doc == {} else "NIP-11: not loaded"
    if "_error" in data:
        return f"NIP-11: not available ({data['_error']})"
    lines = [f"{label}: {_short(data[key])}" for key, label in FIELDS if data.get(key)]
    nips = data.get("supported_nips")
    if isinstance(nips, (list, tuple)) and nips:
        lines.append("Supported NIPs: " + ", ".join(str(n) for n in nips))
    limits = data.get("limitation")
    if isinstance(limits, dict):
        shown = [f"{k.replace('_', ' ')}: {_value(v)}" for k, v in sorted(limits.items())
                 if v not in (None, {}, []) and k != "extra"]
        if shown:
            lines.append("Limitations:\n  " + "\n  ".join(shown))
    return "\n".join(lines) or "NIP-11: the document is empty"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _short(value: Any, n: int = 300) -> str:
    text = str(value)
    return text if len(text) <= n else text[: n - 1] + "…"
