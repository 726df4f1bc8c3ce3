"""What the window's buttons do to the network: post, reply, react, repost, delete, publish the relay list.

Each action builds a template (protocol), signs it with the active account (keys; the secret stays
inside the signer), stores it in the local relay at once (so it shows on Home and to local clients
even offline), then hands it to the pool's durable outbox for the user's write relays. The returned
`PublishReport` says "accepted by n of m"; the outbox keeps retrying in the background.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from nostr_desk.protocol import nip10, nip65
from nostr_desk.protocol.event import Event, EventTemplate

MAX_NOTE_CHARS = 8_000


class ActionError(RuntimeError):
    """A user action that cannot be done now; the message is shown as is (`user_facing`)."""

    user_facing = True


class Actions:
    def __init__(self, services: Any) -> None:
        self.s = services

    # --- building blocks ----------------------------------------------------------------------------
    async def sign(self, template: EventTemplate) -> Event:
        keys = self.s.vault
        if keys is None:
            raise ActionError("No key vault: create or import an account on the Accounts page first.")
        account = keys.active
        if account is None:
            raise ActionError("No account yet: create or import one on the Accounts page.")
        if account.watch_only:
            raise ActionError("This account is watch-only: import its secret key to post.")
        signer = await asyncio.to_thread(keys.signer)  # the keyring read is a D-Bus call
        return signer.sign(template)

    async def send(self, template: EventTemplate) -> tuple[Event, Any]:
        """Sign, store locally, publish; (event, PublishReport or None when no pool/relays)."""
        event = await self.sign(template)
        if self.s.relay is not None:
            await self.s.relay.publish_local(event)
        elif self.s.store is not None:
            await self.s.store.save(event)
        if self.s.cache is not None:
            self.s.cache.poke()
        pool = self.s.pool
        if pool is None or not pool.write_relays:
            return event, None
        return event, await pool.publish(event)

    @staticmethod
    def _now() -> int:
        return int(time.time())

    # --- the actions -------------------------------------------------------------------------------
    async def post(self, text: str) -> tuple[Event, Any]:
        text = text.strip()
        if not text:
            raise ActionError("Write something first.")
        if len(text) > MAX_NOTE_CHARS:
            raise ActionError(f"Notes are limited to {MAX_NOTE_CHARS:,} characters here.")
        return await self.send(EventTemplate(kind=1, content=text, tags=[], created_at=self._now()))

    async def reply(self, parent: Event, text: str) -> tuple[Event, Any]:
        if not text.strip():
            raise ActionError("Write your reply first.")
        me = self.s.vault.active.pubkey if self.s.vault and self.s.vault.active else ""
        tags = nip10.reply_tags(parent, exclude_pubkeys=frozenset({me}))
        return await self.send(EventTemplate(kind=1, content=text.strip(), tags=tags, created_at=self._now()))

    async def react(self, target: Event, content: str = "+") -> tuple[Event, Any]:
        tags = [["e", target.id], ["p", target.pubkey], ["k", str(target.kind)]]
        return await self.send(EventTemplate(kind=7, content=content, tags=tags, created_at=self._now()))

    async def repost(self, target: Event) -> tuple[Event, Any]:
        tags = [["e", target.id, ""], ["p", target.pubkey]]
        content = target.to_json() if hasattr(target, "to_json") else json.dumps(target.to_obj())
        return await self.send(EventTemplate(kind=6, content=content, tags=tags, created_at=self._now()))

    async def delete(self, target: Event, reason: str = "") -> tuple[Event, Any]:
        account = self.s.vault.active if self.s.vault else None
        if account is None or target.pubkey != account.pubkey:
            raise ActionError("You can only delete your own notes.")
        tags = [["e", target.id], ["k", str(target.kind)]]
        return await self.send(EventTemplate(kind=5, content=reason, tags=tags, created_at=self._now()))

    async def publish_relay_list(self, entries: list[nip65.RelayEntry]) -> tuple[Event, Any]:
        if not entries:
            raise ActionError("Add at least one relay before publishing your list.")
        return await self.send(nip65.template(entries, self._now()))
