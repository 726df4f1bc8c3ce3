"""`PoolConfig`: every timeout, backoff, breaker threshold, cap and concurrency budget of the pool.

Frozen and passed in explicitly (built once in app/); nothing in the pool reads globals or the env.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

AuthPolicy = Literal["always", "ask", "never"]


@dataclass(frozen=True)
class PoolConfig:
    # --- timeouts (seconds) ----------------------------------------------------------------------
    connect_timeout: float = 8.0
    eose_timeout: float = 6.0          # a slow relay does not hold a fetch hostage past this
    ok_timeout: float = 10.0           # publish -> OK
    nip11_timeout: float = 5.0
    auth_timeout: float = 8.0          # AUTH -> OK
    # The NIP-42 signer callback (the keys service; it may wait on a keyring unlock prompt). A signer
    # that never returns would otherwise hold the relay's AUTH, and every publish waiting on it, for ever.
    signer_timeout: float = 30.0
    close_timeout: float = 2.0
    send_timeout: float = 10.0         # a relay that stops reading fills our buffers: never wait longer
    ping_interval: float = 30.0        # our own RTT probe; 0 disables
    ping_timeout: float = 10.0

    # --- reconnect backoff -----------------------------------------------------------------------
    backoff_base: float = 0.5
    backoff_cap: float = 120.0
    # Floors used when the failure will not heal soon: an HTTP 4xx/5xx answer to the upgrade, or the
    # relay rejecting us repeatedly (rate-limited:, blocked:).
    backoff_http_floor: float = 30.0
    backoff_rejection_floor: float = 15.0
    rate_limit_pause: float = 10.0     # how long a relay is left alone after a rate-limit signal
    stable_after: float = 5.0          # a connection that dies younger than this counts as a failure
    closed_retries: int = 3            # re-sends of a REQ the relay CLOSED with rate-limited:
    # A resubscribe asks for events since (last known complete - this). created_at is the author's
    # clock and notes reach relays late (rebroadcasts, slow clients), so a few seconds would miss
    # them; re-fetching 15 minutes costs only id look-ups (de-duplicated before verifying).
    resubscribe_margin: float = 900.0

    # --- circuit breaker ---------------------------------------------------------------------------
    breaker_failure_threshold: int = 5     # consecutive failures that open the breaker
    breaker_open_seconds: float = 60.0     # before a half-open trial is allowed
    breaker_half_open_successes: int = 1   # trial successes that close it again

    # --- caps ----------------------------------------------------------------------------------------
    max_relays_per_author: int = 3     # NIP-65 outbox model
    max_connections: int = 50
    max_read_relays: int = 8           # relays a fetch fans out to when none are named
    idle_close_after: float = 300.0    # a relay not in the user's lists, unused this long, is closed
    max_message_bytes: int = 2**20

    # --- bulkheads: separate concurrency budgets ---------------------------------------------------
    user_concurrency: int = 8          # the user's own actions: publish, open a thread
    background_concurrency: int = 4    # backfill, profile fetching

    # --- publishing ------------------------------------------------------------------------------
    # Retry answers (error:, rate-limited:) before a relay is given up for one publish; timeouts and
    # dropped connections never exhaust it (the outbox is durable until a relay accepts).
    publish_max_attempts: int = 12
    outbox_retry_interval: float = 5.0     # how often the ticker looks for retries that are due
    # Each pending (event, relay) waits base * 2^(failed rounds - 1), capped, before its next try (kept
    # in the outbox, so a restart does not hammer a dead relay either).
    publish_retry_base: float | None = None    # None: outbox_retry_interval
    publish_retry_cap: float = 600.0

    # --- verification --------------------------------------------------------------------------------
    verify_batch_offload: int = 64     # this many new events in one batch go to a worker thread

    # --- health ------------------------------------------------------------------------------------
    health_window: int = 50            # samples a success rate is measured over
    health_history: int = 512          # in-memory samples kept per relay and metric
    health_persist: bool = True        # write samples to the store's health_samples table
    health_retention_days: float = 30.0
    subscription_queue: int = 10_000   # unread events a live subscription keeps (oldest dropped)
    fetch_max_events: int = 50_000     # a fetch keeps at most this many (and its limits' worth)
    verify_backlog: int = 4096         # unverified new events per subscription before we stop reading a relay
    stall_timeout: float = 10.0        # longest we stop reading a relay for a subscription's backlog

    # --- NIP-42 ------------------------------------------------------------------------------------
    auth_default: AuthPolicy = "ask"
    auth_policies: dict[str, AuthPolicy] = field(default_factory=dict)  # normalised URL -> policy

    def auth_policy(self, url: str) -> AuthPolicy:
        return self.auth_policies.get(url, self.auth_default)
