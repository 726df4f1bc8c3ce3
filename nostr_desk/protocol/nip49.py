"""NIP-49 private-key encryption (`ncryptsec`): scrypt + XChaCha20-Poly1305, key-security byte as AAD.

Layout of the 91 bytes behind the bech32: version 0x02, log_n, 16-byte salt, 24-byte nonce,
key-security byte, 48-byte ciphertext (32-byte key + 16-byte Poly1305 tag).

Passwords are NFKC-normalised before scrypt. Salt and nonce are arguments: the core has no RNG.
scrypt's cost is 2^log_n * 1 KiB of memory (log_n 16 = 64 MiB); `max_log_n` bounds what a decrypt
will attempt, since the cost is chosen by whoever made the string.
"""

from __future__ import annotations

import enum
import hashlib
import unicodedata

import nacl.bindings
import nacl.exceptions

from . import nip19
from .errors import CryptoError
from .keys import SecretKey

VERSION = 0x02
SALT_LEN = 16
NONCE_LEN = 24
DEFAULT_MAX_LOG_N = 20  # 1 GiB; hashlib.scrypt cannot go past 2 GiB of maxmem anyway


class KeySecurity(enum.IntEnum):
    """What the client knows about how the key was handled before it was encrypted."""

    INSECURE = 0   # known to have been handled insecurely (stored or pasted unencrypted)
    SECURE = 1     # not known to have been handled insecurely
    UNKNOWN = 2    # the client does not track this


def normalize_password(password: str) -> bytes:
    try:
        return unicodedata.normalize("NFKC", password).encode("utf-8")
    except (UnicodeEncodeError, TypeError):
        raise CryptoError("the password must be text") from None


def derive_key(password: str, salt: bytes, log_n: int, *, max_log_n: int = DEFAULT_MAX_LOG_N) -> bytes:
    """scrypt(NFKC(password), salt, N=2^log_n, r=8, p=1, dkLen=32)."""
    if not 1 <= log_n <= max_log_n:
        raise CryptoError(f"scrypt log_n {log_n} is outside 1..{max_log_n} (memory is 2^log_n KiB)")
    n = 1 << log_n
    try:
        # scrypt needs 128 * r * N bytes; leave headroom for OpenSSL's own bookkeeping.
        return hashlib.scrypt(normalize_password(password), salt=bytes(salt), n=n, r=8, p=1,
                              maxmem=128 * 8 * n + 2**24, dklen=32)
    except (ValueError, MemoryError) as exc:
        raise CryptoError(f"scrypt failed for log_n {log_n}: {exc}") from None


def encrypt(
    secret: SecretKey,
    password: str,
    *,
    log_n: int,
    key_security: int | KeySecurity,
    salt: bytes,
    nonce: bytes,
) -> str:
    """Encrypt a secret key to an `ncryptsec1...` string; salt (16) and nonce (24) come from a CSPRNG."""
    if len(salt) != SALT_LEN or len(nonce) != NONCE_LEN:
        raise CryptoError("NIP-49 needs a 16-byte salt and a 24-byte nonce")
    try:
        ksb = KeySecurity(key_security)
    except ValueError:
        raise CryptoError("the key-security byte is 0, 1 or 2") from None
    key = derive_key(password, salt, log_n)
    aad = bytes([ksb])
    ciphertext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        secret.secret_bytes(), aad, bytes(nonce), key
    )
    return nip19.encode_ncryptsec(bytes([VERSION, log_n]) + bytes(salt) + bytes(nonce) + aad + ciphertext)


def decrypt(
    ncryptsec: str | nip19.Ncryptsec, password: str, *, max_log_n: int = DEFAULT_MAX_LOG_N
) -> SecretKey:
    """Open an ncryptsec; a wrong password raises CryptoError with a message a user can read."""
    value = nip19.decode(ncryptsec) if isinstance(ncryptsec, str) else ncryptsec
    if not isinstance(value, nip19.Ncryptsec):
        raise CryptoError("not an ncryptsec (expected a string starting with ncryptsec1)")
    data = value.data
    if data[0] != VERSION:
        raise CryptoError(f"unsupported ncryptsec version {data[0]} (this app reads version 2)")
    log_n, salt, nonce = data[1], data[2:18], data[18:42]
    aad, ciphertext = data[42:43], data[43:]
    key = derive_key(password, salt, log_n, max_log_n=max_log_n)
    try:
        plaintext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, aad, nonce, key)
    except nacl.exceptions.CryptoError:
        raise CryptoError("wrong password, or the encrypted key is damaged") from None
    return SecretKey(plaintext)
