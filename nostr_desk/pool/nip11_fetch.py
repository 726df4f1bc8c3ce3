"""NIP-11 relay information, fetched over HTTP(S) with `Accept: application/nostr+json`, with a
timeout and a cache; the document is read by the core's `protocol.nip11.parse` into `RelayInfo`. A small asyncio-streams GET (HTTP/1.1, Connection: close) keeps the pool free
of another HTTP library; the document is a few KB at most.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Callable
from urllib.parse import urlsplit

from nostr_desk.protocol import nip11
from nostr_desk.protocol.errors import ProtocolError
from nostr_desk.protocol.nip11 import RelayInfo

MAX_BYTES = 256 * 1024


class Nip11Error(Exception):
    pass


def http_target(relay_url: str) -> tuple[str, int, bool, str]:
    """(host, port, tls, path) of the HTTP request for a ws:// or wss:// relay URL."""
    parts = urlsplit(relay_url)
    tls = parts.scheme == "wss"
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise Nip11Error(f"not a relay URL: {relay_url!r}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, parts.port or (443 if tls else 80), tls, path


async def fetch_info(relay_url: str, timeout: float) -> RelayInfo:
    try:
        return await asyncio.wait_for(_fetch(relay_url), timeout)
    except asyncio.TimeoutError:
        raise Nip11Error(f"NIP-11 fetch timed out after {timeout:g}s") from None
    except (OSError, ssl.SSLError) as exc:
        raise Nip11Error(f"NIP-11 fetch failed: {exc}") from None


async def _fetch(relay_url: str) -> RelayInfo:
    host, port, tls, path = http_target(relay_url)
    reader, writer = await asyncio.open_connection(host, port, ssl=ssl.create_default_context() if tls else None,
                                                   server_hostname=host if tls else None)
    try:
        hostport = host if port in (80, 443) else f"{host}:{port}"
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {hostport}\r\nAccept: application/nostr+json\r\n"
                     f"User-Agent: nostr-desk\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read(MAX_BYTES + 1)
        while len(data) <= MAX_BYTES:
            more = await reader.read(MAX_BYTES + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        writer.close()
    return parse_response(data)


def parse_response(data: bytes) -> RelayInfo:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise Nip11Error("malformed HTTP response")
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or not status[1].isdigit():
        raise Nip11Error("malformed HTTP status line")
    if status[1] != "200":
        raise Nip11Error(f"HTTP {status[1]}")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    try:
        return nip11.parse(body)
    except ProtocolError as exc:
        raise Nip11Error(f"bad relay information: {exc}") from None


def _dechunk(body: bytes) -> bytes:
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            raise Nip11Error("malformed chunked body") from None
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2:]
    return out


class Nip11Cache:
    """url -> (fetched at, info or error); entries live `ttl` seconds. Lookups of a URL that is
    being fetched wait for that fetch instead of starting another."""

    def __init__(self, timeout: float, ttl: float = 3600.0, error_ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout, self.ttl, self.error_ttl, self.clock = timeout, ttl, error_ttl, clock
        self._cache: dict[str, tuple[float, RelayInfo | Nip11Error]] = {}
        self._inflight: dict[str, asyncio.Future] = {}

    async def get(self, relay_url: str) -> RelayInfo:
        hit = self._cache.get(relay_url)
        if hit is not None and self.clock() - hit[0] < (self.error_ttl if isinstance(hit[1], Nip11Error) else self.ttl):
            return _unwrap(hit[1])
        pending = self._inflight.get(relay_url)
        if pending is not None:       # shield: a waiter that gives up does not cancel the others
            return _unwrap(await asyncio.shield(pending))
        fut = asyncio.get_running_loop().create_future()
        self._inflight[relay_url] = fut
        try:
            try:
                info: RelayInfo | Nip11Error = await fetch_info(relay_url, self.timeout)
            except Nip11Error as exc:
                info = exc
            self._cache[relay_url] = (self.clock(), info)
            fut.set_result(info)
        except BaseException:         # cancelled: the waiters get an answer too, not a hang
            fut.set_result(Nip11Error("NIP-11 fetch cancelled"))
            raise
        finally:
            del self._inflight[relay_url]
        return _unwrap(info)


def _unwrap(info: RelayInfo | Nip11Error) -> RelayInfo:
    if isinstance(info, Nip11Error):
        raise info
    return info
