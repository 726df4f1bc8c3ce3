"""Relay URLs: validate and normalise `ws://` / `wss://` addresses so one relay has one spelling.

Normal form: lowercase scheme and host (IDN hosts in punycode, one trailing dot dropped), no default
port (80 for ws, 443 for wss), no lone `/` path, no empty `?`; path and query are kept as written
(non-ASCII percent-encoded). Refused with `InvalidRelayUrl`: other schemes, userinfo (`user@`),
fragments, whitespace or control characters, bad hosts or ports, and anything over 2048 characters.
Hand-parsed because the protocol core may not import urllib (and urllib accepts too much anyway).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from .errors import InvalidMessage

MAX_LENGTH = 2048
DEFAULT_PORTS = {"ws": 80, "wss": 443}
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


class InvalidRelayUrl(InvalidMessage):
    """A relay address that is not a usable ws:// or wss:// URL."""


@dataclass(frozen=True)
class RelayUrl:
    scheme: str          # "ws" or "wss"
    host: str            # lowercase; an IPv6 address keeps its brackets
    port: int | None     # None when it is the scheme's default
    path: str = ""
    query: str = ""

    @property
    def url(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.host}{port}{self.path}{query}"

    @property
    def secure(self) -> bool:
        return self.scheme == "wss"

    @property
    def http_url(self) -> str:
        """The same address over HTTP(S), where the NIP-11 document is served."""
        return ("https" if self.secure else "http") + self.url[len(self.scheme):]

    def __str__(self) -> str:
        return self.url


def parse(url: str) -> RelayUrl:
    """Parse and normalise, or raise InvalidRelayUrl saying what is wrong."""
    if not isinstance(url, str):
        raise InvalidRelayUrl("a relay URL must be text")
    text = url.strip()
    if len(text) > MAX_LENGTH:
        raise InvalidRelayUrl(f"relay URL longer than {MAX_LENGTH} characters")
    if any(ord(c) <= 0x20 or 0x7F <= ord(c) <= 0x9F for c in text):
        raise InvalidRelayUrl("relay URL contains whitespace or control characters")
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise InvalidRelayUrl(f"relay URL must start with ws:// or wss://: {_show(text)}")
    if scheme not in DEFAULT_PORTS:
        raise InvalidRelayUrl(f"relay URLs use ws:// or wss://, not {_show(scheme)}://")
    if "#" in rest:
        raise InvalidRelayUrl("relay URL must not have a #fragment")
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, remainder = rest[:cut], rest[cut:]
    if "@" in authority:
        raise InvalidRelayUrl("relay URL must not carry a user name or password (user@host)")
    host, port = _split_authority(authority)
    port = None if port == DEFAULT_PORTS[scheme] else port
    path, _, query = remainder.partition("?")
    path = "" if path == "/" else _escape(path)
    return RelayUrl(scheme, host, port, path, _escape(query))


def normalize(url: str) -> str:
    return parse(url).url


def is_valid(url: object) -> bool:
    try:
        parse(url)  # type: ignore[arg-type]
    except InvalidRelayUrl:
        return False
    return True


def same_relay(a: str, b: str) -> bool:
    """Whether two URLs name the same relay after normalisation (False if either is invalid)."""
    try:
        return parse(a) == parse(b)
    except InvalidRelayUrl:
        return False


def _split_authority(authority: str) -> tuple[str, int | None]:
    if not authority:
        raise InvalidRelayUrl("relay URL has no host")
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise InvalidRelayUrl("relay URL has an unclosed [IPv6] host")
        host_text, after = authority[1:end], authority[end + 1 :]
        try:
            host = f"[{ipaddress.IPv6Address(host_text).compressed}]"
        except ValueError:
            raise InvalidRelayUrl(f"not an IPv6 address: {_show(host_text)}") from None
        if after and not after.startswith(":"):
            raise InvalidRelayUrl("unexpected text after the [IPv6] host")
        return host, _port(after[1:] if after else "")
    host_text, colon, port_text = authority.rpartition(":")
    if not colon:
        host_text, port_text = authority, ""
    return _host(host_text), _port(port_text)


def _host(text: str) -> str:
    try:
        host = text.encode("idna").decode("ascii").lower() if not text.isascii() else text.lower()
    except UnicodeError:
        raise InvalidRelayUrl(f"not a valid host name: {_show(text)}") from None
    host = host[:-1] if host.endswith(".") else host
    if not host or len(host) > 253:
        raise InvalidRelayUrl("relay URL has no host, or a host longer than 253 characters")
    if re.fullmatch(r"[0-9.]+", host):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise InvalidRelayUrl(f"not a valid IPv4 address: {_show(host)}") from None
    if not all(_LABEL.match(label) for label in host.split(".")):
        raise InvalidRelayUrl(f"not a valid host name: {_show(host)}")
    return host


def _port(text: str) -> int | None:
    if not text:
        return None  # "host:" means the default port, as in browsers
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= 65535:
        raise InvalidRelayUrl(f"relay URL port must be 1..65535, not {_show(text)}")
    return int(text)


def _escape(text: str) -> str:
    """Percent-encode non-ASCII (as UTF-8) so the URL is plain ASCII; the rest is kept as written."""
    if text.isascii():
        return text
    try:
        return "".join(c if c.isascii() else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in text)
    except UnicodeEncodeError:
        raise InvalidRelayUrl("relay URL is not valid Unicode") from None


def _show(text: str) -> str:
    return repr(text[:60])
