"""TEMPORARY shim until protocol/relay_url.py (engineer "protocol-nips") lands: delete it then.

Normalises a relay URL: ws/wss only, lowercase scheme and host, default ports dropped, no fragment,
trailing slash of an empty path dropped. A bad URL raises ValueError with a clear message.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def normalize_relay_url(url: str) -> str:
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad relay URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "wss"):
        raise ValueError(f"bad relay URL {url!r}: scheme must be ws:// or wss://")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"bad relay URL {url!r}: no host")
    if parts.username or parts.password:
        raise ValueError(f"bad relay URL {url!r}: credentials are not allowed")
    if port in ((80 if scheme == "ws" else 443), None):
        netloc = f"[{host}]" if ":" in host else host
    else:
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    path = parts.path if parts.path not in ("", "/") else ""
    return urlunsplit((scheme, netloc, path, parts.query, ""))
