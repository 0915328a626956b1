"""Reference: Starlette + uvicorn with one asyncio.Queue and writer task per client calling
``send_text``: the hub's fan-out before the benchmarks, kept to compare in the same run."""

import asyncio
import contextlib
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

port, payload_file = int(sys.argv[1]), sys.argv[2]
payload = Path(payload_file).read_text()
queues: set[asyncio.Queue[str]] = set()


async def drain(ws: WebSocket, queue: asyncio.Queue[str]) -> None:
    with contextlib.suppress(Exception):
        while True:
            await ws.send_text(await queue.get())


async def join(ws: WebSocket) -> None:
    await ws.accept()
    queue: asyncio.Queue[str] = asyncio.Queue(256)
    queues.add(queue)
    writer = asyncio.create_task(drain(ws, queue))
    try:
        while (await ws.receive())["type"] != "websocket.disconnect":
            for q in list(queues):  # a message asks for a broadcast to every other client
                if q is not queue:
                    with contextlib.suppress(asyncio.QueueFull):
                        q.put_nowait(payload)
    finally:
        writer.cancel()
        queues.discard(queue)


app = Starlette(routes=[WebSocketRoute("/", join)])
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws_per_message_deflate=False)
