"""`sign`: what it signs always parses and verifies, and a template that could not is refused."""

from __future__ import annotations

import pytest

from nostr_desk.protocol.errors import InvalidEvent
from nostr_desk.protocol.event import EventTemplate, parse_verified, sign
from nostr_desk.protocol.keys import SecretKey

KEY = SecretKey((5).to_bytes(32, "big"))


def _sign(template: EventTemplate):
    return sign(template, KEY, aux_rand=bytes(32))


@pytest.mark.parametrize(
    "template, field",
    [
        (EventTemplate(1, "", [], -5), "created_at"),
        (EventTemplate(1, "", [], 2**63), "created_at"),
        (EventTemplate(1, "", [], True), "created_at"),
        (EventTemplate(-1, ""), "kind"),
        (EventTemplate(65536, ""), "kind"),
        (EventTemplate(True, ""), "kind"),
        (EventTemplate(1, "", [[1]]), "tags"),
        (EventTemplate(1, "", [["a", None]]), "tags"),
        (EventTemplate(1, "", ["ab"]), "tags"),  # a string is not a tag (list("ab") would be ["a","b"])
        (EventTemplate(1, "", "ab"), "tags"),
        (EventTemplate(1, 5), "content"),
        (EventTemplate(1, None), "content"),
    ],
)
def test_templates_that_would_make_unparsable_events_are_refused(template, field):
    with pytest.raises(InvalidEvent, match=f"cannot sign: {field}"):
        _sign(template)


def test_lone_surrogates_cannot_be_signed():
    with pytest.raises(InvalidEvent):
        _sign(EventTemplate(1, "\ud800"))
    with pytest.raises(InvalidEvent):
        _sign(EventTemplate(1, "", [["t", "\udfff"]]))


def test_edges_that_are_valid_sign_and_reparse():
    for template in (EventTemplate(0, ""), EventTemplate(65535, "x", [[]], 2**63 - 1),
                     EventTemplate(1, "x", (("e", "y"),), 0)):
        ev = _sign(template)
        assert parse_verified(ev.to_bytes()) == ev
        assert ev.pubkey == KEY.public_key


def test_the_event_does_not_share_the_callers_tag_lists():
    tags = [["p", "x"]]
    ev = _sign(EventTemplate(1, "", tags, 7))
    tags[0].append("mutated")
    tags.append(["e", "y"])
    assert ev.tags == [["p", "x"]]
    assert ev.verify() is ev


def test_aux_rand_changes_the_signature_not_the_id():
    a = sign(EventTemplate(1, "same"), KEY, aux_rand=bytes(32))
    b = sign(EventTemplate(1, "same"), KEY, aux_rand=b"\x01" * 32)
    assert a.id == b.id and a.sig != b.sig
    assert a.verify() and b.verify()


@pytest.mark.parametrize("aux", [b"", None, bytes(31), bytes(33), "x" * 32])
def test_aux_rand_must_be_32_bytes(aux):
    # coincurve would sign with no aux randomness for b"" or None, silently.
    with pytest.raises(ValueError, match="32 bytes"):
        sign(EventTemplate(1, ""), KEY, aux_rand=aux)
