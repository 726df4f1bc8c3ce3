"""A connection's bounded outbound queue: what the relay has to send and the client has not read.

Live fan-out uses `offer` and never waits: when a client cannot keep up, the offer is refused and
the relay ends that subscription (CLOSED "error: ...") instead of buffering without bound. Replies
to the client's own requests (OK, EOSE, stored events) use `put`, which waits for room, so a client
that floods requests but never reads simply stops being read (TCP back-pressure). Control frames may
use `force`, which goes a fixed margin past the limits; past that margin the client is dropped.

Each frame may carry the subscription it belongs to (`sub`), so the writer can drop frames of a
subscription the client replaced or closed while they were still queued.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

Frame = str | bytes
Item = tuple[Frame, Any]  # (frame, the LiveSub it belongs to, or None)

FORCE_MARGIN = 64  # control frames (CLOSED, NOTICE) allowed past the limit before giving up


class Outbox:
    def __init__(self, max_frames: int, max_bytes: int) -> None:
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self._frames: deque[Item] = deque()
        self._bytes = 0
        self._readable = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.closed = False

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def has_room(self, size: int = 0) -> bool:
        return len(self._frames) < self.max_frames and self._bytes + size <= self.max_bytes

    def offer(self, frame: Frame, sub: Any = None) -> bool:
        """Queue without waiting; False when full (the caller decides what a slow client deserves)."""
        if self.closed or not self.has_room(len(frame)):
            return False
        self._push(frame, sub)
        return True

    def force(self, frame: Frame, sub: Any = None) -> bool:
        """Queue a control frame a little past the limits; False when even the margin is used up."""
        if self.closed or len(self._frames) >= self.max_frames + FORCE_MARGIN:
            return False
        self._push(frame, sub)
        return True

    async def put(self, frame: Frame, sub: Any = None) -> bool:
        """Queue, waiting for room first. False if the outbox was closed meanwhile."""
        while not self.closed and not self.has_room(len(frame)) and self._frames:
            self._room.clear()
            await self._room.wait()
        if self.closed:
            return False
        self._push(frame, sub)
        return True

    async def put_many(self, frames: list[Frame], sub: Any = None) -> bool:
        """Queue a page of frames once there is room for one; the page may overshoot the limits by
        its own size (bounded by the caller's page length)."""
        while not self.closed and not self.has_room() and self._frames:
            self._room.clear()
            await self._room.wait()
        if self.closed:
            return False
        for frame in frames:
            self._push(frame, sub)
        return True

    async def get(self) -> Frame:
        while not self._frames:
            if self.closed:
                raise EOFError("outbox closed")
            self._readable.clear()
            await self._readable.wait()
        frame, _ = self._frames.popleft()
        self._bytes -= len(frame)
        if self.has_room():
            self._room.set()
        return frame

    async def get_many(self, limit: int) -> list[Item]:
        """Everything queued (at most `limit` (frame, sub) items), waiting until there is at least one."""
        while not self._frames:
            if self.closed:
                raise EOFError("outbox closed")
            self._readable.clear()
            await self._readable.wait()
        out = []
        while self._frames and len(out) < limit:
            item = self._frames.popleft()
            self._bytes -= len(item[0])
            out.append(item)
        if self.has_room():
            self._room.set()
        return out

    def close(self) -> None:
        self.closed = True
        self._frames.clear()
        self._bytes = 0
        self._readable.set()
        self._room.set()

    def _push(self, frame: Frame, sub: Any) -> None:
        self._frames.append((frame, sub))
        self._bytes += len(frame)
        self._readable.set()
