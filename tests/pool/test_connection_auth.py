"""NIP-42 on a RelayConnection against the fault relay: the "ask" answer kept for the session, a
failing signer or asker, a flood of challenges, an authentication cancelled half-way."""

from __future__ import annotations

import asyncio

from nostr_desk.pool.auth import AuthGate
from nostr_desk.pool.connection import RelayConnection

from .events import make_event
from .fault_relay import Faults, FaultRelay
from .helpers import _yes, arun, collector, fast_config, signer, until


def test_ask_policy_asks_once_per_session_not_per_connection():
    # A flaky relay reconnecting every minute must not put a dialog in front of the user each time.
    async def go():
        asked = []

        async def ask(url):
            asked.append(url)
            return True

        relay = await FaultRelay(faults=Faults(require_auth=True)).start()
        relay.add(make_event(1))
        gate = AuthGate(relay.url, "ask", signer, ask=ask, timeout=2)
        conn = RelayConnection(relay.url, fast_config(), auth=gate)
        sub, got, eoses, closed = collector()
        await conn.subscribe(sub)
        await until(lambda: len(eoses) == 1)
        for ws in list(relay._clients):
            ws.transport.abort()
        await until(lambda: len(eoses) == 2)
        assert relay.auths == 2 and len(asked) == 1 and closed == []
        gate.reset_answer()                   # the policy changed: ask again
        for ws in list(relay._clients):
            ws.transport.abort()
        await until(lambda: len(eoses) == 3)
        assert len(asked) == 2
        await conn.close()
        await relay.stop()
    arun(go())


def test_ask_refusal_is_remembered_across_reconnects():
    async def go():
        asked = []

        async def ask(url):
            asked.append(url)
            return False

        relay = await FaultRelay(faults=Faults(require_auth=True)).start()
        conn = RelayConnection(relay.url, fast_config(), auth=AuthGate(relay.url, "ask", signer, ask=ask, timeout=2))
        assert await conn.wait_connected(5)
        ok, msg = await conn.publish(make_event(2))
        assert not ok and msg.startswith("auth-required:")
        for ws in list(relay._clients):
            ws.transport.abort()
        await until(lambda: conn.health.disconnects == 1)
        assert await conn.wait_connected(5)
        ok, msg = await conn.publish(make_event(3))
        assert not ok and len(asked) == 1 and relay.auths == 0
        await conn.close()
        await relay.stop()
    arun(go())


def test_a_failing_signer_or_asker_is_an_auth_failure_not_a_crash():
    # The keyring may be locked or the account watch-only: the publish gets the relay's answer.
    async def broken_signer(template):
        raise LookupError("no key vault")

    async def broken_ask(url):
        raise RuntimeError("window closed")

    async def go():
        relay = await FaultRelay(faults=Faults(require_auth=True)).start()
        for gate in (AuthGate(relay.url, "always", broken_signer, ask=None, timeout=2),
                     AuthGate(relay.url, "ask", signer, ask=broken_ask, timeout=2)):
            conn = RelayConnection(relay.url, fast_config(), auth=gate)
            assert await conn.wait_connected(5)
            ok, msg = await conn.publish(make_event(4))
            assert not ok and msg.startswith("auth-required:") and gate.state in ("failed", "refused")
            sub, got, eoses, closed = collector()
            await conn.subscribe(sub)
            await until(lambda: len(closed) == 1)
            assert closed[0].startswith("auth-required:")
            await conn.close()
        await relay.stop()
    arun(go())


def test_a_flood_of_auth_challenges_is_answered_once_not_once_each():
    # A hostile or buggy relay sends hundreds of challenges: we must not sign (and send) an AUTH
    # event for every one of them.
    async def go():
        signed = []

        async def counting_signer(template):
            signed.append(template)
            return await signer(template)

        for spam in (Faults(auth_spam=300), Faults(auth_spam=15, auth_spam_interval=0.03)):
            relay = await FaultRelay(faults=spam).start()
            signed.clear()
            conn = RelayConnection(relay.url, fast_config(),
                                   auth=AuthGate(relay.url, "always", counting_signer, ask=None, timeout=2))
            assert await conn.wait_connected(5)
            await until(lambda: relay.auth_messages >= 1)
            await asyncio.sleep(0.6)
            assert len(signed) <= 2 and relay.auth_messages <= 2
            await conn.close()
            await relay.stop()
    arun(go())


def test_a_cancelled_authentication_does_not_stay_authenticating():
    async def go():
        async def slow_signer(template):
            await asyncio.sleep(5)
            return await signer(template)

        relay = await FaultRelay(faults=Faults(require_auth=True, late_challenge=True)).start()
        gate = AuthGate(relay.url, "ask", slow_signer, ask=lambda url: _yes(), timeout=2)   # no helper task
        conn = RelayConnection(relay.url, fast_config(), auth=gate)
        assert await conn.wait_connected(5)
        publishing = asyncio.ensure_future(conn.publish(make_event(5)))
        await until(lambda: gate.state == "authenticating")
        publishing.cancel()
        await asyncio.gather(publishing, return_exceptions=True)
        assert gate.state == "failed" and conn.health.auth == "failed"
        await conn.close()
        await relay.stop()
    arun(go())
