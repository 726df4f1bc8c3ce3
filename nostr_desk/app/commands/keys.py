"""`nostr-desk keys generate|import|export|list|use|remove`: accounts and their keys from the shell.

Secrets and passwords are read from a terminal prompt (getpass) or, with `--stdin`, from standard input
(one per line) — never from the command line, where they would land in shell history and `ps`.
Exit codes: 0 done, 1 refused or bad input, 3 no secure keyring (or it is locked).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from nostr_desk.app.paths import default_paths
from nostr_desk.keys.accounts import Account, AccountBook, AccountsError, write_private_atomic
from nostr_desk.keys.manager import DEFAULT_LOG_N, KeyImportError, KeyManager, find_account
from nostr_desk.keys.vault import SERVICE, KeyringUnavailable, KeyVault, VaultError, VaultLocked
from nostr_desk.protocol import nip19

EXIT_REFUSED, EXIT_KEYRING = 1, 3


class CliError(Exception):
    """A message for the user and an exit code."""

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.code = code


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="where nostr-desk keeps its files (default: your data folder)")
    common.add_argument("--keyring-service", default=SERVICE, help=argparse.SUPPRESS)  # tests: a private entry
    secret_input = argparse.ArgumentParser(add_help=False)
    secret_input.add_argument(
        "--stdin", action="store_true", help="read secrets and passwords from standard input, one per line"
    )

    p = sub.add_parser("keys", help="manage accounts and their keys (kept in the OS keyring)")
    actions = p.add_subparsers(dest="keys_action", metavar="ACTION", required=True)

    a = actions.add_parser("generate", parents=[common], help="create a new key and account")
    a.add_argument("--label", default="", help="a name for the account")
    a.set_defaults(run=_guarded(cmd_generate))

    a = actions.add_parser(
        "import", parents=[common, secret_input], help="import an nsec, hex secret or ncryptsec (asks for it)"
    )
    a.add_argument("--label", default="", help="a name for the account")
    a.add_argument("--npub", help="add a watch-only account for this npub instead (public: fine as an argument)")
    # Catches a key pasted as an argument, so it is refused by us rather than echoed by argparse.
    a.add_argument("pasted", nargs="*", help=argparse.SUPPRESS)
    a.set_defaults(run=_guarded(cmd_import))

    a = actions.add_parser(
        "export", parents=[common, secret_input], help="print an encrypted ncryptsec backup (asks for a password)"
    )
    a.add_argument("account", nargs="?", help="hex pubkey, npub or label (default: the active account)")
    a.add_argument("--log-n", type=int, default=DEFAULT_LOG_N, help=f"scrypt cost, 2^N (default {DEFAULT_LOG_N})")
    a.add_argument("--output", help="write the backup to this new file (mode 0600) instead of printing it")
    a.set_defaults(run=_guarded(cmd_export))

    a = actions.add_parser("list", parents=[common], help="list the accounts")
    a.add_argument("--json", action="store_true", help="as JSON")
    a.set_defaults(run=_guarded(cmd_list))

    a = actions.add_parser("use", parents=[common], help="choose the active account")
    a.add_argument("account", help="hex pubkey, npub or label")
    a.set_defaults(run=_guarded(cmd_use))

    a = actions.add_parser("remove", parents=[common], help="forget an account, deleting its key from the keyring")
    a.add_argument("account", help="hex pubkey, npub or label")
    a.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    a.set_defaults(run=_guarded(cmd_remove))


def _guarded(command):
    """Turns the typed errors of the key layer into a message on stderr and an exit code."""

    def run(args: argparse.Namespace) -> int:
        try:
            _refuse_secret_arguments(args)
            return command(args)
        except KeyringUnavailable as exc:
            return _fail(f"{exc}\n(The command line has no session to keep such a key in.)", EXIT_KEYRING)
        except VaultLocked as exc:
            return _fail(str(exc), EXIT_KEYRING)
        except (VaultError, KeyImportError, AccountsError) as exc:
            return _fail(str(exc), EXIT_REFUSED)
        except CliError as exc:
            return _fail(str(exc), exc.code)
        except EOFError:  # Ctrl-D at a prompt (getpass, the removal question)
            print(file=sys.stderr)  # the prompt line was left open
            return _fail("cancelled: no answer given", EXIT_REFUSED)

    return run


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _refuse_secret_arguments(args: argparse.Namespace) -> None:
    # Too late to keep it out of shell history, but at least say so rather than use it.
    if getattr(args, "pasted", None):
        raise CliError(
            "the key is not an argument: never put a secret key on the command line (shell history, process "
            "list). Run `nostr-desk keys import` and paste it when asked, or pipe it in with --stdin."
        )
    for value in (getattr(args, "account", None), getattr(args, "npub", None)):
        if isinstance(value, str) and value.strip().lower().startswith(("nsec1", "ncryptsec1")):
            raise CliError(
                "that is a secret key: never put one on the command line (shell history, process list). "
                "Use `nostr-desk keys import`, which asks for it. Consider that key exposed."
            )


def _book(args: argparse.Namespace) -> AccountBook:
    return AccountBook(default_paths(args.data_dir).accounts_file)


def _manager(args: argparse.Namespace) -> KeyManager:
    return KeyManager(KeyVault(service=args.keyring_service), _book(args))


def _read_secret(args: argparse.Namespace, prompt: str) -> str:
    if args.stdin:
        line = sys.stdin.readline()
        if not line:
            raise CliError(f"expected {prompt.rstrip(': ').lower()} on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CliError("no terminal to ask on: pass --stdin to read it from standard input")
    return getpass.getpass(prompt)


def _describe(account: Account, active: Account | None) -> str:
    kind = "watch-only" if account.watch_only else "key in keyring"
    mark = "*" if active and active.pubkey == account.pubkey else " "
    label = f"  {account.label}" if account.label else ""
    return f"{mark} {nip19.encode_npub(account.pubkey)}  ({kind}){label}"


def cmd_generate(args: argparse.Namespace) -> int:
    manager = _manager(args)
    account = manager.generate(args.label)
    print(f"new account {nip19.encode_npub(account.pubkey)}")
    print(f"pubkey {account.pubkey}")
    print("Its secret key is in your keyring only. Make a backup: nostr-desk keys export")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    book = _book(args)
    if args.npub:
        account = KeyManager(KeyVault.session_only(), book).watch(args.npub, args.label)
        print(f"watch-only account {nip19.encode_npub(account.pubkey)}")
        return 0
    manager = _manager(args)  # fail on a missing keyring before asking for the secret
    text = _read_secret(args, "Secret key (nsec, hex or ncryptsec): ")
    password = None
    if text.strip().lower().startswith("ncryptsec1"):
        password = _read_secret(args, "Password: ")
    account = manager.import_key(text, password, args.label)
    kind = "watch-only account" if account.watch_only else "imported account"
    print(f"{kind} {nip19.encode_npub(account.pubkey)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    manager = _manager(args)
    account = find_account(manager.book, args.account) if args.account else manager.active
    if account is None:
        raise CliError("no active account: name one")
    if not 1 <= args.log_n <= 22:
        raise CliError("--log-n must be between 1 and 22 (16 is a good default; 20 takes seconds and 1 GiB)")
    password = _read_secret(args, "Backup password: ")
    if not args.stdin and password != getpass.getpass("Repeat the password: "):
        raise CliError("the passwords differ")
    if not password:
        raise CliError("an empty password would let anyone open the backup")
    backup = manager.export_ncryptsec(account.pubkey, password, log_n=args.log_n)
    if args.output:
        _write_new_private(args.output, backup)
        print(f"wrote the encrypted backup of {nip19.encode_npub(account.pubkey)} to {args.output}")
    else:
        print(backup)
    return 0


def _write_new_private(path_text: str, text: str) -> None:
    from pathlib import Path

    path = Path(path_text)
    if path.exists():
        raise CliError(f"{path} exists: choose a new file")
    write_private_atomic(path, (text + "\n").encode())


def cmd_list(args: argparse.Namespace) -> int:
    book = _book(args)
    accounts, active = book.accounts(), book.active
    if args.json:
        rows = [
            {"pubkey": a.pubkey, "npub": nip19.encode_npub(a.pubkey), "label": a.label, "watch_only": a.watch_only,
             "created": a.created, "active": bool(active and active.pubkey == a.pubkey)}
            for a in accounts
        ]
        print(json.dumps(rows, indent=2))
    elif not accounts:
        print("no accounts yet: nostr-desk keys generate, or nostr-desk keys import")
    else:
        print("\n".join(_describe(a, active) for a in accounts))
    return 0


def cmd_use(args: argparse.Namespace) -> int:
    book = _book(args)
    account = book.use(find_account(book, args.account).pubkey)
    print(f"active account: {nip19.encode_npub(account.pubkey)}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    book = _book(args)
    account = find_account(book, args.account)
    npub = nip19.encode_npub(account.pubkey)
    if not args.yes:
        _confirm_removal(account, npub)
    if account.watch_only:
        book.remove(account.pubkey)
    else:
        KeyManager(KeyVault(service=args.keyring_service), book).remove(account.pubkey)
    print(f"removed {npub}")
    return 0


def _confirm_removal(account: Account, npub: str) -> None:
    if not sys.stdin.isatty():
        raise CliError("removing an account needs confirmation: run it in a terminal, or pass --yes")
    what = "" if account.watch_only else " and DELETE its secret key from the keyring (export a backup first!)"
    answer = input(f"Remove {npub}{what}? Type yes to confirm: ")
    if answer.strip().lower() != "yes":
        raise CliError("not removed")
