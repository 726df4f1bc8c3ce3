"""NIP-42 client side for one relay: remember the challenge, decide by policy, sign through a callback.

The pool never holds a secret: `signer` is an injected async callable that turns an unsigned
`EventTemplate` into a signed `Event` (the keys service does it). Policy per relay: "always" answers
every challenge; "ask" awaits the injected `ask(url)` callback once per session (the answer holds
across reconnects until the policy changes: a flaky relay must not put a dialog up every minute);
"never" refuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Awaitable, Callable

from nostr_desk.protocol.event import Event, EventTemplate
from nostr_desk.protocol.nip42 import auth_template

from .config import AuthPolicy

Signer = Callable[[EventTemplate], Awaitable[Event]]
Asker = Callable[[str], Awaitable[bool]]
SendAuth = Callable[[Event], Awaitable[tuple[bool, str]]]


class AuthGate:
    """States: none -> challenged -> authenticating -> authenticated | refused | failed."""

    def __init__(self, url: str, policy: AuthPolicy, signer: Signer | None, ask: Asker | None,
                 timeout: float, wall: Callable[[], float] = time.time, *, sign_timeout: float = 30.0) -> None:
        self.url, self.policy, self.signer, self.ask, self.timeout = url, policy, signer, ask, timeout
        self.sign_timeout = sign_timeout
        self.wall = wall
        self.challenge: str | None = None
        self.state = "none"
        self._lock = asyncio.Lock()
        self._answered: str | None = None     # the challenge we authenticated for
        self._asked: bool | None = None       # the user's answer, kept for the session
        self._challenged = asyncio.Event()

    def reset(self) -> None:
        """A new connection: a new challenge will come (the user's "ask" answer still holds)."""
        self.challenge = None
        self._challenged.clear()
        self._answered = None
        self.state = "none"

    def set_challenge(self, challenge: str) -> None:
        self.challenge = challenge
        self.state = "challenged" if self.state in ("none", "failed") else self.state
        self._challenged.set()

    async def _wait_challenge(self) -> None:
        # Some relays send AUTH only together with (or just after) their auth-required: answer.
        if self.challenge is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._challenged.wait(), self.timeout)

    def reset_answer(self) -> None:
        """Forget the user's "ask" answer (the policy changed): ask again next time."""
        self._asked = None
        if self.state == "refused":
            self.state = "challenged" if self.challenge else "none"

    def may_try(self) -> bool:
        return self.policy != "never" and self.signer is not None

    async def authenticate(self, send_auth: SendAuth) -> bool:
        """Answer the current challenge once; True when the relay accepted our AUTH."""
        if self.may_try():
            await self._wait_challenge()
        async with self._lock:
            if self.challenge is not None and self._answered == self.challenge and self.state == "authenticated":
                return True
            if not self.may_try() or self.challenge is None:
                self.state = "refused" if self.policy == "never" else self.state
                return False
            if self.policy == "ask":
                if self._asked is None:
                    try:
                        self._asked = bool(self.ask and await self.ask(self.url))
                    except Exception:        # no window to ask in: a "no" this time, asked again later
                        self.state = "refused"
                        return False
                if not self._asked:
                    self.state = "refused"
                    return False
            self.state = "authenticating"
            try:
                return await self._answer(self.challenge, send_auth)
            finally:
                if self.state == "authenticating":     # cancelled half-way: not stuck in between
                    self.state = "failed"

    async def _answer(self, challenge: str, send_auth: SendAuth) -> bool:
        try:
            event = await asyncio.wait_for(self.signer(auth_template(self.url, challenge, int(self.wall()))),
                                           self.sign_timeout)
        except Exception:   # locked keyring, watch-only account, a signer that never answers (timeout):
            # the relay's answer stands
            self.state = "failed"
            return False
        try:
            accepted, message = await send_auth(event)
        except (asyncio.TimeoutError, ConnectionError):
            self.state = "failed"
            return False
        self.state = "authenticated" if accepted else "failed"
        if accepted:
            self._answered = challenge
        return accepted
