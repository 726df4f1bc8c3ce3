"""NIP-19 against all 32 cases of nip19.json, the bech32 codec's edge cases, the CLI, and fuzzing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nostr_desk.app import cli
from nostr_desk.protocol import bech32, nip19
from nostr_desk.protocol.errors import Bech32Error, ProtocolError
from nostr_desk.protocol.keys import SecretKey


@pytest.fixture(scope="module")
def cases(vectors):
    data = json.loads((vectors / "nip19.json").read_text(encoding="utf-8"))
    assert len(data) == 32
    return data


def _fields(value) -> dict:
    """The decoded value in nostr-tools' field names (a missing key = the TLV was absent)."""
    if isinstance(value, nip19.Nprofile):
        return {"pubkey": value.pubkey, "relays": list(value.relays)}
    if isinstance(value, nip19.Nevent):
        out = {"id": value.id, "relays": list(value.relays)}
        if value.author is not None:
            out["author"] = value.author
        if value.kind is not None:
            out["kind"] = value.kind
        return out
    assert isinstance(value, nip19.Naddr)
    return {"identifier": value.identifier, "pubkey": value.pubkey, "kind": value.kind,
            "relays": list(value.relays)}


def _hex(value) -> str:
    if isinstance(value, nip19.Npub):
        return value.pubkey
    if isinstance(value, nip19.Note):
        return value.id
    assert isinstance(value, nip19.Nsec)
    return value.secret.secret_bytes().hex()


def test_valid_cases_decode_and_encode(cases):
    valid = [c for c in cases if c["valid"] is True]
    assert len(valid) == 22
    for case in valid:
        value = nip19.decode(case["bech32"])
        assert type(value).__name__.lower() == case["type"], case["bech32"]
        if "hex" in case:
            assert _hex(value) == case["hex"]
            assert nip19.encode(value) == case["bech32"]
        else:
            assert _fields(value) == case["fields"], case["bech32"]
            encoded = nip19.encode(value)
            # A canonical encoder reproduces the string exactly when the input's TLVs were in order.
            assert (encoded == case["bech32"]) is case["canonical_tlv_order"], case["bech32"]
            assert nip19.decode(encoded) == value


def test_hex_cases_through_the_typed_encoders(cases):
    encoders = {"npub": nip19.encode_npub, "nsec": nip19.encode_nsec, "note": nip19.encode_note}
    checked = 0
    for case in cases:
        if case["valid"] is True and "hex" in case:
            assert encoders[case["type"]](case["hex"]) == case["bech32"]
            checked += 1
    assert checked == 10


def test_tlv_cases_through_the_typed_encoders(cases):
    for case in cases:
        if case["valid"] is not True or "fields" not in case or not case["canonical_tlv_order"]:
            continue
        f = case["fields"]
        if case["type"] == "nprofile":
            text = nip19.encode_nprofile(f["pubkey"], f["relays"])
        elif case["type"] == "nevent":
            text = nip19.encode_nevent(f["id"], f["relays"], f.get("author"), f.get("kind"))
        else:
            text = nip19.encode_naddr(f["identifier"], f["pubkey"], f["kind"], f["relays"])
        assert text == case["bech32"]


def test_raw_tlvs_match_the_decoded_fields(cases):
    # The vectors list the raw TLVs; our parser must see the same ones in wire order.
    for case in cases:
        if "tlv" not in case or case["valid"] is False:
            continue
        _, data = bech32.decode(case["bech32"])
        raw = nip19._parse_tlvs(data)
        expected: dict[int, list[str]] = {}
        for kind, value in case["tlv"]:
            expected.setdefault(kind, []).append(value)
        assert {k: [v.hex() for v in vs] for k, vs in raw.items()} == expected


def test_invalid_cases_raise(cases):
    invalid = [c for c in cases if c["valid"] is False]
    assert len(invalid) == 9
    for case in invalid:
        with pytest.raises(Bech32Error):
            nip19.decode(case["bech32"])


def test_implementation_defined_64_byte_author_is_rejected(cases):
    (case,) = [c for c in cases if c["valid"] is None]
    # Our choice: a known TLV with the wrong length is an error, like go-nostr, so a 64-byte author
    # can never be returned (and the same shape in the invalid list is rejected consistently).
    with pytest.raises(Bech32Error, match="author"):
        nip19.decode(case["bech32"])


def test_nsec_and_npub_of_the_same_bytes_differ_only_by_prefix(cases):
    same = "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d"
    npub = nip19.encode_npub(same)
    nsec = nip19.encode_nsec(same)
    assert npub[-6:] != nsec[-6:]
    assert {c["bech32"] for c in cases} >= {npub, nsec}


def test_describe_never_shows_the_secret():
    secret = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
    value = nip19.decode("nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5")
    shown = json.dumps(nip19.describe(value))
    assert secret not in shown and "nsec1" not in shown
    pubkey = SecretKey.from_hex(secret).public_key
    assert nip19.describe(value) == {"type": "nsec", "pubkey": pubkey, "npub": nip19.encode_npub(pubkey)}
    assert secret not in repr(value)


def test_describe_each_type_is_json(cases):
    for case in cases:
        if case["valid"] is True:
            described = nip19.describe(nip19.decode(case["bech32"]))
            assert described["type"] == case["type"]
            assert json.loads(json.dumps(described)) == described
    naddr = nip19.decode(cases[6]["bech32"])
    assert nip19.describe(naddr)["address"] == f"30023:{naddr.pubkey}:banana"


def test_uppercase_string_decodes_mixed_case_does_not():
    text = "npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6"
    assert nip19.decode(text.upper()) == nip19.decode(text)
    with pytest.raises(Bech32Error, match="mixes"):
        nip19.decode(text[:10] + text[10:].upper())


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "not a bech32"),
        ("1qqqqqq", "not a bech32"),
        ("npub1", "not a bech32"),
        ("npub1b", "not a bech32"),
        ("npub1" + "q" * 5000, "longer"),
        ("npub1ibqqqqqq", "invalid character"),
        ("nrelay1qqqqqqq", "checksum"),
    ],
)
def test_malformed_strings(text, match):
    with pytest.raises(Bech32Error, match=match):
        nip19.decode(text)


def test_wrong_sizes_and_unknown_prefixes():
    with pytest.raises(Bech32Error, match="32 bytes"):
        nip19.decode(bech32.encode("npub", b"\x01" * 31))
    with pytest.raises(Bech32Error, match="unknown NIP-19 prefix"):
        nip19.decode(bech32.encode("nrelay", b"\x01" * 32))
    with pytest.raises(ProtocolError):  # zero is not a secret key
        nip19.decode(bech32.encode("nsec", b"\x00" * 32))
    with pytest.raises(Bech32Error, match="91 bytes"):
        nip19.decode(bech32.encode("ncryptsec", b"\x02" * 90))


def test_tlv_rules():
    pk = bytes(range(32))
    # Unknown TLV types are ignored; the first of a repeated single-valued TLV wins.
    data = bytes([9, 2, 1, 2]) + bytes([0, 32]) + pk + bytes([0, 32]) + b"\xff" * 32
    assert nip19.decode(bech32.encode("nprofile", data)) == nip19.Nprofile(pk.hex())
    with pytest.raises(Bech32Error, match="needs"):
        nip19.decode(bech32.encode("nprofile", bytes([1, 1]) + b"x"))
    with pytest.raises(Bech32Error, match="needs"):  # naddr without a kind
        nip19.decode(bech32.encode("naddr", bytes([0, 0, 2, 32]) + pk))
    with pytest.raises(Bech32Error, match="kind TLV is 2 bytes"):
        nip19.decode(bech32.encode("nevent", bytes([0, 32]) + pk + bytes([3, 2, 0, 1])))
    with pytest.raises(Bech32Error, match="out of range"):
        nip19.decode(bech32.encode("naddr", bytes([0, 0, 2, 32]) + pk + bytes([3, 4, 0, 1, 0, 0])))
    with pytest.raises(Bech32Error, match="UTF-8"):
        nip19.decode(bech32.encode("nprofile", bytes([0, 32]) + pk + bytes([1, 1, 0xFF])))
    with pytest.raises(Bech32Error, match="truncated"):
        nip19.decode(bech32.encode("nprofile", bytes([0, 32]) + pk + bytes([1])))


def test_empty_identifier_and_kind_zero_round_trip():
    pk = "ab" * 32
    value = nip19.Naddr("", pk, 0)
    assert nip19.decode(nip19.encode(value)) == value
    event = nip19.Nevent("cd" * 32, (), None, 0)
    assert nip19.decode(nip19.encode(event)).kind == 0


def test_encoders_refuse_bad_input():
    with pytest.raises(Bech32Error):
        nip19.encode_npub("AB" * 32)  # uppercase hex is not NIP-01 hex
    with pytest.raises(Bech32Error):
        nip19.encode_note("ab" * 31)
    with pytest.raises(Bech32Error, match="255"):
        nip19.encode_nprofile("ab" * 32, ["wss://" + "a" * 300])
    with pytest.raises(Bech32Error, match="kind"):
        nip19.encode_naddr("x", "ab" * 32, 70000)
    with pytest.raises(Bech32Error, match="UTF-8"):
        nip19.encode_naddr("\ud800", "ab" * 32, 1)
    with pytest.raises(Bech32Error, match="limit"):
        nip19.encode_nprofile("ab" * 32, ["wss://" + "a" * 240] * 20)


# --- the CLI ---------------------------------------------------------------------------------------
def test_cli_decode_prints_json(capsys):
    text = "nostr:nevent1qqsdhet4232flykq3048jzc9msmaa3hnxuesxy3lnc33vd0wt9xwk6szyqewrqnkx4zsaweutf739s0cu7et29zrntqs5elw70vlm8zudr3y24sqsgy"
    assert cli.main(["decode", text]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {"type": "nevent", "id": "dbe57554549f92c08bea790b05dc37dec6f3373303123f9e231635ee594ceb6a",
                     "relays": [], "author": "32e1827635450ebb3c5a7d12c1f8e7b2b514439ac10a67eef3d9fd9c5c68e245"}


def test_cli_decode_nsec_shows_only_the_pubkey(capsys):
    assert cli.main(["decode", "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"]) == 0
    out = capsys.readouterr().out
    assert "67dea2ed" not in out and "nsec1" not in out
    assert json.loads(out)["npub"].startswith("npub1")


def test_cli_decode_error_is_clear(capsys):
    assert cli.main(["decode", "npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w4"]) == 2
    assert capsys.readouterr().err.startswith("error: bech32 checksum")


# --- fuzzing -----------------------------------------------------------------------------------------
@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=200), st.text(alphabet=bech32.CHARSET + "1npubsec", max_size=120)))
def test_any_text_decodes_or_raises_protocol_error(text):
    try:
        nip19.decode(text)
    except ProtocolError:
        pass


_HRPS = st.sampled_from(["npub", "nsec", "note", "nprofile", "nevent", "naddr", "ncryptsec"])


@settings(max_examples=400, deadline=None)
@given(_HRPS, st.binary(max_size=300))
def test_any_payload_with_a_valid_checksum_decodes_or_raises(hrp, payload):
    # Random bytes behind a valid checksum reach the TLV parser itself.
    try:
        value = nip19.decode(bech32.encode(hrp, payload))
    except ProtocolError:
        return
    assert isinstance(value, (nip19.Npub, nip19.Nsec, nip19.Note, nip19.Nprofile, nip19.Nevent,
                              nip19.Naddr, nip19.Ncryptsec))
    if isinstance(value, nip19.Nevent) and value.author is not None:
        assert len(value.author) == 64


_HEX32 = st.binary(min_size=32, max_size=32).map(bytes.hex)
_SAFE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        _HEX32.map(nip19.Npub),
        _HEX32.map(nip19.Note),
        st.builds(nip19.Nprofile, _HEX32, st.lists(_SAFE_TEXT, max_size=4).map(tuple)),
        st.builds(nip19.Nevent, _HEX32, st.lists(_SAFE_TEXT, max_size=4).map(tuple),
                  st.none() | _HEX32, st.none() | st.integers(0, 65535)),
        st.builds(nip19.Naddr, _SAFE_TEXT, _HEX32, st.integers(0, 65535),
                  st.lists(_SAFE_TEXT, max_size=4).map(tuple)),
    )
)
def test_encode_decode_round_trip(value):
    text = nip19.encode(value)
    assert nip19.decode(text) == value
    assert nip19.decode(text.upper()) == value


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140))
def test_nsec_round_trip(number):
    key = SecretKey(number.to_bytes(32, "big"))
    assert nip19.decode(nip19.encode_nsec(key)).secret == key
