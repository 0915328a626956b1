"""Peer: python-socketio under uvicorn, what a Python developer would pick, doing the same broadcast."""

import sys
from pathlib import Path

import socketio
import uvicorn

port, payload_file = int(sys.argv[1]), sys.argv[2]
payload = Path(payload_file).read_text()
sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"], cors_allowed_origins="*")


@sio.on("go")
async def go(sid: str) -> None:
    await sio.emit("m", payload, skip_sid=sid)


uvicorn.run(
    socketio.ASGIApp(sio), host="127.0.0.1", port=port, log_level="warning", ws_per_message_deflate=False
)
