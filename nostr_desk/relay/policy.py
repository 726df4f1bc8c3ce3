"""Write policy: the ordered, pure checks an incoming event passes before it is stored.

Each check takes the event, the config and a `WriteContext` (the time and who is authenticated) and
returns `None` (pass) or a `Reject(prefix, text)`. They run cheapest first, so a flood of bad events
costs no signature verification:

    size -> schema (the parser) -> shape limits -> kind rules -> timestamp window -> PoW
    -> protected (NIP-70) -> write policy                       [all here, on the event loop]
    -> connection rate limit                                    [session]
    -> id + signature                                           [verify.py, off the loop]
    -> per-author rate limit (only once the signature proves who the author is)  [server]
    -> store (duplicate / replaced / deleted / expired outcomes)

Outcomes are values: `Accept` or `Reject`; nothing here raises for a bad event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from nostr_desk.protocol.errors import Prefix
from nostr_desk.protocol.event import Event
from nostr_desk.protocol.kinds import CLIENT_AUTH, GENERIC_REPOST, REPOST

from .config import RelayConfig


@dataclass(frozen=True, slots=True)
class Accept:
    pass


@dataclass(frozen=True, slots=True)
class Reject:
    prefix: Prefix
    text: str

    @property
    def message(self) -> str:
        return self.prefix.message(self.text)


ACCEPT = Accept()
Verdict = Accept | Reject


@dataclass(frozen=True, slots=True)
class WriteContext:
    now: int
    authed: frozenset[str] = frozenset()


Check = Callable[[Event, RelayConfig, WriteContext], "Reject | None"]


def check_frame_size(nbytes: int, config: RelayConfig) -> Reject | None:
    if nbytes > config.max_message_length:
        return Reject(Prefix.INVALID, f"message is {nbytes} bytes, more than the {config.max_message_length} allowed")
    return None


def check_shape(event: Event, config: RelayConfig, ctx: WriteContext) -> Reject | None:
    if len(event.tags) > config.max_event_tags:
        return Reject(Prefix.INVALID, f"too many tags ({len(event.tags)} > {config.max_event_tags})")
    if len(event.content) > config.max_content_length:
        return Reject(Prefix.INVALID, f"content longer than {config.max_content_length} characters")
    return None


def check_kind(event: Event, config: RelayConfig, ctx: WriteContext) -> Reject | None:
    if event.kind == CLIENT_AUTH:
        # NIP-42: AUTH events are never broadcast; they arrive in AUTH messages, not EVENT.
        return Reject(Prefix.INVALID, "kind 22242 is for AUTH messages only")
    if event.kind in config.blocked_kinds:
        return Reject(Prefix.BLOCKED, f"kind {event.kind} is not accepted here")
    if event.kind in (REPOST, GENERIC_REPOST) and _embeds_protected(event.content):
        return Reject(Prefix.BLOCKED, "reposts must not embed a protected event (NIP-70)")
    return None


def check_timestamp(event: Event, config: RelayConfig, ctx: WriteContext) -> Reject | None:
    if event.created_at > ctx.now + config.created_at_upper_limit:
        return Reject(Prefix.INVALID, "event creation date is too far in the future")
    lower = config.created_at_lower_limit
    if lower is not None and event.created_at < ctx.now - lower:
        return Reject(Prefix.INVALID, "event creation date is too far in the past")
    return None


def check_pow(event: Event, config: RelayConfig, ctx: WriteContext) -> Reject | None:
    need = config.min_pow_difficulty
    if need <= 0:
        return None
    have = leading_zero_bits(event.id)
    if have < need:
        return Reject(Prefix.POW, f"difficulty {have} is less than {need}")
    committed = _committed_target(event)
    if committed is not None and committed < need:
        # NIP-13: a lucky hash under a lower committed target does not count.
        return Reject(Prefix.POW, f"committed target {committed} is less than {need}")
    return None


def check_protected(event: Event, config: RelayConfig, ctx: WriteContext) -> Reject | None:
    if not is_protected(event):
        return None
    if not config.accept_protected:
        return Reject(Prefix.BLOCKED, "protected events are not accepted here")
    if event.pubkey not in ctx.authed:
        return Reject(Prefix.AUTH_REQUIRED, "this event may only be published by its author")
    return None


def check_write_policy(event: Event, config: RelayConfig, ctx: WriteContext) -> Reject | None:
    if event.pubkey in config.blocked_pubkeys:
        return Reject(Prefix.BLOCKED, "this author may not publish here")
    if config.allowed_pubkeys is not None and event.pubkey not in config.allowed_pubkeys:
        return Reject(Prefix.RESTRICTED, "only allowed authors may publish here")
    return None


CHECKS: tuple[Check, ...] = (
    check_shape,
    check_kind,
    check_timestamp,
    check_pow,
    check_protected,
    check_write_policy,
)


def precheck(event: Event, config: RelayConfig, ctx: WriteContext) -> Verdict:
    """Run the cheap checks in order; the first rejection wins."""
    for check in CHECKS:
        verdict = check(event, config, ctx)
        if verdict is not None:
            return verdict
    return ACCEPT


# --- helpers ------------------------------------------------------------------------------------
def is_protected(event: Event) -> bool:
    """NIP-70: a tag that is exactly `["-"]`."""
    return any(len(t) == 1 and t[0] == "-" for t in event.tags)


def leading_zero_bits(hex_id: str) -> int:
    """NIP-13 difficulty: leading zero bits of the id."""
    value = int(hex_id, 16)
    return len(hex_id) * 4 - value.bit_length()


def _committed_target(event: Event) -> int | None:
    for t in event.tags:
        if len(t) >= 3 and t[0] == "nonce":
            try:
                return int(t[2])
            except ValueError:
                return None
    return None


def _embeds_protected(content: str) -> bool:
    if not content.startswith("{"):
        return False
    try:
        inner = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return False
    tags = inner.get("tags") if isinstance(inner, dict) else None
    return isinstance(tags, list) and any(t == ["-"] for t in tags)
