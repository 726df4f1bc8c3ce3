"""The plain-HTTP side of the relay port: NIP-11 JSON, CORS pre-flight, a small HTML page, and the
WebSocket `Origin` check. Used as websockets' `process_request` hook, so HTTP and WS share one port.
"""

from __future__ import annotations

import email.utils
import html
import json
from collections.abc import Callable
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from .auth import LOOPBACK_HOSTS
from .config import RelayConfig

NOSTR_JSON = "application/nostr+json"
CORS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Headers", "Accept, Content-Type, Authorization"),
    ("Access-Control-Allow-Methods", "GET, OPTIONS"),
)


def origin_allowed(origin: str | None, config: RelayConfig) -> bool:
    """Non-browser clients send no Origin; browsers do. Loopback pages are ours to trust, any other
    web page only when configured (else any site the user visits could read and write the relay)."""
    if origin is None:
        return True
    if origin in config.allowed_origins or "*" in config.allowed_origins:
        return True
    try:
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and (host in LOOPBACK_HOSTS or host.endswith(".localhost"))


def is_websocket_upgrade(request: Request) -> bool:
    return "websocket" in request.headers.get("Upgrade", "").lower()


def wants_nip11(request: Request) -> bool:
    return NOSTR_JSON in request.headers.get("Accept", "")


def respond(status: int, reason: str, body: bytes, content_type: str, extra: tuple[tuple[str, str], ...] = ()) -> Response:
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            *extra,
        ]
    )
    return Response(status, reason, headers, body)


def make_process_request(config: RelayConfig, full: Callable[[], bool]) -> Callable:
    """The hook: None lets a WebSocket handshake proceed; a Response answers plain HTTP."""
    nip11 = json.dumps(config.to_nip11(), separators=(",", ":")).encode()

    def process_request(connection, request: Request) -> Response | None:
        if request.method == "OPTIONS":
            return respond(204, "No Content", b"", "text/plain", CORS + (("Access-Control-Max-Age", "86400"),))
        if is_websocket_upgrade(request):
            if not origin_allowed(request.headers.get("Origin"), config):
                return respond(403, "Forbidden", b"origin not allowed\n", "text/plain; charset=utf-8")
            if full():
                return respond(503, "Service Unavailable", b"too many connections\n", "text/plain; charset=utf-8")
            return None
        if request.method not in ("GET", "HEAD"):
            return respond(405, "Method Not Allowed", b"", "text/plain", CORS)
        if wants_nip11(request):
            return respond(200, "OK", nip11, NOSTR_JSON, CORS)
        page = _html_page(config, request.headers.get("Host") or f"{config.host}:{config.port}")
        return respond(200, "OK", page.encode(), "text/html; charset=utf-8", CORS)

    return process_request


def _html_page(config: RelayConfig, host: str) -> str:
    name = html.escape(config.name)
    desc = html.escape(config.description)
    nips = ", ".join(str(n) for n in config.to_nip11()["supported_nips"])
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{name}</title></head><body><h1>{name}</h1><p>{desc}</p>"
        f"<p>This is a Nostr relay. Point a Nostr client at <code>ws://{html.escape(host)}</code>.</p>"
        f"<p>Supported NIPs: {nips}</p></body></html>\n"
    )
