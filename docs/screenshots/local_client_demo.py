"""A Nostr client for the Local relay screenshot: connects to ws://127.0.0.1:PORT, keeps a REQ open and
publishes ~20 fresh notes a second (every 10th with a broken signature, to be rejected). Arg: PORT."""

import asyncio
import hashlib
import json
import sys
import time

from websockets.asyncio.client import connect

from nostr_desk.protocol.event import EventTemplate, sign
from nostr_desk.protocol.keys import SecretKey


async def main(port: int) -> None:
    key = SecretKey(hashlib.sha256(b"screenshot-client").digest())
    for _ in range(100):
        try:
            ws = await connect(f"ws://127.0.0.1:{port}", origin=None)
            break
        except OSError:
            await asyncio.sleep(0.2)
    else:
        return
    await ws.send(json.dumps(["REQ", "live", {"kinds": [1], "limit": 5}]))

    async def read():
        async for _ in ws:
            pass

    reader = asyncio.create_task(read())
    i = 0
    while True:
        ev = sign(EventTemplate(kind=1, content=f"hello local relay #{i}", tags=[], created_at=int(time.time())),
                  key, aux_rand=hashlib.sha256(b"%d" % i).digest())
        obj = ev.to_obj()
        if i % 10 == 9:
            obj["sig"] = "0" * 128
        await ws.send(json.dumps(["EVENT", obj]))
        i += 1
        await asyncio.sleep(0.05 + (i % 40 == 0) * 1.0)
    await reader


asyncio.run(main(int(sys.argv[1])))
