"""secp256k1 keys for BIP-340: a secret-key type that never shows itself, and x-only public keys.

The secret's `repr`/`str` are redacted and it refuses to be pickled, so it cannot end up in a log
line, a traceback's locals dump or a file by accident.
"""

from __future__ import annotations

from functools import lru_cache

from coincurve import PrivateKey, PublicKey, PublicKeyXOnly

from .errors import InvalidKey

_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HEX = frozenset("0123456789abcdef")


def is_hex(text: object, length: int) -> bool:
    """Lowercase hex of exactly `length` characters (NIP-01 requires lowercase)."""
    return isinstance(text, str) and len(text) == length and _HEX.issuperset(text)


class SecretKey:
    """A 32-byte secp256k1 secret key. Its value is reachable only through `secret_bytes()`."""

    __slots__ = ("_key", "_pubkey")

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, (bytes, bytearray)) or len(secret) != 32:
            raise InvalidKey("a secret key is 32 bytes")
        if not 0 < int.from_bytes(secret, "big") < _CURVE_ORDER:
            raise InvalidKey("secret key out of range for secp256k1")
        self._key = PrivateKey(bytes(secret))
        self._pubkey = self._key.public_key_xonly.format().hex()

    @classmethod
    def from_hex(cls, text: str) -> SecretKey:
        if not isinstance(text, str):
            raise InvalidKey("a hex secret key is a string")
        text = text.strip().lower()
        if not is_hex(text, 64):
            raise InvalidKey("a hex secret key is 64 hex characters")
        return cls(bytes.fromhex(text))

    @property
    def public_key(self) -> str:
        """The x-only public key, 64 lowercase hex characters."""
        return self._pubkey

    def secret_bytes(self) -> bytes:
        return self._key.secret

    def sign_schnorr(self, message32: bytes, aux_rand: bytes) -> bytes:
        # coincurve quietly signs without aux randomness when given b"" or None; BIP-340 wants 32
        # fresh bytes (side-channel hardening), so a missing value is the caller's bug, said loudly.
        if not isinstance(aux_rand, (bytes, bytearray)) or len(aux_rand) != 32:
            raise ValueError("aux_rand must be 32 bytes")
        return self._key.sign_schnorr(message32, bytes(aux_rand))

    def ecdh_x(self, pubkey_hex: str) -> bytes:
        """The unhashed x coordinate of the shared point with an x-only public key (NIP-44)."""
        if not is_hex(pubkey_hex, 64):
            raise InvalidKey("a public key is 64 lowercase hex characters")
        try:
            point = PublicKey(b"\x02" + bytes.fromhex(pubkey_hex))
        except ValueError:
            raise InvalidKey("public key is not on the curve") from None
        return point.multiply(self._key.secret).format(compressed=True)[1:]

    def __repr__(self) -> str:
        return f"SecretKey(<redacted>, pubkey={self._pubkey[:8]}…)"

    __str__ = __repr__

    def __reduce__(self):  # pickling would write the secret somewhere
        raise TypeError("SecretKey cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretKey) and other._pubkey == self._pubkey

    def __hash__(self) -> int:
        return hash(self._pubkey)


@lru_cache(maxsize=8192)
def xonly_key(pubkey_hex: str) -> PublicKeyXOnly:
    """A parsed x-only key, cached: parsing costs a few µs and pubkeys repeat a lot in a feed."""
    return PublicKeyXOnly(bytes.fromhex(pubkey_hex))


def verify_schnorr(pubkey_hex: str, message: bytes, signature: bytes) -> bool:
    """BIP-340 verification; a key that does not parse is False, never an exception."""
    try:
        return xonly_key(pubkey_hex).verify(signature, message)
    except (ValueError, TypeError):
        return False


def is_valid_pubkey(pubkey_hex: str) -> bool:
    if not is_hex(pubkey_hex, 64):
        return False
    try:
        xonly_key(pubkey_hex)
    except ValueError:
        return False
    return True
