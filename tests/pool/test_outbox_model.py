"""NIP-65 outbox model planning: per-author and total caps, sharing relays, health preference."""

from __future__ import annotations

from nostr_desk.pool.outbox_model import plan, relay_list


def test_relay_list_read_write_markers():
    read, write = relay_list([["r", "wss://A.example/"], ["r", "wss://b.example", "write"],
                              ["r", "wss://c.example", "read"], ["r", "http://bad"], ["p", "x"]])
    assert read == ["wss://a.example", "wss://c.example"]
    assert write == ["wss://a.example", "wss://b.example"]


def test_plan_caps_and_prefers_shared_relays():
    lists = {
        "alice": ([], ["wss://1", "wss://2", "wss://3", "wss://4"]),
        "bob": ([], ["wss://9", "wss://3"]),
        "carol": ([], ["wss://8"]),
    }
    out = plan(lists, ["alice", "bob", "carol", "dave"], per_author=2, total=3, prefer=["wss://3"])
    assert len(out) <= 3
    assert "alice" in out["wss://3"] and "bob" in out["wss://3"]        # shared and preferred
    assert sum("alice" in v for v in out.values()) == 2
    assert all("dave" not in v for v in out.values())                   # no list: caller's defaults


def test_plan_read_side():
    lists = {"alice": (["wss://inbox"], ["wss://outbox"])}
    assert plan(lists, ["alice"], per_author=3, total=5, use="read") == {"wss://inbox": {"alice"}}
