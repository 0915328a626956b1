"""Fan-out with a client that never reads: the others still get their patches at once, and the
stuck one is dropped (close 1013) when its bounded queue overflows, with the hub's memory flat.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LiveServer
from hub_helpers import get_json

from live.client import HubClient
from live.contest_file import DEMO_PATH


def ws_frame(text: str) -> bytes:
    """A masked client text frame, written by hand: this client has no library to read for it."""
    data, mask = text.encode(), os.urandom(4)
    n = len(data)
    head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def close_code(stream: bytes) -> int | None:
    """Walk the server's (unmasked) frames and return the code of its close frame, if any."""
    i = 0
    while i + 2 <= len(stream):
        opcode, n = stream[i] & 0x0F, stream[i + 1] & 0x7F
        i += 2
        if n >= 126:
            size = 2 if n == 126 else 8
            if i + size > len(stream):
                return None
            n, i = int.from_bytes(stream[i : i + size], "big"), i + size
        if opcode == 0x8:
            return int.from_bytes(stream[i : i + 2], "big") if n >= 2 and i + 2 <= len(stream) else None
        i += n
    return None


def stuck_socket(port: int) -> socket.socket:
    """A WebSocket that says hello and then never reads: a tiny receive buffer, soon full."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1:{port}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0]
    return s


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def clients(srv: LiveServer) -> int:
    return int(get_json(f"{srv.base}/healthz")["clients"])


def wait_clients(srv: LiveServer, n: int, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while clients(srv) != n:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The 45-case demo final: its public snapshot is about 11 KB, so the stuck pipe fills sooner.
    server = LiveServer(
        f"sqlite:///{tmp_path_factory.mktemp('fanout') / 'final.db'}", contest=DEMO_PATH
    ).start()
    try:
        yield server
    finally:
        server.stop()


async def test_a_client_that_never_reads_delays_no_one_and_is_dropped(srv: LiveServer) -> None:
    toks = await asyncio.to_thread(srv.tokens)
    assert srv.proc is not None
    display = await HubClient(srv.base, "display").connect()
    host = await HubClient(srv.base, "host", toks["host"]).connect()
    noisy = [await HubClient(srv.base, "host", toks["host"]).connect() for _ in range(3)]
    await host.command("stage", case=display.state["run"]["order"][0])
    rss_before = rss_kib(srv.proc.pid)
    base_clients = await asyncio.to_thread(clients, srv)

    stuck = stuck_socket(srv.port)
    # as the host: its snapshot is the largest, so the stuck pipe fills sooner
    rehello = ws_frame(json.dumps({"type": "hello", "role": "host", "token": toks["host"]}))
    stuck.sendall(rehello)
    assert await asyncio.to_thread(wait_clients, srv, base_clients + 1)
    stop = asyncio.Event()

    async def pump() -> None:
        """Ask for snapshot after snapshot (a re-hello each), never reading one: they pile up in
        the kernel's buffers (some MB on loopback) and then in the hub's queue for this client."""
        while not stop.is_set():
            try:
                stuck.sendall(rehello)
            except OSError:
                return
            await asyncio.sleep(0.052)  # just under the 20 frames/s a connection may send

    async def churn(client: HubClient) -> None:
        """Other hosts keep the log moving: every event is a patch for every client."""
        while not stop.is_set():
            await client.command("timer", op="add", seconds=1)
            await asyncio.sleep(0.06)

    tasks = [asyncio.create_task(pump()), *(asyncio.create_task(churn(c)) for c in noisy)]
    latencies: list[float] = []
    began = time.monotonic()
    try:
        dropped_after = None
        while time.monotonic() - began < 90:
            if await asyncio.to_thread(clients, srv) == base_clients:
                dropped_after = time.monotonic() - began
                break
            sent = time.monotonic()
            ack = await host.command("timer", op="add", seconds=1)
            await display.wait_seq(ack["seq"], timeout=30)
            latencies.append(time.monotonic() - sent)
            await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert dropped_after is not None, "the client that never reads was never dropped"
    # Latency was measured while the stuck client was connected and its pipe full.
    assert len(latencies) >= 3
    assert max(latencies) < 3.0, latencies  # generous: the stuck one is held back ~20 s
    assert display.seq == host.seq

    stuck.settimeout(10)
    received = bytearray()
    try:
        # until the close frame (1013 with no reason: 88 02 03 f5) or the end of the stream
        while chunk := stuck.recv(1 << 20):
            received += chunk
            if received[-4:-2] == b"\x88\x02":
                break
    except (TimeoutError, ConnectionResetError):
        pass
    finally:
        stuck.close()
    assert len(received) > 256 * 1024  # it really was behind by more than the buffers hold
    assert close_code(bytes(received)) == 1013
    assert "fell behind" in srv.log_text()
    grown = rss_kib(srv.proc.pid) - rss_before
    assert grown < 64 * 1024, f"the hub grew by {grown} KiB"
    print(
        f"\nstuck client dropped after {dropped_after:.1f} s, {len(received)} bytes unread; "
        f"display latency max {max(latencies) * 1000:.0f} ms over {len(latencies)} patches; "
        f"hub RSS grew {grown} KiB"
    )
    for c in (display, host, *noisy):
        await c.close()
