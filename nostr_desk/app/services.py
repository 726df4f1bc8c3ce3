"""Builds the services in dependency order and tears them down in reverse, with one AsyncExitStack.

Start: store → local relay → key vault → pool → cache → retention → feed. Stop (the stack unwinds):
feed → retention → cache → pool (no new publishes; the outbox is durable) → local relay (stop
accepting, close clients with 1001) → store (flush the writer, close SQLite). A service that cannot
start (the relay's port is taken, the data folder is not writable, no keyring) is recorded in
`problems` with a readable sentence and the others carry on: the window shows the sentence instead
of the app dying.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from nostr_desk.app.config import AppConfig, read_settings, save_settings

if TYPE_CHECKING:  # the real imports are in the step functions (see the note above `_open_store`)
    from nostr_desk.app.cache_service import CacheService
    from nostr_desk.app.feed import LiveFeed
    from nostr_desk.app.relay_list import RelayList
    from nostr_desk.app.retention import Retention
    from nostr_desk.keys.manager import KeyManager
    from nostr_desk.pool import PoolConfig, RelayPool
    from nostr_desk.relay import LocalRelay, RelayConfig
    from nostr_desk.store import EventStore

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class Services:
    """The running services; any of them may be None (not started, or not available)."""

    config: AppConfig
    store: EventStore | None = None
    relay: LocalRelay | None = None
    pool: RelayPool | None = None
    cache: CacheService | None = None
    vault: KeyManager | None = None          # accounts over the keyring
    relay_list: RelayList | None = None      # once the pool runs
    pool_config: PoolConfig | None = None    # instead of the defaults (tests, benchmarks)
    feed: LiveFeed | None = None             # what the pool reads for the active account
    retention: Retention | None = None       # the store's quota, kept on a timer
    retention_delay: float = 5.0             # seconds from start to the first retention run
    auth_asker: Any = None       # async (url) -> bool: the window's "may this relay see who you are?"
    problems: dict[str, str] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic)
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    _closed: bool = False
    _resume: Any = None

    async def start(self, progress: Progress = lambda _: None) -> None:
        """Start every service that can start; never raises for one that cannot (see `problems`)."""
        if self.config.settings_problem:
            self.problems["settings"] = self.config.settings_problem
        await self._step("store", "Opening the event store…", _open_store, progress)
        if self.config.relay_enabled and self.store is not None:
            await self._step("relay", "Starting the local relay…", _start_relay, progress)
        elif self.config.relay_enabled:  # the relay serves the store: say why it is not running
            self.problems["relay"] = "Local relay not started: no event store. " + self.problems.get("store", "")
        await self._step("vault", "Opening the key vault…", _open_vault, progress)
        await self._step("pool", "Connecting to relays…", _start_pool, progress)
        if self.store is not None:
            await self._step("cache", "Loading the cache…", _start_cache, progress)
            await self._step("retention", "Scheduling retention…", _start_retention, progress)
        else:
            self.problems["cache"] = "The cache keeps its tables in the event store, which did not open."
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
        except OSError as exc:  # port taken, folder not writable: the sentence says all, no traceback
            self.problems[name] = describe_failure(name, exc, self.config)
            log.warning("%s not started: %s", name, self.problems[name])
        except Exception as exc:  # one broken service must not take the window down
            self.problems[name] = describe_failure(name, exc, self.config)
            log.exception("%s failed to start", name)


def describe_failure(name: str, exc: BaseException, config: AppConfig) -> str:
    """A sentence a user can act on."""
    if name == "relay" and isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EACCES):
        why = "is already in use" if exc.errno == errno.EADDRINUSE else "is not allowed"
        return (f"Local relay not started: port {config.relay_port} on {config.relay_host} {why}. "
                "Choose another port in Settings.")
    if name == "store" and isinstance(exc, OSError):
        where = exc.filename or config.data_dir
        return (f"The event store could not be opened in {where}: {exc.strerror or exc}. "
                "Choose a data folder you can write to (--data-dir).")
    if name == "store":  # e.g. "file is not a database", or a file from a newer nostr-desk
        return (f"The event store {config.paths.event_db} could not be opened: {exc}. "
                "Move it aside to start with an empty store, or choose another data folder (--data-dir).")
    return f"{name} could not start: {exc}"


# The service packages are imported inside the step functions, not at the top: gui.py imports this
# module before the window is built, and store + relay + pool + cache + keys (asyncio, websockets,
# sqlite3, keyring) cost ~0.3 s of a launch whose target is a window within 2 s.

async def _open_store(s: Services) -> None:
    from nostr_desk.keys.accounts import AccountsError
    from nostr_desk.store import EventStore, StoreConfig

    s.config.paths.ensure()
    try:
        owners = await asyncio.to_thread(owner_pubkeys, s)
    except AccountsError as exc:  # the store must still open; retention re-reads (and waits) itself
        log.warning("accounts file unreadable, no owners for retention yet: %s", exc)
        owners = frozenset()
    cfg = StoreConfig(path=s.config.paths.event_db, max_limit=s.config.limits.max_limit, owner_pubkeys=owners)
    s.store = await asyncio.to_thread(EventStore.open, cfg)
    s._stack.callback(_close_store, s)


def owner_pubkeys(s: Services) -> frozenset[str]:
    """The accounts' pubkeys: their events and events addressed to them are never evicted. Read from the
    accounts file each time (an account added since start counts), plus session-only accounts.
    Raises AccountsError when the file is unreadable: retention must then not guess."""
    from nostr_desk.keys.accounts import AccountBook

    owners = {a.pubkey for a in AccountBook(s.config.paths.accounts_file).accounts()}
    if s.vault is not None:
        owners.update(a.pubkey for a in s.vault.accounts())
    return frozenset(owners)


def _close_store(s: Services) -> None:
    store, s.store = s.store, None
    if store is not None:
        store.close()


async def _start_relay(s: Services) -> None:
    from nostr_desk.relay import LocalRelay

    relay = LocalRelay(relay_config(s.config), s.store)
    await relay.start()
    s.relay = relay
    s._stack.push_async_callback(_stop_relay, s)


async def _stop_relay(s: Services) -> None:
    relay = s.relay
    if relay is not None:
        await relay.stop()


def relay_config(config: AppConfig) -> RelayConfig:
    """The app's settings as the local relay's config (the rest keeps the relay's defaults)."""
    from nostr_desk.relay import RelayConfig

    limits = config.limits
    return RelayConfig(
        host=config.relay_host, port=config.relay_port,
        max_message_length=limits.max_message_bytes, max_subscriptions=limits.max_subscriptions,
        max_filters=limits.max_filters, max_limit=limits.max_limit, max_event_tags=limits.max_event_tags,
        max_content_length=limits.max_content_length,
    )


async def _start_pool(s: Services) -> None:
    from nostr_desk.app.relay_list import RelayList
    from nostr_desk.app.status_log import StatusLog
    from nostr_desk.pool import PoolConfig, RelayPool

    # A ping every 15 s gives the Monitor's latency chart a useful line within its 5-minute window.
    config = s.pool_config or PoolConfig(ping_interval=15.0)
    pool = RelayPool(config, s.store, signer=s.sign_auth if s.can_sign() else None, ask_auth=s.ask_auth)
    s.pool = pool
    s._stack.push_async_callback(_close_pool, s)
    s.relay_list = RelayList(pool, s.config.relays, s.save_relays)
    if s.store is not None:
        status_log = StatusLog(s.store, pool)
        s._stack.push_async_callback(status_log.close)  # flushed before the pool closes
        # publishes left in the durable outbox by the last run
        s._resume = asyncio.get_running_loop().create_task(_resume(pool), name="resume outbox")


async def _start_feed(s: Services) -> None:
    from nostr_desk.app.feed import LiveFeed

    s.feed = LiveFeed(s)
    s._stack.push_async_callback(s.feed.close)
    s.feed.restart()


async def _resume(pool: RelayPool) -> None:
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
    from nostr_desk.app.cache_service import CacheService

    cache = CacheService(s.store)
    await cache.start()
    s.cache = cache
    s._stack.push_async_callback(cache.close)


async def _start_retention(s: Services) -> None:
    from nostr_desk.app.retention import Retention

    s.retention = Retention(s, first_delay=s.retention_delay)
    s._stack.push_async_callback(s.retention.close)  # stopped before the cache and the store close
    s.retention.start()


async def _open_vault(s: Services) -> None:
    """Accounts over the OS keyring. Without a secure keyring the refusal (naming the backend found
    and the fix) becomes the problem sentence; the Accounts page then offers `use_session_keys`."""
    from nostr_desk.keys.accounts import AccountBook
    from nostr_desk.keys.manager import KeyManager
    from nostr_desk.keys.vault import KeyringUnavailable, KeyVault

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
