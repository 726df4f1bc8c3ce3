"""The relay list changes the running pool through its public API and keeps the settings file in step:
read/write flags (NIP-65) and the per-relay NIP-42 policy, which also survive a restart."""

from __future__ import annotations

import json

import pytest

from nostr_desk.app.config import build_config
from nostr_desk.app.services import Services
from nostr_desk.protocol.filters import Filter
from tests.pool.fault_relay import FaultRelay, Faults
from tests.ui.helpers import fast_pool


@pytest.fixture
def relay(run):
    r = run(FaultRelay().start())
    yield r
    run(r.stop())


def saved(config) -> list[dict]:
    return json.loads(config.paths.settings_file.read_text())["relays"]


def test_flags_change_the_pool_and_the_file_and_come_back_after_a_restart(config, services, relay, run):
    url = services.relay_list.add(relay.url).url
    pool = services.pool
    assert url in pool.read_relays and url in pool.write_relays

    services.relay_list.set_flags(url, read=False, write=True)
    assert url not in pool.read_relays and url in pool.write_relays
    services.relay_list.set_flags(url, read=True, write=False)
    assert url in pool.read_relays and url not in pool.write_relays
    services.relay_list.set_policy(url, "never")
    assert saved(config) == [{"url": url, "read": True, "write": False, "auth": "never"}]

    again = Services(build_config(config.data_dir, relay_port=0), pool_config=fast_pool())
    run(again.start())
    try:
        assert again.relay_list.get(url).auth == "never"
        assert url in again.pool.read_relays and url not in again.pool.write_relays
    finally:
        run(again.aclose())


def test_changing_the_auth_policy_forgets_an_earlier_no(config, services, run):
    if services.vault is None:
        pytest.skip(f"no keyring: {services.problems.get('vault')}")
    services.vault.use(services.vault.generate("me").pubkey)
    services.refresh_auth_signer()
    asked: list[str] = []

    async def say_no(url: str) -> bool:
        asked.append(url)
        return False

    services.auth_asker = say_no
    relay = run(FaultRelay(faults=Faults(require_auth=True)).start())
    try:
        url = services.relay_list.add(relay.url, auth="ask").url
        run(services.pool.fetch([Filter(kinds=frozenset({1}), limit=1)], relays=[url]))
        assert asked == [url] and services.pool.health()[url].auth == "refused"

        services.relay_list.set_policy(url, "always")

        # The pool's setter drops the remembered "no" and shows it at once (a bare policy write did not).
        assert services.pool.health()[url].auth != "refused"
        run(services.pool.fetch([Filter(kinds=frozenset({1}), limit=1)], relays=[url]))
        assert relay.auths >= 1 and services.pool.health()[url].auth == "authenticated"
    finally:
        run(relay.stop())
