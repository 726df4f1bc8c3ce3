"""NIP-11 fetch: the Accept header is sent, answers are parsed by the core, timeouts and HTTP errors
are clear errors, results are cached (errors briefly)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings, strategies as st

from nostr_desk.pool.nip11_fetch import Nip11Cache, Nip11Error, fetch_info, parse_response

from .helpers import arun


async def http_server(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_accept_header_and_document():
    seen = []

    async def handler(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head.decode())
        body = b'{"name":"fault","supported_nips":[1,11]}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/nostr+json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async def go():
        server, port = await http_server(handler)
        cache = Nip11Cache(timeout=2)
        info = await cache.get(f"ws://127.0.0.1:{port}")
        again = await cache.get(f"ws://127.0.0.1:{port}")
        server.close()
        return info, again

    info, again = arun(go())
    assert info.name == "fault" and info.supported_nips == (1, 11) and again is info
    assert len(seen) == 1 and "accept: application/nostr+json" in seen[0].lower()


def test_timeout_and_http_error_are_clear():
    async def silent(reader, writer):
        await asyncio.sleep(5)

    async def refuse(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async def go():
        s1, p1 = await http_server(silent)
        s2, p2 = await http_server(refuse)
        with pytest.raises(Nip11Error, match="timed out"):
            await fetch_info(f"ws://127.0.0.1:{p1}", 0.3)
        with pytest.raises(Nip11Error, match="HTTP 404"):
            await fetch_info(f"ws://127.0.0.1:{p2}", 2)
        s1.close(); s2.close()

    arun(go())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_parse_response_never_crashes(data):
    try:
        parse_response(b"HTTP/1.1 200 OK\r\n\r\n" + data)
    except Nip11Error:
        pass
    try:
        parse_response(data)
    except Nip11Error:
        pass


def test_concurrent_lookups_share_one_request():
    # The Relays page asks for every relay's document at once, maybe twice: one request per relay.
    seen = []

    async def handler(reader, writer):
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        await asyncio.sleep(0.2)
        body = b'{"name":"one"}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async def go():
        server, port = await http_server(handler)
        cache = Nip11Cache(timeout=2)
        infos = await asyncio.gather(*(cache.get(f"ws://127.0.0.1:{port}") for _ in range(5)))
        server.close()
        return infos

    infos = arun(go())
    assert [i.name for i in infos] == ["one"] * 5 and len(seen) == 1
