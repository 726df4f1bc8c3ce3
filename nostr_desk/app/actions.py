"""What the window's buttons do to the network: post, reply, react, repost, delete, publish the relay list.

The work is app/posting.py's `Poster` (sign with the active account, store in the local relay at
once, publish through the pool's durable outbox to the user's write relays); this adds the checks a
window needs first (an account, one that can sign) and turns every refusal into one readable
`ActionError`. The returned delivery says "accepted by n of m"; the outbox keeps retrying.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nostr_desk.protocol import nip65
from nostr_desk.protocol.event import Event

MAX_NOTE_CHARS = 8_000


class ActionError(RuntimeError):
    """A user action that cannot be done now; the message is shown as is (`user_facing`)."""

    user_facing = True


class Actions:
    """The window's actions over app/posting.py's `Poster`, with readable refusals (`ActionError`)."""

    def __init__(self, services: Any) -> None:
        self.s = services

    async def poster(self) -> Any:
        from nostr_desk.app.posting import Poster

        keys = self.s.vault
        if keys is None:
            raise ActionError("No key vault: create or import an account on the Accounts page first.")
        account = keys.active
        if account is None:
            raise ActionError("No account yet: create or import one on the Accounts page.")
        if account.watch_only:
            raise ActionError("This account is watch-only: import its secret key to post.")
        if self.s.store is None:
            raise ActionError("The event store is not open, so nothing can be posted.")
        signer = await asyncio.to_thread(keys.signer)  # the keyring read is a D-Bus call
        return Poster(signer, self.s.store, self.s.pool, local_relay=self.s.relay)

    async def _do(self, name: str, *args: Any) -> tuple[Event, Any]:
        """Run one Poster action; (event, Delivery or None). PostingError becomes ActionError."""
        from nostr_desk.app.posting import PostingError

        poster = await self.poster()
        try:
            posted = await getattr(poster, name)(*args)
        except PostingError as exc:
            raise ActionError(str(exc)) from None
        if self.s.cache is not None:
            self.s.cache.poke()
        return posted.event, posted.delivery

    # --- the actions -------------------------------------------------------------------------------
    async def post(self, text: str) -> tuple[Event, Any]:
        text = text.strip()
        if not text:
            raise ActionError("Write something first.")
        if len(text) > MAX_NOTE_CHARS:
            raise ActionError(f"Notes are limited to {MAX_NOTE_CHARS:,} characters here.")
        return await self._do("note", text)

    async def reply(self, parent: Event, text: str) -> tuple[Event, Any]:
        if not text.strip():
            raise ActionError("Write your reply first.")
        return await self._do("reply", parent, text.strip())

    async def react(self, target: Event, content: str = "+") -> tuple[Event, Any]:
        return await self._do("react", target, content)

    async def repost(self, target: Event) -> tuple[Event, Any]:
        return await self._do("repost", target)

    async def delete(self, target: Event, reason: str = "") -> tuple[Event, Any]:
        return await self._do("delete", [target], reason)

    async def publish_relay_list(self, entries: list[nip65.RelayEntry]) -> tuple[Event, Any]:
        if not entries:
            raise ActionError("Add at least one relay before publishing your list.")
        return await self._do("set_relay_list", entries)
