"""NIP-11: the NIP's example documents, lenient-but-safe parsing, encoding round trips, fuzzing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nostr_desk.protocol import nip11
from nostr_desk.protocol.errors import ProtocolError
from nostr_desk.protocol.nip11 import InvalidRelayInfo, Limitation, RelayInfo

# The nostr.wine example from NIP-11, verbatim.
WINE = """{
  "contact": "wino@nostr.wine",
  "description": "A paid nostr relay for wine enthusiasts and everyone else.",
  "fees": {"admission": [{"amount": 18888000, "unit": "msats"}]},
  "icon": "https://image.nostr.build/30acdce4a81926f386622a07343228ae99fa68d012d54c538c0b2129dffe400c.png",
  "limitation": {
    "auth_required": false, "created_at_lower_limit": 94608000, "created_at_upper_limit": 300,
    "max_event_tags": 4000, "max_limit": 1000, "max_message_length": 524288, "max_subid_length": 71,
    "max_subscriptions": 50, "min_pow_difficulty": 0, "payment_required": true, "restricted_writes": true
  },
  "name": "nostr.wine",
  "payments_url": "https://nostr.wine/invoices",
  "pubkey": "4918eb332a41b71ba9a74b1dc64276cfff592e55107b93baae38af3520e55975",
  "software": "https://nostr.wine",
  "supported_nips": [ 1, 2, 4, 9, 11, 40, 42, 50, 70, 77 ],
  "terms_of_service": "https://nostr.wine/terms",
  "version": "0.3.3"
}"""


def test_nip11_example_document():
    info = nip11.parse(WINE)
    assert info.name == "nostr.wine" and info.version == "0.3.3"
    assert info.admin_pubkey == "4918eb332a41b71ba9a74b1dc64276cfff592e55107b93baae38af3520e55975"
    assert info.supported_nips == (1, 2, 4, 9, 11, 40, 42, 50, 70, 77) and info.supports(42)
    assert info.payments_url == "https://nostr.wine/invoices"
    lim = info.limitation
    assert (lim.max_message_length, lim.max_subscriptions, lim.max_limit, lim.max_subid_length) == (
        524288, 50, 1000, 71)
    assert (lim.auth_required, lim.payment_required, lim.restricted_writes) == (False, True, True)
    assert (lim.created_at_lower_limit, lim.created_at_upper_limit, lim.min_pow_difficulty) == (94608000, 300, 0)
    assert lim.default_limit is None and lim.max_filters is None
    assert info.extra == {"fees": {"admission": [{"amount": 18888000, "unit": "msats"}]}}
    # Encoding gives back the same document (unknown fields included).
    assert json.loads(nip11.to_json(info)) == json.loads(WINE)
    assert nip11.parse(nip11.to_obj(info)) == info


def test_empty_and_null_fields_are_absent():
    info = nip11.parse(b'{"name": null, "limitation": {"max_limit": null}}')
    assert info == RelayInfo(limitation=Limitation())
    assert nip11.parse("{}") == RelayInfo()
    assert nip11.to_obj(RelayInfo()) == {}


def test_self_and_sloppy_pubkeys():
    info = nip11.parse({"self": "ab" * 32, "pubkey": "npub1notahexkey"})
    assert info.self_pubkey == "ab" * 32 and info.self_ == "ab" * 32
    assert info.pubkey == "npub1notahexkey" and info.admin_pubkey is None  # kept, never used as a key
    assert nip11.to_obj(info) == {"self": "ab" * 32, "pubkey": "npub1notahexkey"}


def test_unknown_limitation_fields_are_kept():
    info = nip11.parse({"limitation": {"max_limit": 10, "max_filters": 5, "max_event_size": 99}})
    assert info.limitation.max_filters == 5
    assert info.limitation.extra == {"max_event_size": 99}
    assert nip11.to_obj(info) == {"limitation": {"max_limit": 10, "max_filters": 5, "max_event_size": 99}}


def test_our_relay_document_encodes():
    info = RelayInfo(name="nostr-desk", software="https://example.invalid/nostr-desk", version="0.1.0",
                     supported_nips=(1, 9, 11, 40, 42, 45, 50),
                     limitation=Limitation(max_message_length=131072, max_subscriptions=20, max_filters=10,
                                           max_limit=5000, auth_required=False, default_limit=500))
    obj = json.loads(nip11.to_json(info))
    assert obj["limitation"] == {"max_message_length": 131072, "max_subscriptions": 20, "max_filters": 10,
                                 "max_limit": 5000, "auth_required": False, "default_limit": 500}
    assert nip11.parse(nip11.to_json(info)) == info


@pytest.mark.parametrize(
    "doc, match",
    [
        ("[]", "JSON object"),
        ("not json", "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        ('{"name": 5}', "name must be a string"),
        ('{"supported_nips": "1,2"}', "list of integers"),
        ('{"supported_nips": [1, "42"]}', "non-integer"),
        ('{"supported_nips": [true]}', "non-integer"),
        ('{"supported_nips": [-1]}', "non-integer"),
        ('{"limitation": []}', "must be an object"),
        ('{"limitation": {"max_limit": "500"}}', "max_limit must be an integer"),
        ('{"limitation": {"max_limit": 500.0}}', "max_limit must be an integer"),
        ('{"limitation": {"max_limit": true}}', "max_limit must be an integer"),
        ('{"limitation": {"max_limit": -1}}', "out of range"),
        ('{"limitation": {"max_limit": 100000000000000000000000}}', "out of range"),
        ('{"limitation": {"auth_required": "yes"}}', "true or false"),
        ('{"limitation": {"auth_required": 1}}', "true or false"),
    ],
)
def test_wrong_types_are_refused(doc, match):
    with pytest.raises(InvalidRelayInfo, match=match) as info:
        nip11.parse(doc)
    assert info.value.reason.startswith("invalid: ")


def test_size_limit():
    doc = json.dumps({"description": "x" * 2000})
    with pytest.raises(InvalidRelayInfo, match="limit 1000"):
        nip11.parse(doc, max_bytes=1000)
    assert nip11.parse(doc).description == "x" * 2000


# --- fuzzing -------------------------------------------------------------------------------------
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
_KEYS = st.sampled_from(["name", "pubkey", "self", "supported_nips", "limitation", "max_limit",
                         "auth_required", "fees", "software"])


@settings(max_examples=250, deadline=None)
@given(st.one_of(
    st.text(max_size=200),
    st.dictionaries(_KEYS, _JSON | st.dictionaries(_KEYS, _JSON, max_size=4), max_size=6).map(json.dumps),
))
def test_any_document_parses_or_raises_and_round_trips(text):
    try:
        info = nip11.parse(text)
    except ProtocolError as exc:
        assert isinstance(exc, InvalidRelayInfo)
        return
    assert nip11.parse(nip11.to_json(info)) == info
