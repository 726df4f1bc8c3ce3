"""The local relay's configuration (one frozen dataclass) and the NIP-11 document built from it.

Everything the relay enforces is read from `RelayConfig`, and `to_nip11()` derives the advertised
`limitation` from the same fields, so what clients are told is exactly what is enforced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nostr_desk import __version__
from nostr_desk.protocol.messages import MAX_SUB_ID

# NIPs the relay implements (client-side NIPs are not advertised, per NIP-11).
SUPPORTED_NIPS = (1, 9, 11, 13, 40, 42, 45, 50, 70)


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: `rate` tokens per second, holding at most `burst`."""

    rate: float
    burst: float


@dataclass(frozen=True)
class RelayConfig:
    # --- where -------------------------------------------------------------------------------
    host: str = "127.0.0.1"  # loopback by default; binding elsewhere is an explicit choice
    port: int = 4869
    # Extra URLs clients may put in the NIP-42 "relay" tag (e.g. a LAN name); loopback forms of
    # our own host:port are always accepted.
    public_urls: tuple[str, ...] = ()
    # --- NIP-11 identity ---------------------------------------------------------------------
    name: str = "nostr-desk local relay"
    description: str = "A personal relay embedded in nostr-desk, serving the events this machine has cached."
    contact: str = ""
    pubkey: str = ""
    # --- limits (advertised in NIP-11 `limitation`) -----------------------------------------------
    max_message_length: int = 512 * 1024  # bytes of one incoming frame; a 5,000-follow list fits
    max_subscriptions: int = 64  # per connection
    max_filters: int = 16  # per REQ / COUNT
    max_limit: int = 500  # each filter's limit is clamped to this
    default_limit: int = 500  # the limit of a filter that gives none
    max_event_tags: int = 10_000
    max_content_length: int = 256 * 1024  # unicode characters
    created_at_lower_limit: int | None = None  # seconds into the past; None accepts any age
    created_at_upper_limit: int = 15 * 60  # seconds into the future
    min_pow_difficulty: int = 0  # NIP-13 leading zero bits; 0 turns the check off
    # --- rate limits (per connection, and per author across connections) ------------------------
    event_rate: RateLimit = RateLimit(rate=5_000, burst=20_000)
    req_rate: RateLimit = RateLimit(rate=100, burst=400)  # REQ and COUNT
    pubkey_event_rate: RateLimit = RateLimit(rate=2_000, burst=10_000)
    # --- connections and back-pressure ------------------------------------------------------------
    max_connections: int = 4_000
    allowed_origins: frozenset[str] = frozenset()  # beyond loopback origins, which are always allowed
    outbox_max_frames: int = 4_096  # frames queued for one client before it counts as slow
    outbox_max_bytes: int = 8 * 1024 * 1024
    max_inflight_events: int = 512  # EVENTs of one connection awaiting their OK
    # --- NIP-42 and read/write policy --------------------------------------------------------------
    auth_required: bool = False  # True: nothing but AUTH until the client authenticates
    auth_window: int = 10 * 60  # an AUTH event's created_at must be this close to now
    restricted_kinds: frozenset[int] = frozenset({4, 1059})  # readable only by their parties
    accept_protected: bool = True  # NIP-70 events accepted from their authenticated author
    blocked_pubkeys: frozenset[str] = frozenset()
    allowed_pubkeys: frozenset[str] | None = None  # None: anyone may write
    blocked_kinds: frozenset[int] = frozenset()
    # --- live delivery of events stored by others (the app's pool, `post`, `import`) -------------
    tail_interval: float = 0.15  # seconds between reads of the store's newest rows
    tail_batch: int = 2_000  # rows read per tick: bounds the fan-out work of one tick
    fanned_out_memory: int = 32_768  # ids remembered so an event is delivered live only once
    # --- idle connections (not in NIP-11: it has no field for this) --------------------------------
    idle_timeout: float | None = 10 * 60  # seconds without subscriptions or messages; None: never
    # --- the signature verifier ----------------------------------------------------------------------
    verify_workers: int = 2
    verified_cache_size: int = 65_536

    @property
    def restricted_writes(self) -> bool:
        return bool(self.allowed_pubkeys is not None or self.blocked_kinds or self.min_pow_difficulty)

    @property
    def websocket_max_size(self) -> int:
        """The hard frame cap given to websockets. It sits above `max_message_length` so that a
        somewhat oversized frame reaches the session and gets a NOTICE / OK `invalid:` answer rather
        than a bare close; only absurd frames (4x) make websockets close with 1009."""
        return self.max_message_length * 4

    def to_nip11(self) -> dict[str, Any]:
        """The NIP-11 relay information document for this configuration.

        No `software` field: NIP-11 defines it as the URL of the relay software's project, and
        nostr-desk has no published address; a made-up URL or a bare name would mislead clients that
        link it. `version` alone still identifies the build."""
        limitation: dict[str, Any] = {
            "max_message_length": self.max_message_length,
            "max_subscriptions": self.max_subscriptions,
            "max_filters": self.max_filters,
            "max_limit": self.max_limit,
            "max_subid_length": MAX_SUB_ID,
            "max_event_tags": self.max_event_tags,
            "max_content_length": self.max_content_length,
            "min_pow_difficulty": self.min_pow_difficulty,
            "auth_required": self.auth_required,
            "payment_required": False,
            "restricted_writes": self.restricted_writes,
            "created_at_upper_limit": self.created_at_upper_limit,
            "default_limit": self.default_limit,
        }
        if self.created_at_lower_limit is not None:
            limitation["created_at_lower_limit"] = self.created_at_lower_limit
        doc: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "supported_nips": list(SUPPORTED_NIPS),
            "version": __version__,
            "limitation": limitation,
        }
        if self.pubkey:
            doc["pubkey"] = self.pubkey
        if self.contact:
            doc["contact"] = self.contact
        return doc
