"""NIP-44 v2 encrypted payloads: conversation key, message keys, padding, ChaCha20 + HMAC-SHA256, base64.

Follows the current NIP-44 text (../shared/nips/44.md), which since nips commit 733a047 allows
plaintexts of 65536 bytes up to 2^32-1 with a 6-byte length prefix (`0x0000` + u32).

Decisions:
- `decrypt` accepts both prefixes, so long payloads from up-to-date clients open.
- `encrypt` refuses plaintexts over 65535 bytes unless the caller passes `allow_extended=True`:
  clients that predate the change reject such payloads, so sending one is an interop choice the
  caller makes knowingly, not a default.
- `decrypt` refuses payloads longer than `max_payload_len` characters before base64-decoding them
  (the NIP asks for an implementation limit against denial of service); the default, 16 MiB,
  is far above any relay's message limit and the caller can change it.
- The 32-byte nonce is an argument: the core has no RNG (the caller draws it from a CSPRNG).
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from .errors import CryptoError
from .keys import SecretKey

VERSION = 2
SALT = b"nip44-v2"
MIN_PLAINTEXT = 1
MAX_PLAINTEXT = 2**32 - 1
LEGACY_MAX_PLAINTEXT = 65535          # the limit before the extended prefix existed
EXTENDED_PREFIX_THRESHOLD = 65536     # from here on the length prefix is 6 bytes
DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024
_MIN_PAYLOAD_CHARS = 132
_MIN_DATA_BYTES = 99


# --- keys ----------------------------------------------------------------------------------------
def conversation_key(secret: SecretKey, pubkey_hex: str) -> bytes:
    """HKDF-extract(salt="nip44-v2", IKM=unhashed ECDH x); the same from both sides of a conversation.

    Raises InvalidKey when the public key is not on the curve.
    """
    shared_x = secret.ecdh_x(pubkey_hex)
    h = hmac.HMAC(SALT, hashes.SHA256())  # HKDF-extract is HMAC(salt, IKM)
    h.update(shared_x)
    return h.finalize()


def message_keys(conv_key: bytes, nonce: bytes) -> tuple[bytes, bytes, bytes]:
    """(chacha_key, chacha_nonce, hmac_key) = HKDF-expand(conv_key, info=nonce, L=76) split 32/12/32."""
    if len(conv_key) != 32:
        raise CryptoError("a NIP-44 conversation key is 32 bytes")
    if len(nonce) != 32:
        raise CryptoError("a NIP-44 nonce is 32 bytes")
    keys = HKDFExpand(algorithm=hashes.SHA256(), length=76, info=bytes(nonce)).derive(bytes(conv_key))
    return keys[:32], keys[32:44], keys[44:]


# --- padding -------------------------------------------------------------------------------------
def calc_padded_len(unpadded_len: int) -> int:
    """Powers of two in eighths, minimum 32 (NIP-44's scheme)."""
    if unpadded_len <= 32:
        return 32
    next_power = 1 << (unpadded_len - 1).bit_length()  # 1 << (floor(log2(n - 1)) + 1)
    chunk = 32 if next_power <= 256 else next_power // 8
    return chunk * ((unpadded_len - 1) // chunk + 1)


def pad(plaintext: bytes) -> bytes:
    n = len(plaintext)
    if not MIN_PLAINTEXT <= n <= MAX_PLAINTEXT:
        raise CryptoError(f"plaintext must be {MIN_PLAINTEXT} to {MAX_PLAINTEXT} bytes, not {n}")
    prefix = n.to_bytes(2, "big") if n < EXTENDED_PREFIX_THRESHOLD else b"\0\0" + n.to_bytes(4, "big")
    return prefix + plaintext + bytes(calc_padded_len(n) - n)


def unpad(padded: bytes) -> bytes:
    if len(padded) < 2:
        raise CryptoError("invalid padding")
    length = int.from_bytes(padded[:2], "big")
    prefix_len = 2
    if length == 0:  # a zero u16 announces the extended u32 prefix
        length = int.from_bytes(padded[2:6], "big")
        prefix_len = 6
        if len(padded) < 6 or length < EXTENDED_PREFIX_THRESHOLD:
            raise CryptoError("invalid padding")
    plaintext = padded[prefix_len : prefix_len + length]
    if len(plaintext) != length or len(padded) != prefix_len + calc_padded_len(length):
        raise CryptoError("invalid padding")
    return plaintext


# --- payloads ------------------------------------------------------------------------------------
def _chacha20(key: bytes, nonce12: bytes, data: bytes) -> bytes:
    # cryptography's ChaCha20 takes a 16-byte nonce: a 4-byte little-endian counter (0) + the 12 bytes.
    return Cipher(algorithms.ChaCha20(key, b"\0\0\0\0" + nonce12), mode=None).encryptor().update(data)


def _mac(key: bytes, nonce: bytes, ciphertext: bytes) -> hmac.HMAC:
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(nonce)  # the nonce is the associated data, authenticated before the ciphertext
    h.update(ciphertext)
    return h


def encrypt(plaintext: str, conv_key: bytes, nonce: bytes, *, allow_extended: bool = False) -> str:
    """Encrypt text to a base64 payload. Over 65535 bytes needs `allow_extended=True` (see above)."""
    try:
        data = plaintext.encode("utf-8")
    except UnicodeEncodeError:
        raise CryptoError("plaintext is not valid Unicode (lone surrogate)") from None
    if len(data) > LEGACY_MAX_PLAINTEXT and not allow_extended:
        raise CryptoError(
            f"plaintext of {len(data)} bytes exceeds 65535; older clients cannot decrypt it "
            "(pass allow_extended=True to use the extended length prefix)"
        )
    chacha_key, chacha_nonce, hmac_key = message_keys(conv_key, nonce)
    ciphertext = _chacha20(chacha_key, chacha_nonce, pad(data))
    mac = _mac(hmac_key, nonce, ciphertext).finalize()
    return base64.b64encode(bytes([VERSION]) + bytes(nonce) + ciphertext + mac).decode("ascii")


def decode_payload(payload: str, max_payload_len: int = DEFAULT_MAX_PAYLOAD) -> tuple[bytes, bytes, bytes]:
    """Split a payload into (nonce, ciphertext, mac), checking version and sizes before the MAC."""
    if not isinstance(payload, str):
        raise CryptoError("a NIP-44 payload is text")
    if not payload:
        raise CryptoError("invalid payload size: empty")
    if payload[0] == "#":
        raise CryptoError("unknown encryption version (not supported)")
    if len(payload) < _MIN_PAYLOAD_CHARS:
        raise CryptoError(f"invalid payload size: {len(payload)} characters")
    if len(payload) > max_payload_len:
        raise CryptoError(f"payload of {len(payload)} characters is over the limit of {max_payload_len}")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("invalid base64 in NIP-44 payload") from None
    if len(data) < _MIN_DATA_BYTES:
        raise CryptoError(f"invalid data size: {len(data)} bytes")
    if data[0] != VERSION:
        raise CryptoError(f"unknown encryption version {data[0]} (not supported)")
    return data[1:33], data[33:-32], data[-32:]


def decrypt(payload: str, conv_key: bytes, *, max_payload_len: int = DEFAULT_MAX_PAYLOAD) -> str:
    """Check the MAC (constant time), decrypt, unpad, decode UTF-8; any failure is a CryptoError."""
    nonce, ciphertext, mac = decode_payload(payload, max_payload_len)
    chacha_key, chacha_nonce, hmac_key = message_keys(conv_key, nonce)
    try:
        _mac(hmac_key, nonce, ciphertext).verify(mac)
    except InvalidSignature:
        raise CryptoError("invalid MAC (wrong key, or the payload was altered)") from None
    plaintext = unpad(_chacha20(chacha_key, chacha_nonce, ciphertext))
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise CryptoError("decrypted plaintext is not valid UTF-8") from None
