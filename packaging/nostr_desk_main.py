"""The PyInstaller entry script: the same `main()` as the `nostr-desk` console command."""

import sys

from nostr_desk.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
