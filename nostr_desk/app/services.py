"""Builds the services in dependency order and tears them down in reverse, with one AsyncExitStack.

Start: store → local relay → pool → cache → key vault. Stop (the stack unwinds): vault → cache →
pool (no new publishes; the outbox is durable) → local relay (stop accepting, close clients with 1001)
→ store (flush the writer, close SQLite). A service that cannot start (the relay's port is taken, no
keyring) is recorded in `problems` with a readable sentence and the others carry on: the window shows
the sentence instead of the app dying.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from nostr_desk.app.config import AppConfig, read_settings, save_settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class Services:
    """The running services; any of them may be None (not started, or not available)."""

    config: AppConfig
    store: Any = None
    relay: Any = None
    pool: Any = None
    cache: Any = None
    vault: Any = None            # the KeyManager (accounts over the keyring)
    relay_list: Any = None       # app.relay_list.RelayList, once the pool runs
    pool_config: Any = None      # a PoolConfig to use instead of the defaults (tests, benchmarks)
    feed: Any = None             # app.feed.LiveFeed: what the pool reads for the active account
    auth_asker: Any = None       # async (url) -> bool: the window's "may this relay see who you are?"
    problems: dict[str, str] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic)
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    _closed: bool = False
    _resume: Any = None

    async def start(self, progress: Progress = lambda _: None) -> None:
        """Start every service that can start; never raises for one that cannot (see `problems`)."""
        await self._step("store", "Opening the event store…", _open_store, progress)
        if self.config.relay_enabled and self.store is not None:
            await self._step("relay", "Starting the local relay…", _start_relay, progress)
        await self._step("vault", "Opening the key vault…", _open_vault, progress)
        await self._step("pool", "Connecting to relays…", _start_pool, progress)
        await self._step("cache", "Loading the cache…", _start_cache, progress)
        if self.pool is not None:
            await self._step("feed", "Subscribing…", _start_feed, progress)
        progress("Ready")

    async def aclose(self) -> None:
        """Ordered shutdown; idempotent. Each service's own close runs even if an earlier one failed."""
        if self._closed:
            return
        self._closed = True
        await self._stack.aclose()
        log.info("services stopped")

    def read_settings(self) -> dict[str, Any]:
        return read_settings(self.config.paths.settings_file)

    def save_settings(self, settings: dict[str, Any]) -> None:
        save_settings(self.config.paths.settings_file, settings)

    @property
    def actions(self) -> Any:
        from nostr_desk.app.actions import Actions
        return Actions(self)

    def use_session_keys(self) -> Any:
        return use_session_keys(self)

    def save_relays(self, relays: list[dict]) -> None:
        settings = self.read_settings()
        settings["relays"] = relays
        self.save_settings(settings)

    def can_sign(self) -> bool:
        account = self.vault.active if self.vault is not None else None
        return account is not None and not account.watch_only

    def refresh_auth_signer(self) -> None:
        """Give the pool our AUTH signer only while the active account can sign: a watch-only account
        must make AUTH 'refused' up front, not fail inside the pool's connection task."""
        if self.pool is None:
            return
        signer = self.sign_auth if self.can_sign() else None
        self.pool.signer = signer
        for conn in self.pool.connections.values():
            conn.auth.signer = signer

    async def ask_auth(self, url: str) -> bool:
        """NIP-42 policy "ask": the window asks the user; without a window the answer is no."""
        return bool(self.auth_asker is not None and await self.auth_asker(url))

    async def sign_auth(self, template: Any) -> Any:
        """NIP-42 answers for the pool, signed by the active account (the pool never sees a secret)."""
        if self.vault is None:
            raise LookupError("no key vault")
        signer = await asyncio.to_thread(self.vault.signer)
        return signer.sign(template)

    async def _step(self, name: str, label: str, step: Callable, progress: Progress) -> None:
        progress(label)
        try:
            await step(self)
        except _Unavailable as exc:
            self.problems[name] = str(exc)
            log.info("%s not available: %s", name, exc)
        except Exception as exc:  # one broken service must not take the window down
            self.problems[name] = describe_failure(name, exc, self.config)
            log.exception("%s failed to start", name)


class _Unavailable(Exception):
    """A service whose package is not part of this build yet."""


def _module(name: str) -> Any:
    try:
        return importlib.import_module(f"nostr_desk.{name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(f"nostr_desk.{name}"):
            raise _Unavailable(f"the {name} service is not part of this build") from None
        raise


def describe_failure(name: str, exc: BaseException, config: AppConfig) -> str:
    """A sentence a user can act on."""
    if name == "relay" and isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EACCES):
        why = "is already in use" if exc.errno == errno.EADDRINUSE else "is not allowed"
        return (f"Local relay not started: port {config.relay_port} on {config.relay_host} {why}. "
                "Choose another port in Settings.")
    return f"{name} could not start: {exc}"


async def _open_store(s: Services) -> None:
    store_mod = _module("store")
    s.config.paths.ensure()
    owner: frozenset[str] = frozenset()
    cfg = store_mod.StoreConfig(path=s.config.paths.event_db, max_limit=s.config.limits.max_limit,
                                owner_pubkeys=owner)
    s.store = await asyncio.to_thread(store_mod.EventStore.open, cfg)
    s._stack.callback(_close_store, s)


def _close_store(s: Services) -> None:
    store, s.store = s.store, None
    if store is not None:
        store.close()


async def _start_relay(s: Services) -> None:
    relay_mod = _module("relay")
    relay = relay_mod.LocalRelay(relay_config(relay_mod, s.config), s.store)
    await relay.start()
    s.relay = relay
    s._stack.push_async_callback(_stop_relay, s)


async def _stop_relay(s: Services) -> None:
    relay = s.relay
    if relay is not None:
        await relay.stop()


def relay_config(relay_mod: Any, config: AppConfig) -> Any:
    """Map the app's settings onto the relay's own config (only the fields it has)."""
    cls = relay_mod.RelayConfig
    wanted = {
        "host": config.relay_host, "port": config.relay_port,
        "max_message_length": config.limits.max_message_bytes,
        "max_subscriptions": config.limits.max_subscriptions,
        "max_filters": config.limits.max_filters, "max_limit": config.limits.max_limit,
        "max_event_tags": config.limits.max_event_tags,
        "max_content_length": config.limits.max_content_length,
    }
    names = set(getattr(cls, "__dataclass_fields__", {}))
    return cls(**{k: v for k, v in wanted.items() if k in names})


async def _start_pool(s: Services) -> None:
    _module("pool")
    from nostr_desk.app.relay_list import RelayList
    from nostr_desk.pool.config import PoolConfig
    from nostr_desk.pool.pool import RelayPool

    # A ping every 15 s gives the Monitor's latency chart a useful line within its 5-minute window.
    config = s.pool_config or PoolConfig(ping_interval=15.0)
    pool = RelayPool(config, s.store, signer=s.sign_auth if s.can_sign() else None, ask_auth=s.ask_auth)
    s.pool = pool
    s._stack.push_async_callback(_close_pool, s)
    s.relay_list = RelayList(pool, s.config.relays, s.save_relays)
    if s.store is not None:
        from nostr_desk.app.status_log import StatusLog

        status_log = StatusLog(s.store, pool)
        s._stack.push_async_callback(status_log.close)  # flushed before the pool closes
    if s.store is not None:  # publishes left in the durable outbox by the last run
        s._resume = asyncio.get_running_loop().create_task(_resume(pool), name="resume outbox")


async def _start_feed(s: Services) -> None:
    from nostr_desk.app.feed import LiveFeed

    s.feed = LiveFeed(s)
    s._stack.push_async_callback(s.feed.close)
    s.feed.restart()


async def _resume(pool: Any) -> None:
    try:
        await pool.resume()
    except Exception:
        log.exception("could not resume pending publishes")


async def _close_pool(s: Services) -> None:
    resume = s._resume
    if resume is not None and not resume.done():
        resume.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await resume
    if s.pool is not None:
        await s.pool.close()


async def _start_cache(s: Services) -> None:
    _module("cache")
    if s.store is None:
        raise _Unavailable("the cache needs the event store")
    from nostr_desk.app.cache_service import CacheService

    cache = CacheService(s.store)
    await cache.start()
    s.cache = cache
    s._stack.push_async_callback(cache.close)


async def _open_vault(s: Services) -> None:
    """Accounts over the OS keyring. Without a secure keyring the refusal (naming the backend found
    and the fix) becomes the problem sentence; the Accounts page then offers `use_session_keys`."""
    _module("keys")
    from nostr_desk.keys.accounts import AccountBook
    from nostr_desk.keys.manager import KeyManager
    from nostr_desk.keys.vault import KeyVault, KeyringUnavailable

    book = AccountBook(s.config.paths.accounts_file)
    try:
        vault = await asyncio.to_thread(KeyVault)  # D-Bus round trips: keep them off the GUI thread
    except KeyringUnavailable as exc:
        s.problems["vault"] = str(exc)
        return
    s.vault = KeyManager(vault, book)


def use_session_keys(s: Services) -> Any:
    """Keys in memory for this run only (no keyring): nothing is written to the keyring or disk."""
    from nostr_desk.keys.manager import KeyManager

    s.vault = KeyManager.session_only()
    s.problems.pop("vault", None)
    return s.vault
