"""`live serve` runs the WebSocket protocol that the direct fan-out writes to: every client of a
served hub is on the direct path (a newer or older uvicorn that changed it would show here), and
the server says so in its log."""

from __future__ import annotations

from conftest import LiveServer
from hub_helpers import get_json

from live.client import HubClient


async def test_served_clients_use_the_direct_fan_out(server: LiveServer) -> None:
    async with HubClient(server.base, "display"), HubClient(server.base, "audience"):
        health = get_json(f"{server.base}/healthz")
        assert health["clients"] == 2
        assert health["direct"] == 2
    log = server.log_text()
    assert log.count("fan-out: direct writes to uvicorn's sans-I/O transport") == 1, log[-2000:]
    assert "queued fallback" not in log
