"""NIP-44 v2 against every group of nip44.vectors.json and nip44-extended-length.json, plus fuzzing.

We target the current NIP-44 text: of `invalid.encrypt_msg_lengths` only 0 is invalid outright; the
lengths over 65535 are refused by default (interop) and accepted with `allow_extended=True`.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nostr_desk.protocol import nip44
from nostr_desk.protocol.errors import CryptoError, InvalidKey, ProtocolError
from nostr_desk.protocol.keys import SecretKey


@pytest.fixture(scope="module")
def v2(vectors):
    raw = (vectors / "nip44.vectors.json").read_bytes()
    # The checksum published in NIP-44: we test against exactly that file.
    assert hashlib.sha256(raw).hexdigest() == "269ed0f69e4c192512cc779e78c555090cebc7c785b609e338a62afc3ce25040"
    return json.loads(raw)["v2"]


@pytest.fixture(scope="module")
def extended(vectors):
    return json.loads((vectors / "nip44-extended-length.json").read_text())


def _sk(hex_: str) -> SecretKey:
    return SecretKey.from_hex(hex_)


def test_get_conversation_key(v2):
    rows = v2["valid"]["get_conversation_key"]
    assert len(rows) == 35
    for row in rows:
        assert nip44.conversation_key(_sk(row["sec1"]), row["pub2"]).hex() == row["conversation_key"]


def test_get_message_keys(v2):
    group = v2["valid"]["get_message_keys"]
    conv = bytes.fromhex(group["conversation_key"])
    assert len(group["keys"]) == 32
    for row in group["keys"]:
        chacha_key, chacha_nonce, hmac_key = nip44.message_keys(conv, bytes.fromhex(row["nonce"]))
        assert (chacha_key.hex(), chacha_nonce.hex(), hmac_key.hex()) == (
            row["chacha_key"], row["chacha_nonce"], row["hmac_key"])


def test_calc_padded_len(v2):
    rows = v2["valid"]["calc_padded_len"]
    assert len(rows) == 24
    for unpadded, padded in rows:
        assert nip44.calc_padded_len(unpadded) == padded


def test_encrypt_decrypt(v2):
    rows = v2["valid"]["encrypt_decrypt"]
    assert len(rows) == 10
    for row in rows:
        sec1, sec2 = _sk(row["sec1"]), _sk(row["sec2"])
        conv = nip44.conversation_key(sec1, sec2.public_key)
        assert conv.hex() == row["conversation_key"]
        payload = nip44.encrypt(row["plaintext"], conv, bytes.fromhex(row["nonce"]))
        assert payload == row["payload"]
        conv_back = nip44.conversation_key(sec2, sec1.public_key)
        assert conv_back == conv
        assert nip44.decrypt(payload, conv_back) == row["plaintext"]


def test_encrypt_decrypt_long_msg(v2):
    rows = v2["valid"]["encrypt_decrypt_long_msg"]
    assert len(rows) == 3
    for row in rows:
        plaintext = row["pattern"] * row["repeat"]
        assert hashlib.sha256(plaintext.encode()).hexdigest() == row["plaintext_sha256"]
        conv = bytes.fromhex(row["conversation_key"])
        payload = nip44.encrypt(plaintext, conv, bytes.fromhex(row["nonce"]))
        assert hashlib.sha256(payload.encode()).hexdigest() == row["payload_sha256"]
        assert nip44.decrypt(payload, conv) == plaintext


def test_invalid_encrypt_msg_lengths(v2):
    lengths = v2["invalid"]["encrypt_msg_lengths"]
    assert lengths == [0, 65536, 100000, 10000000]
    conv, nonce = b"\x01" * 32, b"\x02" * 32
    for n in lengths:
        with pytest.raises(CryptoError):  # refused by default: 0 always, the rest for interop
            nip44.encrypt("a" * n, conv, nonce)
    with pytest.raises(CryptoError):
        nip44.encrypt("", conv, nonce, allow_extended=True)
    for n in lengths[1:]:  # valid under the current NIP-44 text when the caller opts in
        payload = nip44.encrypt("a" * n, conv, nonce, allow_extended=True)
        assert len(nip44.decrypt(payload, conv)) == n


def test_invalid_get_conversation_key(v2):
    rows = v2["invalid"]["get_conversation_key"]
    assert len(rows) == 8
    for row in rows:
        with pytest.raises(InvalidKey):
            nip44.conversation_key(_sk(row["sec1"]), row["pub2"])


def test_invalid_decrypt(v2):
    rows = v2["invalid"]["decrypt"]
    assert len(rows) == 12
    expected = {"unknown encryption version": "version", "invalid base64": "base64", "invalid MAC": "MAC",
                "invalid padding": "padding", "invalid payload length": "size"}
    for row in rows:
        word = next(v for k, v in expected.items() if row["note"].startswith(k))
        with pytest.raises(CryptoError, match=word):
            nip44.decrypt(row["payload"], bytes.fromhex(row["conversation_key"]))


def test_extended_length_vectors(extended):
    conv, nonce = bytes.fromhex(extended["conversation_key"]), bytes.fromhex(extended["nonce"])
    assert len(extended["vectors"]) == 3
    for row in extended["vectors"]:
        n = row["plaintext_len"]
        plaintext = extended["pattern"] * n
        assert hashlib.sha256(plaintext.encode()).hexdigest() == row["plaintext_sha256"]
        assert nip44.calc_padded_len(n) == row["padded_len"]
        payload = nip44.encrypt(plaintext, conv, nonce, allow_extended=True)
        assert hashlib.sha256(payload.encode()).hexdigest() == row["payload_sha256"]
        assert nip44.decrypt(payload, conv) == plaintext
        prefix_len = 2 if n < 65536 else 6
        raw = base64.b64decode(payload)
        assert len(raw) == 1 + 32 + prefix_len + row["padded_len"] + 32


def test_65535_needs_no_opt_in_but_65536_does(extended):
    conv, nonce = bytes.fromhex(extended["conversation_key"]), bytes.fromhex(extended["nonce"])
    nip44.encrypt("a" * 65535, conv, nonce)
    with pytest.raises(CryptoError, match="allow_extended"):
        nip44.encrypt("a" * 65536, conv, nonce)


def test_unpad_rejects_a_short_extended_length():
    # A zero u16 followed by a u32 below 65536 would be a second encoding of a short message.
    bogus = b"\0\0" + (5).to_bytes(4, "big") + b"hello" + bytes(27)
    with pytest.raises(CryptoError, match="padding"):
        nip44.unpad(bogus)
    with pytest.raises(CryptoError, match="padding"):
        nip44.unpad(b"\0")


def test_payload_limit_is_checked_before_decoding():
    conv, nonce = b"\x01" * 32, b"\x02" * 32
    payload = nip44.encrypt("x" * 1000, conv, nonce)
    with pytest.raises(CryptoError, match="over the limit"):
        nip44.decrypt(payload, conv, max_payload_len=1000)
    assert nip44.decrypt(payload, conv, max_payload_len=len(payload)) == "x" * 1000


def test_bad_arguments():
    with pytest.raises(CryptoError, match="nonce"):
        nip44.encrypt("a", b"\x01" * 32, b"\x02" * 31)
    with pytest.raises(CryptoError, match="conversation key"):
        nip44.encrypt("a", b"\x01" * 31, b"\x02" * 32)
    with pytest.raises(CryptoError, match="surrogate"):
        nip44.encrypt("\ud800", b"\x01" * 32, b"\x02" * 32)
    with pytest.raises(CryptoError):
        nip44.decrypt(None, b"\x01" * 32)  # type: ignore[arg-type]


def test_wrong_key_fails_the_mac():
    payload = nip44.encrypt("secret", b"\x01" * 32, b"\x02" * 32)
    with pytest.raises(CryptoError, match="MAC"):
        nip44.decrypt(payload, b"\x03" * 32)


# --- fuzzing -------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300),
       st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_round_trip(text, conv, nonce):
    assert nip44.decrypt(nip44.encrypt(text, conv, nonce), conv) == text


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(min_size=99, max_size=300).map(
    lambda b: base64.b64encode(b"\x02" + b[1:]).decode())))
def test_any_payload_decrypts_or_raises_crypto_error(payload):
    try:
        nip44.decrypt(payload, b"\x01" * 32)
    except ProtocolError as exc:
        assert isinstance(exc, CryptoError)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 95), st.integers(0, 7))
def test_any_bit_flip_is_caught(byte_index, bit):
    conv, nonce = b"\x05" * 32, b"\x06" * 32
    raw = bytearray(base64.b64decode(nip44.encrypt("hello world", conv, nonce)))
    raw[byte_index % len(raw)] ^= 1 << bit
    with pytest.raises(CryptoError):
        nip44.decrypt(base64.b64encode(bytes(raw)).decode(), conv)
