"""nostr-desk: a desktop relay manager and personal Nostr client."""

__version__ = "0.1.0"
