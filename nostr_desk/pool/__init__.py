"""The multi-relay pool: resilient reads and durable publishes across many relays, with per-relay health.

Public objects: `RelayPool` (pool.py), `PoolConfig` (config.py), the typed notices (notices.py) and
`PublishReport` (publisher.py). Everything else is an implementation part.
"""
