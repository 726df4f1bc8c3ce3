"""Relay URL normalisation and validation: one spelling per relay, a clear error for anything else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nostr_desk.protocol import relay_url
from nostr_desk.protocol.errors import InvalidMessage, Prefix, ProtocolError
from nostr_desk.protocol.relay_url import InvalidRelayUrl


@pytest.mark.parametrize(
    "given_url, expected",
    [
        ("wss://relay.damus.io", "wss://relay.damus.io"),
        ("wss://relay.damus.io/", "wss://relay.damus.io"),
        ("WSS://Relay.Damus.IO/", "wss://relay.damus.io"),
        ("  wss://relay.damus.io  ", "wss://relay.damus.io"),
        ("wss://relay.damus.io:443", "wss://relay.damus.io"),
        ("ws://relay.example.com:80/", "ws://relay.example.com"),
        ("ws://relay.example.com:443", "ws://relay.example.com:443"),
        ("wss://relay.example.com:80", "wss://relay.example.com:80"),
        ("wss://relay.example.com:", "wss://relay.example.com"),
        ("wss://relay.example.com./", "wss://relay.example.com"),
        ("wss://relay.example.com/nostr/", "wss://relay.example.com/nostr/"),
        ("wss://relay.example.com/Path", "wss://relay.example.com/Path"),
        ("wss://relay.example.com/?", "wss://relay.example.com"),
        ("wss://relay.example.com?token=AbC", "wss://relay.example.com?token=AbC"),
        ("wss://relay.example.com/x?a=1&b=2", "wss://relay.example.com/x?a=1&b=2"),
        ("ws://127.0.0.1:7447", "ws://127.0.0.1:7447"),
        ("ws://localhost:7447/", "ws://localhost:7447"),
        ("ws://[::1]:7447", "ws://[::1]:7447"),
        ("wss://[2001:DB8:0:0::1]:443/", "wss://[2001:db8::1]"),
        ("wss://bücher.example/", "wss://xn--bcher-kva.example"),
        ("wss://relay.example.com/ü", "wss://relay.example.com/%C3%BC"),
        ("wss://my_relay.example.com", "wss://my_relay.example.com"),
    ],
)
def test_normalize(given_url, expected):
    assert relay_url.normalize(given_url) == expected
    assert relay_url.normalize(expected) == expected


@pytest.mark.parametrize(
    "bad, match",
    [
        ("relay.damus.io", "must start with"),
        ("https://relay.damus.io", "not 'https'"),
        ("ftp://x", "not 'ftp'"),
        ("wss://", "no host"),
        ("wss:///path", "no host"),
        ("wss://user:pw@relay.example.com", "user name or password"),
        ("wss://relay.example.com/#frag", "fragment"),
        ("wss://relay example.com", "whitespace"),
        ("wss://relay.example.com/\x00", "control"),
        ("wss://relay.example.com:0", "port"),
        ("wss://relay.example.com:65536", "port"),
        ("wss://relay.example.com:abc", "port"),
        ("wss://relay.example.com:²", "port"),
        ("wss://a:b:c", "host"),
        ("wss://-bad-.example.com", "host"),
        ("wss://a..b", "host"),
        ("wss://" + "a" * 64 + ".com", "host"),
        ("wss://999.1.1.1", "IPv4"),
        ("wss://[::g]", "IPv6"),
        ("wss://[::1", "unclosed"),
        ("wss://[::1]x", "after"),
        ("wss://relay.example.com/" + "a" * 3000, "longer"),
        ("wss://relay.example.com/\ud800", "Unicode"),
    ],
)
def test_rejects(bad, match):
    with pytest.raises(InvalidRelayUrl, match=match):
        relay_url.parse(bad)
    assert not relay_url.is_valid(bad)


def test_error_is_an_invalid_message_with_the_invalid_prefix():
    with pytest.raises(InvalidMessage) as info:
        relay_url.parse("http://x")
    assert info.value.reason.startswith("invalid: ")
    assert info.value.prefix is Prefix.INVALID
    assert not relay_url.is_valid(None)


def test_parts_and_http_url():
    url = relay_url.parse("wss://Relay.Example.com:8443/nostr?x=1")
    assert (url.scheme, url.host, url.port, url.path, url.query) == ("wss", "relay.example.com", 8443,
                                                                     "/nostr", "x=1")
    assert url.secure and str(url) == "wss://relay.example.com:8443/nostr?x=1"
    assert url.http_url == "https://relay.example.com:8443/nostr?x=1"
    assert relay_url.parse("ws://127.0.0.1:7447").http_url == "http://127.0.0.1:7447"


def test_same_relay():
    assert relay_url.same_relay("wss://relay.example.com/", "WSS://relay.example.com:443")
    assert not relay_url.same_relay("wss://relay.example.com", "ws://relay.example.com")
    assert not relay_url.same_relay("wss://relay.example.com", "wss://relay.example.com/other")
    assert not relay_url.same_relay("garbage", "garbage")


# --- fuzzing -------------------------------------------------------------------------------------
@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.text(max_size=80),
    st.builds(lambda s, rest: s + rest, st.sampled_from(["ws://", "wss://", "WSS://", "wss://["]),
              st.text(max_size=60)),
))
def test_any_text_parses_or_raises_invalid_relay_url(text):
    try:
        url = relay_url.normalize(text)
    except ProtocolError as exc:
        assert isinstance(exc, InvalidRelayUrl)
        return
    # Whatever normalises is stable, ASCII, and starts with a websocket scheme.
    assert relay_url.normalize(url) == url
    assert url.isascii() and url.startswith(("ws://", "wss://"))


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["ws", "wss"]), st.lists(_LABEL, min_size=1, max_size=4),
       st.none() | st.integers(1, 65535), st.from_regex(r"(/[a-zA-Z0-9._~-]{0,8}){0,3}", fullmatch=True))
def test_well_formed_urls_normalise_to_their_parts(scheme, labels, port, path):
    host = ".".join(labels)
    if host.replace(".", "").isdigit():
        return  # all-digit hosts are IPv4 territory
    text = f"{scheme.upper()}://{host.upper()}{'' if port is None else f':{port}'}{path}"
    url = relay_url.parse(text)
    assert url.host == host
    assert url.port == (None if port == relay_url.DEFAULT_PORTS[scheme] else port)
    assert url.path == ("" if path == "/" else path)
