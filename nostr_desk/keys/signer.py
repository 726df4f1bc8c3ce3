"""The in-process signer: signs events, NIP-42 auth events and does NIP-44 encryption with one key.

A `Signer` is the only object handed to the rest of the app for an account with a secret; the secret
itself stays inside it. Its repr shows only the pubkey, and it refuses to be pickled or copied, so it
cannot be written to a file, a queue or a log by accident.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from nostr_desk.protocol import nip42, nip44
from nostr_desk.protocol.event import Event, EventTemplate, sign
from nostr_desk.protocol.keys import SecretKey
from nostr_desk.protocol.kinds import CLIENT_AUTH as AUTH_KIND


class Signer:
    """Signs with one secret key, in this process. `rng` and `clock` are injectable for tests."""

    __slots__ = ("_secret", "_rng", "_clock")

    def __init__(
        self,
        secret: SecretKey,
        *,
        rng: Callable[[int], bytes] = os.urandom,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._rng = rng
        self._clock = clock

    @property
    def pubkey(self) -> str:
        return self._secret.public_key

    def sign(self, template: EventTemplate) -> Event:
        """Sign `template`; a `created_at` of 0 means "now"."""
        if template.created_at == 0:
            template = EventTemplate(template.kind, template.content, template.tags, int(self._clock()))
        # Fresh auxiliary randomness per signature (BIP-340's recommendation against side channels).
        return sign(template, self._secret, aux_rand=self._rng(32))

    def sign_auth(self, relay_url: str, challenge: str) -> Event:
        """The NIP-42 kind-22242 event answering a relay's AUTH challenge."""
        return self.sign(nip42.auth_template(relay_url, challenge, int(self._clock())))

    def nip44_encrypt(self, peer_pubkey: str, plaintext: str) -> str:
        """NIP-44 v2 payload for `peer_pubkey`."""
        key = nip44.conversation_key(self._secret, peer_pubkey)
        return nip44.encrypt(plaintext, key, nonce=self._rng(32))

    def nip44_decrypt(self, peer_pubkey: str, payload: str) -> str:
        key = nip44.conversation_key(self._secret, peer_pubkey)
        return nip44.decrypt(payload, key)

    def __repr__(self) -> str:
        return f"Signer(pubkey={self.pubkey})"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("a Signer cannot be pickled: it holds a secret key")

    def __copy__(self):
        raise TypeError("a Signer cannot be copied")

    def __deepcopy__(self, memo):
        raise TypeError("a Signer cannot be copied")
