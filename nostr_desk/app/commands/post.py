"""`nostr-desk post "text" [--reply-to note1…|nevent1…] [--relay URL ...] [--wait S]`: post headless.

Signs with the active account (the secret stays in the keyring and the signer), stores the note in
the local event store at once, then publishes through the pool's durable outbox and prints each
relay's answer. Before posting, whatever an earlier run left undelivered is retried; with no text,
only that is done. Relays: `--relay` URLs, else the account's NIP-65 write relays (from the store).

Exit codes: 0 accepted by at least one relay; 3 queued (no relay accepted yet; retried by the next
run; with no text: some earlier note is still in that state); 1 refused (every relay rejected it, or
bad input); 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from nostr_desk.app.paths import default_paths
from nostr_desk.app.posting import Delivery, Poster, PostingError
from nostr_desk.keys.accounts import AccountBook, AccountsError
from nostr_desk.keys.manager import KeyImportError, KeyManager
from nostr_desk.keys.vault import SERVICE, KeyringUnavailable, KeyVault, VaultError
from nostr_desk.pool.config import PoolConfig
from nostr_desk.pool.pool import RelayPool
from nostr_desk.protocol import nip19
from nostr_desk.protocol.relay_url import InvalidRelayUrl, normalize
from nostr_desk.store import EventStore, StoreConfig, StoreError

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_QUEUED = 0, 1, 2, 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("post", help="post a note (or a reply) as the active account, headless")
    p.add_argument("text", nargs="?", help="the note; without it, only retry what earlier runs left undelivered")
    p.add_argument("--reply-to", metavar="NOTE", help="reply to this note1…, nevent1… or hex id (NIP-10 tags)")
    p.add_argument("--relay", action="append", default=[], metavar="URL", help="publish here (repeatable)")
    p.add_argument("--wait", type=float, default=10.0, metavar="S",
                   help="seconds to keep trying relays that have not answered (default 10)")
    p.add_argument("--account", help="hex pubkey, npub or label (default: the active account)")
    p.add_argument("--db", help="the event store file (default: events.sqlite3 in the data folder)")
    p.add_argument("--data-dir", help="the data folder (default: the per-user folder of this OS)")
    p.add_argument("--keyring-service", default=SERVICE, help=argparse.SUPPRESS)  # tests: a private entry
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.wait < 0:
        return _fail("--wait must be zero or more seconds", EXIT_USAGE)
    try:
        relays = [normalize(u) for u in args.relay]
    except InvalidRelayUrl as exc:
        return _fail(str(exc), EXIT_USAGE)
    paths = default_paths(args.data_dir)
    try:
        manager = KeyManager(KeyVault(service=args.keyring_service), AccountBook(paths.accounts_file))
        signer = manager.signer(manager.resolve_pubkey(args.account) if args.account else None)
    except (KeyringUnavailable, VaultError, AccountsError, KeyImportError) as exc:
        return _fail(str(exc), EXIT_REFUSED)
    db = Path(args.db) if args.db else paths.ensure().event_db
    try:
        store = EventStore.open(StoreConfig(path=db))
    except StoreError as exc:
        return _fail(str(exc), EXIT_REFUSED)
    try:
        return asyncio.run(_post(args, signer, store, relays))
    except PostingError as exc:
        return _fail(str(exc), EXIT_REFUSED)
    finally:
        store.close()


def cli_pool_config(wait: float) -> PoolConfig:
    # A command line run is short: connect and OK timeouts within --wait, quick reconnects, no pings.
    t = max(0.5, min(wait, 8.0))
    return PoolConfig(connect_timeout=t, ok_timeout=t, eose_timeout=t, ping_interval=0, backoff_base=0.2,
                      backoff_cap=1.0, backoff_http_floor=1.0, backoff_rejection_floor=1.0,
                      outbox_retry_interval=0.5, breaker_failure_threshold=1000, auth_default="always")


async def _post(args: argparse.Namespace, signer, store: EventStore, relays: list[str]) -> int:
    deadline = time.monotonic() + args.wait
    pool = RelayPool(cli_pool_config(args.wait), store, signer=_auth(signer))
    poster = Poster(signer, store, pool)
    try:
        earlier = await poster.retry_undelivered()
        for delivery in earlier:
            _print(delivery, "earlier")
        if args.text is None:  # no text at all: only retry; an empty "" is refused by the poster
            # 3 while some note has reached no relay yet, as for a new note, so a script can tell.
            return EXIT_QUEUED if any(not d.delivered and d.pending for d in earlier) else EXIT_OK
        targets = relays or poster.write_relays()
        if not targets:
            return _fail("no relay to publish to: pass --relay URL (or publish a NIP-65 relay list)", EXIT_USAGE)
        if args.reply_to:
            posted = await poster.reply(args.reply_to, args.text, targets)
        else:
            posted = await poster.note(args.text, targets)
        print(f"stored locally: {nip19.encode_note(posted.event.id)} ({posted.event.id})", flush=True)
        delivery = posted.delivery
        while delivery is not None and delivery.pending and time.monotonic() < deadline:
            await asyncio.sleep(min(0.3, max(0.0, deadline - time.monotonic())))
            delivery = await poster.push_pending(posted.event.id)
        if delivery is None:
            return _fail("not published: no pool", EXIT_QUEUED)
        _print(delivery, "")
        if delivery.accepted:
            return EXIT_OK
        return EXIT_QUEUED if delivery.pending else EXIT_REFUSED
    finally:
        await pool.close()


def _auth(signer):
    async def sign_auth(template):  # NIP-42: the pool asks, the signer signs; the pool never sees a key
        return signer.sign(template)
    return sign_auth


def _print(delivery: Delivery, label: str) -> None:
    head = f"{label} {delivery.event_id}: " if label else ""
    for r in delivery.relays:
        note = " (retried by the next run)" if r.state == "pending" else ""
        message = f" — {r.message}" if r.message else ""
        print(f"  {r.url}  {r.state}{message}{note}")
    print(f"{head}{delivery.summary()}", flush=True)


def _fail(message: str, code: int) -> int:
    print(f"nostr-desk post: {message}", file=sys.stderr)
    return code
