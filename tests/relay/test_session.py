"""The sans-I/O parts, driven with plain strings and a fake clock: session actions, token buckets,
and the pure policy helpers."""

from __future__ import annotations

import json

from nostr_desk.relay import RateLimit, RelayConfig
from nostr_desk.relay.auth import acceptable_relay_urls
from nostr_desk.relay.policy import ACCEPT, Reject, WriteContext, leading_zero_bits, precheck
from nostr_desk.relay.ratelimit import KeyedBuckets, TokenBucket
from nostr_desk.relay.session import Ingest, Query, Send, Session, Subscribe, Unsubscribe, VerifyAuth

from .helpers import ALICE, BOB, CAROL, make, now


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def session(**overrides) -> tuple[Session, FakeClock]:
    clock = FakeClock()
    urls = acceptable_relay_urls("127.0.0.1", 4869)
    s = Session(RelayConfig(**overrides), challenge="chal", relay_urls=urls, wall_clock=lambda: float(now()),
                monotonic=clock)
    return s, clock


def sent(actions) -> list[list]:
    return [json.loads(a.frame) for a in actions if isinstance(a, Send)]


def test_greeting_is_an_auth_challenge():
    s, _ = session()
    assert sent(s.greeting()) == [["AUTH", "chal"]]


def test_event_becomes_ingest_and_bad_event_an_ok_false():
    s, _ = session()
    ev = make(ALICE)
    (action,) = s.receive(json.dumps(["EVENT", ev.to_obj()]))
    assert isinstance(action, Ingest) and action.event == ev
    bad = ev.to_obj() | {"pubkey": "XYZ"}
    assert sent(s.receive(json.dumps(["EVENT", bad])))[0][:3] == ["OK", ev.id, False]


def test_req_subscribes_and_queries_with_clamped_limits():
    s, _ = session(max_limit=10, default_limit=5)
    actions = s.receive(json.dumps(["REQ", "a", {"limit": 50}, {}, {"limit": 0}, {"ids": []}]))
    sub, query = actions
    assert isinstance(sub, Subscribe) and isinstance(query, Query)
    assert [f.limit for f in query.filters] == [10, 5]  # limit:0 and never-matching filters skip the query
    assert sub.sub.filters[0].limit == 50  # live matching keeps the client's filters
    again = s.receive(json.dumps(["REQ", "a", {}]))
    assert isinstance(again[0], Unsubscribe) and again[0].sub is sub.sub and sub.sub.closed
    assert s.receive(json.dumps(["CLOSE", "nope"])) == []


def test_rate_limit_refills_with_the_clock():
    s, clock = session(event_rate=RateLimit(rate=1, burst=1))
    frame = lambda i: json.dumps(["EVENT", make(ALICE, content=str(i)).to_obj()])  # noqa: E731
    assert isinstance(s.receive(frame(1))[0], Ingest)
    assert sent(s.receive(frame(2)))[0][3].startswith("rate-limited:")
    clock.t += 1.0
    assert isinstance(s.receive(frame(3))[0], Ingest)


def test_auth_flow_adds_every_verified_pubkey():
    s, _ = session()
    for sk in (ALICE, BOB):
        ev = make(sk, 22242, "", [["relay", "ws://localhost:4869"], ["challenge", "chal"]])
        (action,) = s.receive(json.dumps(["AUTH", ev.to_obj()]))
        assert isinstance(action, VerifyAuth)
        assert sent(s.auth_checked(ev, s.check_auth(ev))) == [["OK", ev.id, True, ""]]
    assert s.authed == {ALICE.public_key, BOB.public_key}
    other = make(CAROL, 22242, "", [["relay", "ws://localhost:4869"], ["challenge", "other"]], created_at=now() - 1)
    (reply,) = sent(s.auth_checked(other, s.check_auth(other)))
    assert reply[2] is False and reply[3].startswith("auth-required:")
    assert CAROL.public_key not in s.authed


def test_token_bucket_and_keyed_lru():
    clock = FakeClock()
    b = TokenBucket(RateLimit(rate=2, burst=4), clock)
    assert all(b.take() for _ in range(4)) and not b.take()
    assert abs(b.retry_after() - 0.5) < 1e-9
    clock.t += 0.5
    assert b.take() and not b.take()
    keyed = KeyedBuckets(RateLimit(rate=0, burst=1), clock, max_keys=3)
    for k in "abcd":
        assert keyed.take(k)
    assert len(keyed) == 3
    assert keyed.take("a")  # "a" was forgotten (LRU), so it starts full again
    assert not keyed.take("d")


def test_leading_zero_bits_matches_nip13_examples():
    assert leading_zero_bits("000000000e9d97a1ab09fc381030b346cdd7a142ad57e6df0b46dc9bef6c7e2d") == 36
    assert leading_zero_bits("002f" + "f" * 60) == 10
    assert leading_zero_bits("f" * 64) == 0 and leading_zero_bits("0" * 64) == 256


def test_precheck_order_and_verdicts():
    cfg = RelayConfig(blocked_kinds=frozenset({7}), created_at_upper_limit=10)
    ctx = WriteContext(now=now())
    assert precheck(make(ALICE), cfg, ctx) is ACCEPT
    future_blocked = make(ALICE, 7, created_at=now() + 100)
    verdict = precheck(future_blocked, cfg, ctx)
    assert isinstance(verdict, Reject) and verdict.message.startswith("blocked:")  # kind rules come first


def test_auth_relay_tag_may_name_any_of_our_urls():
    urls = acceptable_relay_urls("127.0.0.1", 4869, ("wss://desk.lan",), host_header="127.0.0.1:4869")
    assert urls[0] == "ws://127.0.0.1:4869" and {"ws://localhost:4869", "ws://[::1]:4869", "wss://desk.lan"} <= set(urls)
    s = Session(RelayConfig(), challenge="chal", relay_urls=urls, wall_clock=lambda: float(now()), monotonic=FakeClock())
    for tag, ok in [("ws://LOCALHOST:4869/", True), ("ws://[::1]:4869", True), ("wss://desk.lan/", True),
                    ("ws://localhost:4870", False), ("wss://desk.lan:8443", False), ("ftp://x", False)]:
        ev = make(ALICE, 22242, "", [["relay", tag], ["challenge", "chal"]])
        problem = s.check_auth(ev)
        assert (problem is None) == ok, (tag, problem)
        if not ok:
            assert problem.reason.startswith("auth-required:")
