"""A rotated token ends what it opened: the connection that signed in with the old token is
closed at its next write, and the old token no longer signs in."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from conftest import LiveServer, live_cmd
from hub_helpers import head_seq

from live.client import HubClient, Refused

SCORE = {"innovation": "20", "impact": "20", "value": "15", "delivery": "15"}


def rotate(server: LiveServer, who: str) -> None:
    subprocess.run(
        live_cmd("tokens", "--store", server.store, "--rotate", who),
        check=True,
        capture_output=True,
        timeout=30,
        env=server.env,
    )


async def test_rotating_a_judge_token_closes_the_open_connection(server: LiveServer) -> None:
    toks = server.tokens()
    async with HubClient(server.base, "host", toks["host"]) as host:
        await host.command("next")
        await host.command("open")
        judge = await HubClient(server.base, "judge", toks["judges"]["j1"]).connect()
        await judge.score("a1", SCORE)  # the old token works until it is replaced
        rotate(server, "j1")
        await asyncio.sleep(1.2)  # tokens are re-read at most once a second on the write path
        before = head_seq(server)
        with pytest.raises(ConnectionError):  # closed before any ack
            await judge.score(
                "a1",
                {"innovation": "30", "impact": "30", "value": "20", "delivery": "20"},
                id="after-rotation",
            )
        assert judge.ws is not None
        await judge.ws.wait_closed()
        assert judge.ws.close_code == 4401
        assert '"bad_token"' in judge.frames[-1]
        await judge.close()
        assert head_seq(server) == before  # nothing recorded
        with pytest.raises(Refused) as refused:
            await HubClient(server.base, "judge", toks["judges"]["j1"]).connect()
        assert refused.value.code == "bad_token"
        fresh = server.tokens()["judges"]["j1"]
        assert fresh != toks["judges"]["j1"]
        async with HubClient(server.base, "judge", fresh) as again:
            await again.score("a1", SCORE)
        assert toks["judges"]["j1"] not in server.log_text()
        assert fresh not in server.log_text()
