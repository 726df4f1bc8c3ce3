"""The signer: events and NIP-42 auth events that verify, NIP-44 with the shared vectors, and a secret
that cannot get out through repr, pickling or copying."""

from __future__ import annotations

import copy
import json
import os
import pickle

import pytest

from nostr_desk.protocol import nip42, nip44
from nostr_desk.protocol.event import EventTemplate
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.keys.signer import AUTH_KIND, Signer


@pytest.fixture
def signer() -> Signer:
    return Signer(SecretKey(os.urandom(32)), clock=lambda: 1_700_000_123)


def test_signed_events_verify(signer, sample_event_lines):
    for line in sample_event_lines[:10]:
        obj = json.loads(line)
        template = EventTemplate(obj["kind"], obj["content"], obj["tags"], obj["created_at"])
        event = signer.sign(template)
        event.verify()
        assert (event.pubkey, event.kind, event.content, event.tags) == (
            signer.pubkey, obj["kind"], obj["content"], obj["tags"],
        )


def test_fresh_aux_randomness_per_signature(signer):
    template = EventTemplate(1, "same", [], 1)
    a, b = signer.sign(template), signer.sign(template)
    assert a.id == b.id and a.sig != b.sig  # same event, different nonces


def test_aux_randomness_comes_from_the_rng():
    secret = SecretKey(os.urandom(32))
    fixed = Signer(secret, rng=lambda n: b"\x07" * n)
    assert fixed.sign(EventTemplate(1, "x", [], 1)).sig == fixed.sign(EventTemplate(1, "x", [], 1)).sig


def test_created_at_zero_means_now(signer):
    assert signer.sign(EventTemplate(1, "now")).created_at == 1_700_000_123
    assert signer.sign(EventTemplate(1, "then", [], 42)).created_at == 42


def test_auth_event(signer):
    event = signer.sign_auth("wss://relay.example.com/", "challenge-123")
    event.verify()
    assert event.kind == AUTH_KIND == 22242 and event.created_at == 1_700_000_123
    assert event.first_tag_value("relay") == "wss://relay.example.com/"
    assert event.first_tag_value("challenge") == "challenge-123"
    # and a relay running the protocol's NIP-42 check accepts it
    relay = "wss://relay.example.com"
    assert nip42.check(event, relay_url=relay, challenge="challenge-123", now=1_700_000_200) == signer.pubkey


def test_nip44_between_two_signers(signer):
    other = Signer(SecretKey(os.urandom(32)))
    payload = signer.nip44_encrypt(other.pubkey, "secret message ☕")
    assert other.nip44_decrypt(signer.pubkey, payload) == "secret message ☕"
    assert signer.nip44_encrypt(other.pubkey, "x") != signer.nip44_encrypt(other.pubkey, "x")  # fresh nonce


def test_nip44_vectors(vectors):
    data = json.loads((vectors / "nip44.vectors.json").read_text())["v2"]["valid"]["encrypt_decrypt"]
    for v in data[:8]:
        sec1, sec2 = SecretKey.from_hex(v["sec1"]), SecretKey.from_hex(v["sec2"])
        fixed_nonce = bytes.fromhex(v["nonce"])
        sender = Signer(sec1, rng=lambda n, nonce=fixed_nonce: nonce[:n])
        assert sender.nip44_encrypt(sec2.public_key, v["plaintext"]) == v["payload"]
        assert Signer(sec2).nip44_decrypt(sec1.public_key, v["payload"]) == v["plaintext"]


def test_nip44_garbage_is_a_crypto_error(signer):
    from nostr_desk.protocol.errors import CryptoError

    with pytest.raises(CryptoError):
        signer.nip44_decrypt(signer.pubkey, "not a payload")
    assert nip44  # the signer uses the protocol's NIP-44, not a copy


def test_repr_shows_only_the_pubkey(signer, leaks):
    assert repr(signer) == str(signer) == f"Signer(pubkey={signer.pubkey})"
    leaks.watch(signer)


@pytest.mark.parametrize("leak", [pickle.dumps, copy.copy, copy.deepcopy])
def test_cannot_be_pickled_or_copied(signer, leak):
    with pytest.raises(TypeError):
        leak(signer)


def test_no_attribute_dict_to_stuff_or_dump(signer):
    assert not hasattr(signer, "__dict__")
    with pytest.raises(AttributeError):
        signer.extra = 1
