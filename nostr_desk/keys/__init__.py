"""Keys: the vault (secrets in the OS keyring), account metadata, and the in-process signer."""
