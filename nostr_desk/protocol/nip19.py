"""NIP-19 bech32 entities: npub, nsec, note, nprofile, nevent, naddr (TLV) and ncryptsec (NIP-49).

`decode(text)` returns one of the typed values below or raises `Bech32Error`/`InvalidKey`;
`encode(value)` and the `encode_*` functions go the other way, writing TLVs in ascending type order.
`describe(value)` is a JSON-able summary for display; for an nsec it shows only the public key.

Decisions:
- Relay strings are raw UTF-8 bytes, never normalised (two strings that differ by a trailing `/` differ).
- TLV order on input is free; duplicates of a single-valued TLV keep the first; unknown types are ignored.
- A known TLV with the wrong length is an error, never ignored: an `author` that is 64 ASCII-hex bytes
  instead of 32 raw bytes is rejected (as go-nostr does), so a 64-byte author is never returned.
- Kinds are NIP-01's 0..65535 although the TLV has room for a u32.
- An npub need only be 32 bytes (a display format); whether it is on the curve is checked where used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from . import bech32
from .errors import Bech32Error
from .keys import SecretKey, is_hex

NCRYPTSEC_LEN = 91  # version, log_n, 16-byte salt, 24-byte nonce, key-security byte, 48-byte ciphertext

T_SPECIAL, T_RELAY, T_AUTHOR, T_KIND = 0, 1, 2, 3


@dataclass(frozen=True)
class Npub:
    pubkey: str


@dataclass(frozen=True)
class Nsec:
    secret: SecretKey  # redacted repr: a decoded nsec cannot leak through a log line


@dataclass(frozen=True)
class Note:
    id: str


@dataclass(frozen=True)
class Nprofile:
    pubkey: str
    relays: tuple[str, ...] = ()


@dataclass(frozen=True)
class Nevent:
    id: str
    relays: tuple[str, ...] = ()
    author: str | None = None
    kind: int | None = None


@dataclass(frozen=True)
class Naddr:
    identifier: str
    pubkey: str
    kind: int
    relays: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        return f"{self.kind}:{self.pubkey}:{self.identifier}"


@dataclass(frozen=True)
class Ncryptsec:
    """The 91 raw bytes of a NIP-49 encrypted key; `nip49.decrypt` opens it."""

    data: bytes

    @property
    def version(self) -> int:
        return self.data[0]

    @property
    def log_n(self) -> int:
        return self.data[1]

    @property
    def key_security_byte(self) -> int:
        return self.data[42]


Decoded = Union[Npub, Nsec, Note, Nprofile, Nevent, Naddr, Ncryptsec]


# --- encoding ------------------------------------------------------------------------------------
def _hex32(value: object, what: str) -> bytes:
    if not is_hex(value, 64):
        raise Bech32Error(f"{what} must be 64 lowercase hex characters")
    return bytes.fromhex(value)  # type: ignore[arg-type]


def _tlv(kind: int, value: bytes) -> bytes:
    if len(value) > 255:
        raise Bech32Error(f"TLV value of {len(value)} bytes does not fit (max 255)")
    return bytes((kind, len(value))) + value


def _kind_bytes(kind: int) -> bytes:
    if not isinstance(kind, int) or not 0 <= kind <= 65535:
        raise Bech32Error("kind must be an integer between 0 and 65535")
    return kind.to_bytes(4, "big")


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except (UnicodeEncodeError, AttributeError):
        raise Bech32Error(f"{what} must be text that encodes as UTF-8") from None


def _relay_tlvs(relays: tuple[str, ...] | list[str]) -> bytes:
    return b"".join(_tlv(T_RELAY, _utf8(r, "relay URL")) for r in relays)


def encode_npub(pubkey: str) -> str:
    return bech32.encode("npub", _hex32(pubkey, "public key"))


def encode_nsec(secret: SecretKey | str) -> str:
    key = secret if isinstance(secret, SecretKey) else SecretKey(_hex32(secret, "secret key"))
    return bech32.encode("nsec", key.secret_bytes())


def encode_note(event_id: str) -> str:
    return bech32.encode("note", _hex32(event_id, "event id"))


def encode_nprofile(pubkey: str, relays: tuple[str, ...] | list[str] = ()) -> str:
    return bech32.encode("nprofile", _tlv(T_SPECIAL, _hex32(pubkey, "public key")) + _relay_tlvs(relays))


def encode_nevent(
    event_id: str,
    relays: tuple[str, ...] | list[str] = (),
    author: str | None = None,
    kind: int | None = None,
) -> str:
    data = _tlv(T_SPECIAL, _hex32(event_id, "event id")) + _relay_tlvs(relays)
    if author is not None:
        data += _tlv(T_AUTHOR, _hex32(author, "author"))
    if kind is not None:
        data += _tlv(T_KIND, _kind_bytes(kind))
    return bech32.encode("nevent", data)


def encode_naddr(identifier: str, pubkey: str, kind: int, relays: tuple[str, ...] | list[str] = ()) -> str:
    data = _tlv(T_SPECIAL, _utf8(identifier, "identifier")) + _relay_tlvs(relays)
    data += _tlv(T_AUTHOR, _hex32(pubkey, "public key")) + _tlv(T_KIND, _kind_bytes(kind))
    return bech32.encode("naddr", data)


def encode_ncryptsec(data: bytes) -> str:
    if len(data) != NCRYPTSEC_LEN:
        raise Bech32Error(f"an ncryptsec holds {NCRYPTSEC_LEN} bytes")
    return bech32.encode("ncryptsec", bytes(data))


def encode(value: Decoded) -> str:
    """Encode any decoded value back to its bech32 string (TLVs in canonical order)."""
    if isinstance(value, Npub):
        return encode_npub(value.pubkey)
    if isinstance(value, Nsec):
        return encode_nsec(value.secret)
    if isinstance(value, Note):
        return encode_note(value.id)
    if isinstance(value, Nprofile):
        return encode_nprofile(value.pubkey, value.relays)
    if isinstance(value, Nevent):
        return encode_nevent(value.id, value.relays, value.author, value.kind)
    if isinstance(value, Naddr):
        return encode_naddr(value.identifier, value.pubkey, value.kind, value.relays)
    if isinstance(value, Ncryptsec):
        return encode_ncryptsec(value.data)
    raise TypeError(f"not a NIP-19 value: {type(value).__name__}")


# --- decoding ------------------------------------------------------------------------------------
def decode(text: str) -> Decoded:
    """Decode a NIP-19 string (surrounding whitespace ignored; strip `nostr:` before calling)."""
    if not isinstance(text, str):
        raise Bech32Error("a NIP-19 value must be text")
    hrp, data = bech32.decode(text.strip())
    if hrp in ("npub", "nsec", "note"):
        if len(data) != 32:
            raise Bech32Error(f"an {hrp} holds 32 bytes, this one {len(data)}")
        if hrp == "npub":
            return Npub(data.hex())
        if hrp == "note":
            return Note(data.hex())
        return Nsec(SecretKey(data))  # raises InvalidKey (a ProtocolError) when out of range
    if hrp == "ncryptsec":
        if len(data) != NCRYPTSEC_LEN:
            raise Bech32Error(f"an ncryptsec holds {NCRYPTSEC_LEN} bytes, this one {len(data)}")
        return Ncryptsec(data)
    if hrp in ("nprofile", "nevent", "naddr"):
        return _decode_tlv_entity(hrp, _parse_tlvs(data))
    raise Bech32Error(f"unknown NIP-19 prefix {hrp[:20]!r}")


def _parse_tlvs(data: bytes) -> dict[int, list[bytes]]:
    found: dict[int, list[bytes]] = {}
    pos = 0
    while pos < len(data):  # each step moves pos forward by at least 2, so this ends
        if pos + 2 > len(data):
            raise Bech32Error("TLV data truncated (a type without a length)")
        kind, length = data[pos], data[pos + 1]
        value = data[pos + 2 : pos + 2 + length]
        if len(value) != length:
            raise Bech32Error("TLV data truncated (length points past the end)")
        found.setdefault(kind, []).append(value)
        pos += 2 + length
    return found


def _first(tlvs: dict[int, list[bytes]], kind: int, hrp: str, what: str, size: int | None) -> bytes | None:
    values = tlvs.get(kind)
    if not values:
        return None
    value = values[0]
    if size is not None and len(value) != size:
        raise Bech32Error(f"{hrp} {what} TLV is {len(value)} bytes, expected {size}")
    return value


def _text(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise Bech32Error(f"{what} is not valid UTF-8") from None


def _kind(value: bytes) -> int:
    kind = int.from_bytes(value, "big")
    if kind > 65535:
        raise Bech32Error(f"kind {kind} is out of range (0..65535)")
    return kind


def _decode_tlv_entity(hrp: str, tlvs: dict[int, list[bytes]]) -> Decoded:
    relays = tuple(_text(r, "relay URL") for r in tlvs.get(T_RELAY, []))
    if hrp == "naddr":
        special = _first(tlvs, T_SPECIAL, hrp, "identifier", None)
        author = _first(tlvs, T_AUTHOR, hrp, "author", 32)
        kind = _first(tlvs, T_KIND, hrp, "kind", 4)
        if special is None or author is None or kind is None:
            raise Bech32Error("an naddr needs identifier, author and kind TLVs")
        return Naddr(_text(special, "naddr identifier"), author.hex(), _kind(kind), relays)
    special = _first(tlvs, T_SPECIAL, hrp, "pubkey" if hrp == "nprofile" else "id", 32)
    if special is None:
        raise Bech32Error(f"an {hrp} needs its type-0 TLV")
    if hrp == "nprofile":
        return Nprofile(special.hex(), relays)
    author = _first(tlvs, T_AUTHOR, hrp, "author", 32)
    kind = _first(tlvs, T_KIND, hrp, "kind", 4)
    return Nevent(
        special.hex(), relays, author.hex() if author else None, _kind(kind) if kind is not None else None
    )


# --- display -------------------------------------------------------------------------------------
def describe(value: Decoded) -> dict[str, Any]:
    """A JSON-able summary. An nsec is shown by its public key only: the secret never leaves."""
    if isinstance(value, Nsec):
        pubkey = value.secret.public_key
        return {"type": "nsec", "pubkey": pubkey, "npub": encode_npub(pubkey)}
    if isinstance(value, Npub):
        return {"type": "npub", "pubkey": value.pubkey, "npub": encode_npub(value.pubkey)}
    if isinstance(value, Note):
        return {"type": "note", "id": value.id}
    if isinstance(value, Nprofile):
        return {"type": "nprofile", "pubkey": value.pubkey, "npub": encode_npub(value.pubkey),
                "relays": list(value.relays)}
    if isinstance(value, Nevent):
        out: dict[str, Any] = {"type": "nevent", "id": value.id, "relays": list(value.relays)}
        if value.author is not None:
            out["author"] = value.author
        if value.kind is not None:
            out["kind"] = value.kind
        return out
    if isinstance(value, Naddr):
        return {"type": "naddr", "identifier": value.identifier, "pubkey": value.pubkey,
                "kind": value.kind, "relays": list(value.relays), "address": value.address}
    if isinstance(value, Ncryptsec):
        return {"type": "ncryptsec", "version": value.version, "log_n": value.log_n,
                "key_security_byte": value.key_security_byte}
    raise TypeError(f"not a NIP-19 value: {type(value).__name__}")
