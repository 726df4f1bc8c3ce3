"""NIP-11 on the relay's own port (JSON for the nostr Accept header, HTML for browsers, CORS and
pre-flight), `limitation` parity with what is enforced, the Origin check, and max connections."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from .helpers import ALICE, Client, make, running_relay


def http(url: str, *, accept: str | None = None, method: str = "GET") -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url.replace("ws://", "http://"), method=method)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


async def get(url: str, **kw) -> tuple[int, dict, bytes]:
    return await asyncio.to_thread(http, url, **kw)


async def test_nip11_document_with_cors(tmp_path):
    async with running_relay(tmp_path, name="test relay", pubkey=ALICE.public_key) as relay:
        status, headers, body = await get(relay.url, accept="application/nostr+json")
        assert status == 200 and headers["content-type"].startswith("application/nostr+json")
        for h in ("access-control-allow-origin", "access-control-allow-headers", "access-control-allow-methods"):
            assert h in headers
        doc = json.loads(body)
        assert doc["name"] == "test relay" and doc["pubkey"] == ALICE.public_key
        assert {1, 9, 11, 40, 42, 45, 50, 70} <= set(doc["supported_nips"])
        assert doc == relay.config.to_nip11()
        # NIP-11's `software` is the URL of the relay software's project; nostr-desk has no published
        # home, so the field is left out rather than filled with an invented address.
        assert "software" not in doc and doc["version"]


async def test_browser_gets_html_not_json_and_preflight_works(tmp_path):
    async with running_relay(tmp_path) as relay:
        status, headers, body = await get(relay.url, accept="text/html,application/xhtml+xml")
        assert status == 200 and headers["content-type"].startswith("text/html") and b"<html" in body
        status, headers, _ = await get(relay.url, method="OPTIONS")
        assert status == 204 and headers["access-control-allow-origin"] == "*"
        assert "GET" in headers["access-control-allow-methods"]
        # and the same port still speaks websocket
        async with Client.open(relay.url + "/any/path") as c:
            assert (await c.publish(make(ALICE)))[0]


async def test_limitation_values_are_what_is_enforced(tmp_path):
    overrides = dict(max_message_length=4000, max_subscriptions=2, max_filters=2, max_limit=2,
                     max_event_tags=3, max_content_length=50, created_at_upper_limit=100)
    async with running_relay(tmp_path, **overrides) as relay, Client.open(relay.url) as c:
        _, _, body = await get(relay.url, accept="application/nostr+json")
        lim = json.loads(body)["limitation"]
        for k, v in overrides.items():
            assert lim[k] == v
        # each advertised limit holds at exactly its value
        assert (await c.publish(make(ALICE, content="x" * lim["max_content_length"])))[0]
        assert not (await c.publish(make(ALICE, content="y" * (lim["max_content_length"] + 1))))[0]
        tags = [["t", str(i)] for i in range(lim["max_event_tags"])]
        assert (await c.publish(make(ALICE, content="t", tags=tags)))[0]
        assert not (await c.publish(make(ALICE, content="t", tags=tags + [["t", "x"]])))[0]
        for i in range(3):
            await c.publish(make(ALICE, content=f"n{i}"))
        assert len(await c.req("l", {"limit": 100})) == lim["max_limit"]
        assert (await c.closed_reason("f", *([{}] * (lim["max_filters"] + 1)))).startswith("invalid:")
        await c.req("s2", {})
        assert (await c.closed_reason("s3", {})).startswith("blocked:")
        big = make(ALICE, content="z" * 10)
        padded = json.dumps(["EVENT", big.to_obj()]) + " " * (lim["max_message_length"])
        await c.send_raw(padded)
        reply = await c.next(lambda m: m[0] in ("OK", "NOTICE"))
        assert reply[-1].startswith("invalid:")


async def test_origin_check(tmp_path):
    async with running_relay(tmp_path, allowed_origins=frozenset({"https://client.example"})) as relay:
        for origin in ("http://localhost:5173", "http://127.0.0.1:8080", "https://client.example"):
            async with connect(relay.url, origin=origin) as ws:
                assert json.loads(await ws.recv())[0] == "AUTH"
        for origin in ("https://evil.example", "null"):
            with pytest.raises(InvalidStatus) as err:
                async with connect(relay.url, origin=origin):
                    pass
            assert err.value.response.status_code == 403


async def test_max_connections(tmp_path):
    async with running_relay(tmp_path, max_connections=2) as relay:
        async with Client.open(relay.url), Client.open(relay.url):
            with pytest.raises(InvalidStatus) as err:
                async with connect(relay.url):
                    pass
            assert err.value.response.status_code == 503
        # immediate reconnect once there is room again
        for _ in range(50):
            if len(relay._server.connections) < 2:
                break
            await asyncio.sleep(0.02)
        async with Client.open(relay.url) as c:
            assert (await c.publish(make(ALICE)))[0]
