"""One module per `nostr-desk` subcommand; each exposes `register(subparsers)`.

Add a command by writing its module and naming it in `COMMANDS` (kept sorted).
"""

COMMANDS = [
    "backfill",
    "compact",
    "decode",
    "export",
    "import_",
    "keys",
    "monitor",
    "post",
    "prune",
    "relay",
    "verify",
]
