"""Hostile input: malformed, mistyped and oversized frames thrown at a live relay. Every frame gets
exactly one answer (NOTICE, OK false, or CLOSED), and the relay keeps serving (this connection and
another one). The relay runs in its own thread and loop; the fuzzer uses websockets' sync client."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from nostr_desk.relay import RateLimit

from .helpers import ALICE, BOB, make, running_relay

MAX_MESSAGE = 20_000
VERBS = ["EVENT", "REQ", "CLOSE", "COUNT", "AUTH"]
VALID = make(ALICE, 1, "the template event", [["t", "fuzz"]]).to_obj()


@pytest.fixture(scope="module")
def relay_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz")
    ready = threading.Event()
    box: dict = {}

    async def main():
        generous = RateLimit(rate=1e6, burst=1e6)
        async with running_relay(path, max_message_length=MAX_MESSAGE, event_rate=generous, req_rate=generous,
                                 pubkey_event_rate=generous) as relay:
            box.update(url=relay.url, loop=asyncio.get_running_loop(), stop=asyncio.Event())
            ready.set()
            await box["stop"].wait()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(10), "relay did not start"
    yield box["url"]
    box["loop"].call_soon_threadsafe(box["stop"].set)
    thread.join(10)


@pytest.fixture(scope="module")
def ws(relay_url):
    with connect(relay_url, open_timeout=5, close_timeout=2, max_size=None) as conn:
        assert json.loads(conn.recv(timeout=5))[0] == "AUTH"
        yield conn


scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=20))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
                           max_leaves=12)


def not_a_message(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return True
    return not isinstance(value, list) or not value or value[0] not in VERBS


def mutate(obj: dict, key: str, how: str, value) -> dict:
    out = dict(obj)
    if how == "drop":
        out.pop(key, None)
    elif how == "set":
        out[key] = value
    else:
        out["extra_" + key] = value
    return out


not_json = st.text(max_size=200).filter(not_a_message)
non_arrays = json_values.filter(lambda v: not isinstance(v, list)).map(json.dumps)
bad_verbs = st.tuples(json_values.filter(lambda v: v not in VERBS), st.lists(json_values, max_size=3)).map(
    lambda t: json.dumps([t[0], *t[1]]))
bad_arity = st.sampled_from([["EVENT"], ["EVENT", VALID, VALID], ["REQ"], ["COUNT"], ["CLOSE"], ["CLOSE", "a", "b"],
                             ["AUTH"], ["AUTH", VALID, 1], []]).map(json.dumps)
mutated_events = st.tuples(
    st.sampled_from(["EVENT", "AUTH"]),
    st.sampled_from(list(VALID)),
    st.sampled_from(["drop", "set", "extra"]),
    json_values,
).map(lambda t: (t[0], mutate(VALID, t[1], t[2], t[3])))
bad_filter = st.one_of(
    st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in ("search",) and not (len(k) == 2 and k[0] == "#" and k[1].isalpha())),
                    json_values, min_size=1, max_size=3).filter(
        lambda d: any(k not in ("ids", "authors", "kinds", "since", "until", "limit") for k in d)),
    st.tuples(st.sampled_from(["ids", "authors", "kinds", "since", "until", "limit", "#e", "#p", "search"]),
              st.one_of(st.text(max_size=5), st.lists(st.floats(allow_nan=False), min_size=1, max_size=2), st.dictionaries(st.text(max_size=2), scalars, max_size=1))).map(lambda t: {t[0]: t[1]}).filter(
        lambda d: not isinstance(d.get("search"), str)),  # a string search is a valid filter
    json_values.filter(lambda v: not isinstance(v, dict)),
)
bad_reqs = st.tuples(st.sampled_from(["REQ", "COUNT"]), st.text(min_size=1, max_size=10), bad_filter).map(json.dumps)
bad_sub_ids = st.tuples(st.sampled_from(["REQ", "COUNT", "CLOSE"]),
                        st.one_of(st.just(""), st.text(min_size=65, max_size=80), json_values.filter(lambda v: not isinstance(v, str)))
                        ).map(lambda t: json.dumps([t[0], t[1]] + ([{}] if t[0] != "CLOSE" else [])))
oversized = st.one_of(
    st.integers(MAX_MESSAGE + 1, 3 * MAX_MESSAGE).map(lambda n: json.dumps(["EVENT", VALID | {"content": "x" * n}])),
    st.integers(MAX_MESSAGE + 1, 3 * MAX_MESSAGE).map(lambda n: "[" + " " * n + "]"),
)
deep = st.integers(200, 5000).map(lambda n: "[" * n + "]" * n)
binary = st.binary(max_size=100).filter(lambda b: not_a_message(b.decode("utf-8", "replace")))

frames = st.one_of(not_json, non_arrays, bad_verbs, bad_arity, mutated_events.map(lambda p: json.dumps(list(p))),
                   bad_reqs, bad_sub_ids, oversized, deep, binary)


def answered(reply: list) -> bool:
    kind = reply[0]
    if kind == "NOTICE":
        return isinstance(reply[1], str) and ":" in reply[1]
    if kind == "OK":
        return reply[2] is False and ":" in reply[3]
    return kind == "CLOSED" and ":" in reply[2]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.filter_too_much])
@given(frames)
def test_every_bad_frame_answered(ws, data):
    if isinstance(data, str):
        assume(data != json.dumps(["EVENT", VALID]) and data != json.dumps(["AUTH", VALID]))
    ws.send(data)
    reply = json.loads(ws.recv(timeout=5))
    assert answered(reply), f"{str(data)[:200]!r} -> {reply}"


def test_relay_still_serves_after_the_fuzz(ws, relay_url):
    ws.send(json.dumps(["REQ", "after", {"kinds": [1]}]))
    # exactly one answer per bad frame: the next message must belong to this REQ
    first = json.loads(ws.recv(timeout=5))
    assert first[0] in ("EVENT", "EOSE") and first[1] == "after"
    with connect(relay_url, open_timeout=5) as other:
        assert json.loads(other.recv(timeout=5))[0] == "AUTH"
        ev = make(BOB, 1, "still serving")
        other.send(json.dumps(["EVENT", ev.to_obj()]))
        assert json.loads(other.recv(timeout=5)) == ["OK", ev.id, True, ""]
