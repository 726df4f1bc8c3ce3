"""`python -m nostr_desk` and the `nostr-desk` console script."""

from nostr_desk.app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
