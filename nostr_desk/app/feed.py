"""The window's live feed: what the pool should be reading for the active account, kept running.

On start (and whenever the account or the relay list changes): fetch the user's profile, contacts and
relay list; then hold one live subscription for the follows' notes and profiles and for mentions of
the user. Events land in the store through the pool (with provenance) and the cache projects them;
this only decides *what* to read. The first time an account is used here, app/backfill.py fetches
its history first (the follows' recent notes, by each author's NIP-65 write relays), with progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from nostr_desk.protocol.filters import Filter

log = logging.getLogger(__name__)

MAX_AUTHORS = 500     # a REQ with thousands of authors is refused by many relays
NOTES_LIMIT = 300


class LiveFeed:
    def __init__(self, services: Any) -> None:
        self.s = services
        self.subs: list[Any] = []
        self._drains: list[asyncio.Task] = []
        self._task: asyncio.Task | None = None
        self.user: str | None = None
        self.listeners: list[Any] = []  # called with a progress sentence (the Home page shows it)

    def restart(self) -> None:
        """Re-plan the subscriptions (account or relays changed); returns at once."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="live feed")

    async def _run(self) -> None:
        try:
            await self._plan()
        except asyncio.CancelledError:
            raise
        except Exception:  # relays failing is normal life, not a bug for the error dialog
            log.exception("the live feed could not subscribe")
            self._say("Could not subscribe to your relays; retrying when they or your account change.")

    async def _plan(self) -> None:
        await self._close_subs()
        pool, keys = self.s.pool, self.s.vault
        account = keys.active if keys is not None else None
        self.user = account.pubkey if account is not None else None
        if pool is None or self.user is None or not pool.read_relays:
            return
        me = self.user
        if self._first_time(me):
            await self._backfill(pool, me)
        mine = Filter(authors=frozenset({me}), kinds=frozenset({0, 3, 10002}))
        follows: list[str] = []
        try:
            fetched = await pool.fetch([mine], background=True)
            # The fetched contact list is used as is: the store commits it in the background, so
            # the cache may not have projected it yet.
            lists = sorted((e for e in fetched if e.kind == 3), key=lambda e: (e.created_at, e.id))
            if lists:
                follows = list(dict.fromkeys(t[1] for t in lists[-1].tags if len(t) > 1 and t[0] == "p"))
            elif self.s.cache is not None:
                follows = await self.s.cache.call("follows", me)
        except Exception:
            log.exception("could not fetch the account's own lists")
        authors = frozenset([me, *follows[:MAX_AUTHORS]])
        filters = [Filter(authors=authors, kinds=frozenset({1, 6}), limit=NOTES_LIMIT),
                   Filter(authors=authors, kinds=frozenset({0})),
                   Filter(kinds=frozenset({1, 6, 7}), tags={"p": frozenset({me})}, limit=100)]
        sub = await pool.subscribe(filters, emit_events=True)
        self.subs.append(sub)
        self._drains.append(asyncio.get_running_loop().create_task(self._drain(sub), name="feed drain"))

    # --- first-run backfill (app/backfill.py): once per account and data folder --------------------
    def _marker(self) -> Any:
        return self.s.config.paths.data_dir / "backfilled.json"

    def _first_time(self, me: str) -> bool:
        try:
            done = json.loads(self._marker().read_text())
        except (OSError, ValueError):
            done = {}
        return not (isinstance(done, dict) and done.get(me))

    async def _backfill(self, pool: Any, me: str) -> None:
        from nostr_desk.app.backfill import backfill

        self._say("Fetching your profile, contacts and the notes of the people you follow…")
        try:
            result = await backfill(pool, me, progress=lambda p: self._say(f"Fetching {p.line()}"))
        except Exception:
            log.exception("backfill failed")
            self._say("Could not fetch your history; new notes will still arrive.")
            return
        self._say(f"Fetched {result.events:,} events for {result.follows:,} follows"
                  + ("." if result.complete else " (stopped at the time limit; more arrive as you read)."))
        if result.complete:
            self._mark_done(me)

    def _mark_done(self, me: str) -> None:
        try:
            done = json.loads(self._marker().read_text())
        except (OSError, ValueError):
            done = {}
        done = done if isinstance(done, dict) else {}
        done[me] = int(time.time())
        try:
            self._marker().write_text(json.dumps(done))
        except OSError as exc:  # a read-only data folder: backfill again next start, but keep reading now
            log.warning("could not record the backfill: %s", exc)

    def _say(self, text: str) -> None:
        for listener in list(self.listeners):
            listener(text)

    @staticmethod
    async def _drain(sub: Any) -> None:
        # The pool stores what arrives; the queue only has to be emptied so it cannot grow.
        async for _event in sub:
            pass

    async def _close_subs(self) -> None:
        for task in self._drains:
            task.cancel()
        for sub in self.subs:
            with contextlib.suppress(Exception):
                await sub.close()
        self.subs.clear()
        self._drains.clear()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._close_subs()
