"""Keys: the vault (secrets in the OS keyring), account metadata, the account manager, and the signer.

- `vault.KeyVault`: secrets only, in a *secure* keyring backend (service "nostr-desk", username = the
  account's hex pubkey, secret = 64 hex characters); anything else is refused with
  `KeyringUnavailable`; `KeyVault.session_only()` keeps keys in memory for one run.
- `accounts.AccountBook`: pubkey, label, watch-only flag, creation time, NIP-49 key-security byte and
  the active account, in an atomic 0600 JSON file. Never a secret.
- `manager.KeyManager`: generate, import (nsec, hex, ncryptsec, npub = watch-only), export an
  ncryptsec backup, use, remove, and `signer()`; what the CLI and the UI call.
- `signer.Signer`: signs events and NIP-42 auth events and does NIP-44, in process.

Decisions: the key-security byte written into a backup is tracked per account (0 once the key was
imported from plain text, 1 when generated here, carried over from an imported ncryptsec). Python
cannot wipe strings from memory, so the guarantee is about *where the secret goes* (keyring only),
not about memory hygiene.
"""
