"""The bech32 codec (BIP-173, not bech32m) as NIP-19 uses it: strings up to 5000 characters, not 90.

Written here rather than taken from PyPI: the `bech32` package (last release 2020) hard-codes the
90-character limit of segwit addresses and answers every failure with `(None, None)`; the codec is
small and is checked against every NIP-19 vector.
"""

from __future__ import annotations

from .errors import Bech32Error

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_VALUES = {c: i for i, c in enumerate(CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
MAX_LENGTH = 5000  # NIP-19's limit; BIP-173 says 90, which every TLV string would break
_CHECKSUM_LEN = 6


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _checksum(hrp: str, data: list[int]) -> list[int]:
    mod = _polymod(_hrp_expand(hrp) + data + [0] * _CHECKSUM_LEN) ^ 1  # 1: bech32, not bech32m
    return [(mod >> 5 * (5 - i)) & 31 for i in range(_CHECKSUM_LEN)]


def convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    """Regroup a sequence of `from_bits`-wide values into `to_bits`-wide ones (BIP-173 rules)."""
    acc = bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & max_value)
    elif bits >= from_bits or (acc << (to_bits - bits)) & max_value:
        raise Bech32Error("bech32 data has invalid padding")
    return out


def encode(hrp: str, payload: bytes) -> str:
    """Encode bytes under a human-readable prefix; raises Bech32Error past 5000 characters."""
    data = convert_bits(payload, 8, 5, pad=True)
    text = hrp + "1" + "".join(CHARSET[d] for d in data + _checksum(hrp, data))
    if len(text) > MAX_LENGTH:
        raise Bech32Error(f"bech32 string would be {len(text)} characters (limit {MAX_LENGTH})")
    return text


def decode(text: str) -> tuple[str, bytes]:
    """Split a bech32 string into (lowercase prefix, payload bytes), checking the checksum."""
    if not isinstance(text, str):
        raise Bech32Error("a bech32 string must be text")
    if len(text) > MAX_LENGTH:
        raise Bech32Error(f"bech32 string longer than {MAX_LENGTH} characters")
    if any(not 33 <= ord(c) <= 126 for c in text):
        raise Bech32Error("bech32 string has a character outside printable ASCII")
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("bech32 string mixes upper and lower case")
    text = text.lower()
    sep = text.rfind("1")
    if sep < 1 or sep + 1 + _CHECKSUM_LEN > len(text):
        raise Bech32Error("not a bech32 string (no prefix, separator or checksum)")
    hrp, rest = text[:sep], text[sep + 1 :]
    try:
        data = [_VALUES[c] for c in rest]
    except KeyError as exc:
        raise Bech32Error(f"bech32 data has an invalid character {exc.args[0]!r}") from None
    if _polymod(_hrp_expand(hrp) + data) != 1:
        raise Bech32Error("bech32 checksum does not match (a typo, or bech32m)")
    return hrp, bytes(convert_bits(data[:-_CHECKSUM_LEN], 5, 8, pad=False))
