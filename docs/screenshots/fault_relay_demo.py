"""A misbehaving relay for the screenshots: serves real events, every third one altered so its id is
new but its signature no longer matches (a bad signature the pool must catch), sends a NOTICE about
rate limits on connect, and answers the first publishes with rate-limited:. Args: PORT JSONL."""

import asyncio
import sys

from nostr_desk.protocol.event import Event
from tests.pool.fault_relay import FaultRelay, Faults


def forged(event: Event) -> Event:
    changed = Event(event.id, event.pubkey, event.created_at, event.kind, event.tags, event.content + " ", event.sig)
    return Event(changed.compute_id(), event.pubkey, event.created_at, event.kind, event.tags, changed.content,
                 event.sig)


async def main(port: int, path: str) -> None:
    relay = FaultRelay(Faults(ok_prefix="rate-limited: slow down", ok_prefix_times=3,
                              notice_on_connect="rate limit: 10 events per minute"), port=port)
    await relay.start()
    with open(path, "rb") as src:
        for i, line in enumerate(src):
            event = Event.from_json(line)
            relay.add(forged(event) if i % 3 == 0 else event)
    await asyncio.Event().wait()


asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
