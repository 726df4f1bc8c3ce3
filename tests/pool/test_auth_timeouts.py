"""NIP-42 with a signer that never returns: the AUTH attempt gives up after `signer_timeout`, the
publish waiting on it gets the relay's auth-required: answer and stays pending in the outbox."""

from __future__ import annotations

import asyncio

from nostr_desk.pool.pool import RelayPool

from .events import make_event
from .fault_relay import Faults, FaultRelay
from .helpers import arun, fast_config, signer


def test_a_signer_that_never_returns_is_given_up_on():
    calls = []

    async def stuck_signer(template):
        calls.append(template)
        await asyncio.Event().wait()          # a keyring prompt nobody answers

    async def go():
        relay = await FaultRelay(faults=Faults(require_auth=True)).start()
        pool = RelayPool(fast_config(signer_timeout=0.3, ok_timeout=1.0), None, signer=stuck_signer)
        report = await asyncio.wait_for(pool.publish(make_event(700), [relay.url]), 8)
        assert calls, "the signer was never asked"
        assert report.pending and not report.delivered
        assert report.outcomes[0].message.startswith("auth-required:")
        conn = pool.connections[relay.url]
        assert conn.auth.state == "failed" and relay.auths == 0
        # A signer that answers (the user unlocked the keyring) is used on the next try.
        conn.auth.signer = signer
        report = await asyncio.wait_for(pool.publish(make_event(700), [relay.url]), 8)
        assert report.delivered and relay.auths == 1 and make_event(700).id in relay.events
        await pool.close()
        await relay.stop()

    arun(go(), timeout=20)
