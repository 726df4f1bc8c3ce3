"""Health bookkeeping with injected clocks: latencies as series, success rate, rate-limit pauses."""

from __future__ import annotations

import asyncio

from nostr_desk.pool.health import RelayHealth, mentions_rate_limit
from nostr_desk.pool.notices import HealthSample, NoticeHub, StatusChanged


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.now = t

    def __call__(self) -> float:
        return self.now


def make(**kw):
    mono, wall = Clock(100.0), Clock(1_700_000_000.0)
    samples = []
    h = RelayHealth("ws://x", clock=mono, wall=wall, on_sample=lambda *a: samples.append(a), **kw)
    return h, mono, wall, samples


def test_samples_are_timestamped_series_and_forwarded():
    h, _, wall, samples = make()
    h.sample("connect_ms", 12.5)
    wall.now += 5
    h.sample("connect_ms", 20.0)
    assert list(h.series["connect_ms"]) == [(1_700_000_000.0, 12.5), (1_700_000_005.0, 20.0)]
    assert samples[-1] == ("ws://x", 1_700_000_005.0, "connect_ms", 20.0)
    assert h.snapshot().latest == {"connect_ms": 20.0}
    assert h.average("connect_ms") == 16.25


def test_history_is_bounded():
    h, *_ = make(history=4)
    for i in range(10):
        h.sample("ping_ms", float(i))
    assert [v for _, v in h.series["ping_ms"]] == [6.0, 7.0, 8.0, 9.0]


def test_success_rate_over_window():
    h, *_ = make(window=4)
    assert h.success_rate is None
    h.failure("boom"); h.success(); h.success(); h.success(); h.success()
    assert h.success_rate == 1.0
    h.failure()
    assert h.success_rate == 0.75 and h.last_error == "boom"


def test_rate_limit_signals_pause_the_relay():
    h, mono, *_ = make()
    h.ok_false("rate-limited: slow down", pause=10)
    assert h.rate_limited == 1 and h.paused_for() == 10
    mono.now += 4
    h.notice("you are being rate limited", pause=10)
    assert h.rate_limited == 2 and h.paused_for() == 10
    h.closed("error: shutting down", pause=10)
    assert h.rate_limited == 2 and h.last_closed == "error: shutting down"
    mono.now += 11
    assert h.paused_for() == 0
    h.ok_false("invalid: bad sig", pause=10)
    assert h.rate_limited == 2 and h.last_ok_false == "invalid: bad sig"


def test_rate_limit_text_detection():
    assert mentions_rate_limit("rate-limited: x")
    assert mentions_rate_limit("Too many requests")
    assert mentions_rate_limit("error: too many concurrent REQs")
    assert mentions_rate_limit("you are sending events too fast, slow down")
    assert not mentions_rate_limit("welcome")
    # Limits on what one message may hold are not about our pace: pausing the relay would only
    # hold back everything else we send it.
    assert not mentions_rate_limit("invalid: too many tags")
    assert not mentions_rate_limit("error: too many filters in REQ")


def test_notice_hub_queue_keeps_newest_and_contains_bad_callbacks():
    async def go():
        hub = NoticeHub()
        q = hub.queue(maxsize=2)
        got = []
        hub.subscribe(got.append)
        hub.subscribe(lambda n: 1 / 0)
        for i in range(3):
            hub.emit(HealthSample("u", float(i), "ping_ms", 1.0))
        hub.emit(StatusChanged("u", "idle", "connected"))
        assert len(got) == 4 and hub.dropped >= 4
        items = [q.get_nowait(), q.get_nowait()]
        assert isinstance(items[-1], StatusChanged) and items[0].at == 2.0
    asyncio.run(go())
