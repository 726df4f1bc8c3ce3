"""BIP-340 against all 19 published rows, and the SecretKey type's refusal to show or ship its secret."""

from __future__ import annotations

import copy
import csv
import pickle

import pytest

from nostr_desk.protocol.errors import InvalidKey, ProtocolError
from nostr_desk.protocol.keys import SecretKey, is_hex, is_valid_pubkey, verify_schnorr

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture(scope="module")
def bip340_rows(vectors) -> list[dict[str, str]]:
    with open(vectors / "bip340-test-vectors.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_all_nineteen_rows_are_present(bip340_rows):
    assert [int(r["index"]) for r in bip340_rows] == list(range(19))
    assert sum(r["verification result"] == "FALSE" for r in bip340_rows) == 10


def test_verify_equals_the_expected_result_on_every_row(bip340_rows):
    for row in bip340_rows:
        expected = row["verification result"] == "TRUE"
        result = verify_schnorr(
            row["public key"].lower(), bytes.fromhex(row["message"]), bytes.fromhex(row["signature"])
        )
        assert result is expected, (row["index"], row["comment"])


def test_unparsable_public_keys_are_false_and_invalid(bip340_rows):
    # Row 5: not on the curve. Row 14: x >= the field size. Both must be False, never an exception.
    for index in (5, 14):
        row = bip340_rows[index]
        pubkey = row["public key"].lower()
        assert not is_valid_pubkey(pubkey)
        assert verify_schnorr(pubkey, bytes.fromhex(row["message"]), bytes.fromhex(row["signature"])) is False


@pytest.mark.parametrize("pubkey", ["", "zz" * 32, "00" * 31, "00" * 33, "00" * 32])
def test_junk_public_keys_verify_false(pubkey):
    assert verify_schnorr(pubkey, bytes(32), bytes(64)) is False


@pytest.mark.parametrize("sig", [b"", bytes(63), bytes(65)])
def test_wrong_length_signatures_verify_false(bip340_rows, sig):
    row = bip340_rows[1]
    assert verify_schnorr(row["public key"].lower(), bytes.fromhex(row["message"]), sig) is False


def test_signing_reproduces_every_signature_and_pubkey(bip340_rows):
    signed = 0
    for row in bip340_rows:
        if not row["secret key"]:
            continue
        secret = SecretKey.from_hex(row["secret key"])
        assert secret.public_key == row["public key"].lower()
        message = bytes.fromhex(row["message"])
        if len(message) != 32:
            continue  # rows 15-18: coincurve signs only 32-byte messages (allowed by the vectors README)
        sig = secret.sign_schnorr(message, bytes.fromhex(row["aux_rand"]))
        assert sig.hex().upper() == row["signature"], row["index"]
        signed += 1
    assert signed == 4  # rows 0-3


def test_rows_with_short_and_long_messages_still_verify(bip340_rows):
    lengths = []
    for row in bip340_rows[15:]:
        message = bytes.fromhex(row["message"])
        lengths.append(len(message))
        assert verify_schnorr(row["public key"].lower(), message, bytes.fromhex(row["signature"]))
    assert lengths == [0, 1, 17, 100]


# --- SecretKey -----------------------------------------------------------------------------------
SECRET_HEX = "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef"


def test_repr_and_str_never_contain_the_secret():
    key = SecretKey.from_hex(SECRET_HEX)
    for text in (repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr({"k": key})):
        assert SECRET_HEX not in text.lower()
        assert SECRET_HEX[:16] not in text.lower()
        assert "redacted" in text
    assert key.secret_bytes().hex() == SECRET_HEX


def test_an_error_from_a_bad_key_does_not_echo_it():
    bad = "g" + SECRET_HEX[1:]
    with pytest.raises(InvalidKey) as info:
        SecretKey.from_hex(bad)
    assert SECRET_HEX[1:] not in str(info.value)
    assert isinstance(info.value, ProtocolError)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickling_is_refused(protocol):
    with pytest.raises(TypeError):
        pickle.dumps(SecretKey.from_hex(SECRET_HEX), protocol=protocol)


def test_copying_is_refused_too():
    # copy uses __reduce_ex__ as pickle does; a copy would be a second secret to forget.
    with pytest.raises(TypeError):
        copy.copy(SecretKey.from_hex(SECRET_HEX))


@pytest.mark.parametrize(
    "value",
    [0, CURVE_ORDER, CURVE_ORDER + 1, 2**256 - 1],
    ids=["zero", "order", "order+1", "max"],
)
def test_out_of_range_secrets_are_rejected(value):
    with pytest.raises(InvalidKey):
        SecretKey(value.to_bytes(32, "big"))
    with pytest.raises(InvalidKey):
        SecretKey.from_hex(value.to_bytes(32, "big").hex())


def test_edge_of_range_secrets_are_accepted():
    assert is_hex(SecretKey((1).to_bytes(32, "big")).public_key, 64)
    assert is_hex(SecretKey((CURVE_ORDER - 1).to_bytes(32, "big")).public_key, 64)


@pytest.mark.parametrize("raw", [b"", bytes(31), bytes(33), "00" * 32, None, 5])
def test_wrong_types_and_lengths_are_rejected(raw):
    with pytest.raises(InvalidKey):
        SecretKey(raw)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "00" * 31, "0x" + "11" * 31, "11" * 33, "zz" * 32])
def test_bad_hex_is_rejected(text):
    with pytest.raises(InvalidKey):
        SecretKey.from_hex(text)


@pytest.mark.parametrize("value", [None, b"11" * 32, 3])
def test_non_string_hex_is_an_invalid_key_not_an_attribute_error(value):
    with pytest.raises(InvalidKey):
        SecretKey.from_hex(value)  # type: ignore[arg-type]


def test_equality_is_by_key_and_hash_is_stable():
    a, b = SecretKey.from_hex(SECRET_HEX), SecretKey.from_hex(SECRET_HEX.upper())
    c = SecretKey((3).to_bytes(32, "big"))
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a != SECRET_HEX


def test_ecdh_is_symmetric_and_rejects_bad_points():
    a, b = SecretKey.from_hex(SECRET_HEX), SecretKey((3).to_bytes(32, "big"))
    assert a.ecdh_x(b.public_key) == b.ecdh_x(a.public_key)
    assert len(a.ecdh_x(b.public_key)) == 32
    with pytest.raises(InvalidKey):
        a.ecdh_x("eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34")  # BIP-340 row 5
    with pytest.raises(InvalidKey):
        a.ecdh_x(b.public_key.upper())
