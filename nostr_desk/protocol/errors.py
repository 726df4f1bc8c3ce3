"""One typed error hierarchy for malformed protocol input, and the NIP-01 machine-readable prefixes.

Outcomes (duplicate, blocked, rate-limited...) are values elsewhere; these errors are for input that
is broken. Each carries the prefix a relay answers with, and the ids needed to address the answer.
"""

from __future__ import annotations

import enum


class Prefix(str, enum.Enum):
    """The machine-readable prefixes of NIP-01 `OK` and `CLOSED` messages (and NIP-42's)."""

    DUPLICATE = "duplicate"
    POW = "pow"
    BLOCKED = "blocked"
    RATE_LIMITED = "rate-limited"
    INVALID = "invalid"
    RESTRICTED = "restricted"
    MUTE = "mute"
    ERROR = "error"
    AUTH_REQUIRED = "auth-required"

    def message(self, text: str) -> str:
        """`Prefix.INVALID.message("bad id")` -> `"invalid: bad id"`."""
        return f"{self.value}: {text}"

    @classmethod
    def of(cls, message: str) -> Prefix | None:
        """The prefix a relay's message starts with, or None when it has none we know."""
        head, sep, _ = message.partition(":")
        if not sep:
            return None
        try:
            return cls(head.strip())
        except ValueError:
            return None


class ProtocolError(ValueError):
    """Input that does not follow the protocol. `reason` is ready to send (`"invalid: ..."`)."""

    default_prefix = Prefix.INVALID

    def __init__(
        self,
        message: str,
        *,
        prefix: Prefix | None = None,
        sub_id: str | None = None,
        event_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.text = message
        self.prefix = prefix or self.default_prefix
        self.sub_id = sub_id
        self.event_id = event_id

    @property
    def reason(self) -> str:
        return self.prefix.message(self.text)


class InvalidEvent(ProtocolError):
    """An event whose shape, id or signature is wrong."""


class InvalidFilter(ProtocolError):
    """A REQ/COUNT filter that does not follow NIP-01."""


class InvalidMessage(ProtocolError):
    """A websocket frame that is not a well-formed client or relay message."""


class InvalidKey(ProtocolError):
    """A secret or public key that is not a valid secp256k1 key."""


class Bech32Error(ProtocolError):
    """A NIP-19 string that does not decode (checksum, prefix, TLV)."""


class CryptoError(ProtocolError):
    """A NIP-44 payload or NIP-49 ncryptsec that cannot be decrypted or is malformed."""
