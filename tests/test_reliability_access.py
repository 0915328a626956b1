"""Access: every role against every action, forged/truncated/other judge's/rotated tokens,
foreign, ``null`` and missing Origin, a score for a locked case, replayed frames. All refused,
the log's seq unchanged, and every refusal logged without the token.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import MINI, LiveServer, live_cmd
from faults import log_errors, write_figures
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from live.client import HubClient, Refused, http_origin, ws_url
from live.final import HOST_ACTIONS

ENTRY = {"innovation": "25", "impact": "24.5", "value": "16", "delivery": "17"}
REFUSALS: dict[str, int] = {}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = tmp_path_factory.mktemp("access") / "access.db"
    srv = LiveServer(f"sqlite:///{db}", contest=MINI).start()
    try:
        yield srv
    finally:
        srv.stop()
        write_figures("access", {"refusals": REFUSALS, "total": sum(REFUSALS.values())})


@pytest.fixture(scope="module")
def tokens(hub: LiveServer) -> dict[str, Any]:
    return hub.tokens()


async def seq_of(hub: LiveServer) -> int:
    async with HubClient(hub.base, "display") as d:
        return d.seq


async def raw_session(
    hub: LiveServer, hello: dict[str, Any], frame: dict[str, Any] | None, origin: str | None = "own"
) -> tuple[list[dict[str, Any]], int | None]:
    """Open a socket, say hello, send one frame; return the frames received and the close code."""
    kw: dict[str, Any] = {"compression": None, "open_timeout": 10}
    if origin is not None:
        kw["origin"] = http_origin(hub.base) if origin == "own" else origin
    got: list[dict[str, Any]] = []
    async with connect(ws_url(hub.base), **kw) as ws:
        await ws.send(json.dumps(hello))
        try:
            if frame is not None:
                first = json.loads(await asyncio.wait_for(ws.recv(), 5))
                got.append(first)
                if first["type"] == "welcome":
                    got.append(json.loads(await ws.recv()))  # the snapshot
                    await ws.send(json.dumps(frame))
            while True:
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 2)))
        except ConnectionClosed:
            return got, ws.close_code
        except TimeoutError:
            return got, None


def hello_of(role: str, tokens: dict[str, Any]) -> dict[str, Any]:
    token = {"judge": tokens["judges"]["j1"], "host": tokens["host"]}.get(role)
    return {"type": "hello", "role": role, **({"token": token} if token else {})}


def frame_for(action: str) -> dict[str, Any]:
    if action == "score":
        return {"type": "score", "id": "acc-score", "case": "a2", "criteria": ENTRY}
    if action == "presence":
        return {"type": "presence", "battery": 0.5, "charging": True}
    args = {
        "next": {},
        "stage": {"case": "a3"},
        "open": {},
        "reveal": {},
        "skip": {"case": "b1", "reason": "r"},
    }.get(action, {"reason": "r"})
    return {"type": "command", "id": f"acc-{action}", "action": action, "args": args}


FORBIDDEN = (
    [(r, a) for r in ("display", "audience") for a in ("score", "presence", *HOST_ACTIONS)]
    + [("judge", a) for a in HOST_ACTIONS]
    + [("host", "score"), ("host", "presence")]
)


@pytest.fixture(scope="module")
def staged(hub: LiveServer, tokens: dict[str, Any]) -> int:
    """a1 revealed (locked), a2 on stage with scoring open; returns the seq."""

    async def run() -> int:
        async with HubClient(hub.base, "host", tokens["host"]) as host:
            await host.command("next")
            await host.command("open")
            for j, t in tokens["judges"].items():
                async with HubClient(hub.base, "judge", t) as judge:
                    await judge.score("a1", ENTRY, id=f"setup-{j}")
            await host.command("close")
            await host.command("reveal")
            await host.command("next")
            await host.command("open")
            return host.seq

    return asyncio.run(run())


@pytest.mark.parametrize(("role", "action"), FORBIDDEN)
async def test_role_action_matrix_refused(
    hub: LiveServer, tokens: dict[str, Any], staged: int, role: str, action: str
) -> None:
    before = await seq_of(hub)
    got, code = await raw_session(hub, hello_of(role, tokens), frame_for(action))
    assert code == 4403, (got, code)
    assert got[-1]["type"] == "error"
    assert got[-1]["code"] == "forbidden"
    assert await seq_of(hub) == before
    REFUSALS["role x action"] = REFUSALS.get("role x action", 0) + 1


BAD_HELLOS = {
    "forged judge token": lambda t: {"role": "judge", "token": "ABCDE-FGHJK"},
    "truncated judge token": lambda t: {"role": "judge", "token": t["judges"]["j1"][:-1]},
    "judge token padded": lambda t: {"role": "judge", "token": t["judges"]["j1"] + "X"},
    "missing judge token": lambda t: {"role": "judge"},
    "null token": lambda t: {"role": "judge", "token": None},
    "numeric token": lambda t: {"role": "judge", "token": 12345},
    "forged host token": lambda t: {"role": "host", "token": t["host"][:-2] + "xx"},
    "truncated host token": lambda t: {"role": "host", "token": t["host"][:10]},
    "host token as judge": lambda t: {"role": "judge", "token": t["host"]},
    "judge token as host": lambda t: {"role": "host", "token": t["judges"]["j1"]},
    "missing host token": lambda t: {"role": "host"},
    "unknown role": lambda t: {"role": "admin", "token": t["host"]},
    "no role": lambda t: {"token": t["host"]},
    "bad since": lambda t: {"role": "display", "since": -1},
}


@pytest.mark.parametrize("name", list(BAD_HELLOS))
async def test_bad_hello_refused(hub: LiveServer, tokens: dict[str, Any], staged: int, name: str) -> None:
    before = await seq_of(hub)
    hello = {"type": "hello", **BAD_HELLOS[name](tokens)}
    got, code = await raw_session(hub, hello, None)
    assert code in (4401, 4400), (got, code)
    assert got[0]["type"] == "error"
    assert await seq_of(hub) == before
    REFUSALS["bad hello"] = REFUSALS.get("bad hello", 0) + 1


async def test_other_judges_token_on_rehello(hub: LiveServer, tokens: dict[str, Any], staged: int) -> None:
    """A j1 connection cannot turn into j2 (or host) by sending another hello."""
    for hello in (
        {"type": "hello", "role": "judge", "token": tokens["judges"]["j2"]},
        {"type": "hello", "role": "host", "token": tokens["host"]},
    ):
        got, code = await raw_session(hub, hello_of("judge", tokens), hello)
        assert code in (4401, 4400), got
        REFUSALS["rehello as someone else"] = REFUSALS.get("rehello as someone else", 0) + 1


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", None, "http://127.0.0.1:1", "https://127.0.0.1"]
)
async def test_foreign_null_and_missing_origin(
    hub: LiveServer, tokens: dict[str, Any], origin: str | None
) -> None:
    with pytest.raises(InvalidStatus) as err:
        await raw_session(hub, hello_of("host", tokens), None, origin=origin)
    assert err.value.response.status_code == 403
    REFUSALS["origin"] = REFUSALS.get("origin", 0) + 1


async def test_locked_case_and_replayed_frames(hub: LiveServer, tokens: dict[str, Any], staged: int) -> None:
    async with HubClient(hub.base, "judge", tokens["judges"]["j1"]) as j1:
        before = j1.seq
        with pytest.raises(Refused) as err:  # a1 is revealed: locked
            await j1.score("a1", ENTRY, id="late-a1")
        assert err.value.code == "scoring_closed"
        with pytest.raises(Refused) as err:
            await j1.score("b1", ENTRY, id="early-b1")
        assert err.value.code == "not_open"
        assert j1.seq == before
        # The same frame again (same id, same body): the same ack, nothing new in the log.
        first = await j1.score("a2", ENTRY, id="a2-once")
        again = await j1.score("a2", ENTRY, id="a2-once")
        assert again == first
        after = j1.seq
        with pytest.raises(Refused) as err:  # same id, other body
            await j1.score("a2", {**ENTRY, "value": "20"}, id="a2-once")
        assert err.value.code == "id_reused"
    async with HubClient(hub.base, "judge", tokens["judges"]["j1"]) as j1:  # after reconnect
        assert await j1.score("a2", ENTRY, id="a2-once") == first
        assert j1.seq == after
        assert j1.state["me"]["scores"]["a2"]["values"] == ENTRY
    async with HubClient(hub.base, "host", tokens["host"]) as host:
        ack = await host.command("close", id="close-a2")
        assert await host.command("close", id="close-a2") == ack  # a replayed command
        assert host.seq == ack["seq"]
        # The setup's scores replayed by another judge's connection are that judge's own
        # submissions, keyed by actor: j2 resending j1's id is a new (refused, locked) score.
    async with HubClient(hub.base, "judge", tokens["judges"]["j2"]) as j2:
        with pytest.raises(Refused) as err:
            await j2.score("a2", ENTRY, id="a2-once")
        assert err.value.code == "scoring_closed"
    REFUSALS["locked or replayed"] = 5


async def test_rotated_token_refused(hub: LiveServer, tokens: dict[str, Any], staged: int) -> None:
    old = tokens["judges"]["j3"]
    async with HubClient(hub.base, "judge", old) as still_open:
        out = await asyncio.to_thread(
            subprocess.run,
            live_cmd("tokens", "--rotate", "j3", "--json", "--store", hub.store),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        new = json.loads(out.stdout)["judges"]["j3"]
        assert new != old
        before = await seq_of(hub)
        _got, code = await raw_session(hub, {"type": "hello", "role": "judge", "token": old}, None)
        assert code == 4401
        # A connection opened before the rotation cannot re-hello with the old token either.
        with pytest.raises((Refused, ConnectionError, ConnectionClosed)):
            await still_open.request({"type": "hello", "role": "judge", "token": old}, timeout=5)
        assert await seq_of(hub) == before
    async with HubClient(hub.base, "judge", new) as fresh:
        assert fresh.welcome["judge"]["id"] == "j3"
    REFUSALS["rotated token"] = 2
    tokens["judges"]["j3"] = new


def test_every_refusal_logged_without_a_token(hub: LiveServer, tokens: dict[str, Any]) -> None:
    text = hub.log_text()
    secrets = [tokens["host"], *tokens["judges"].values(), "ABCDE-FGHJK", "ABCDEFGHJK"]
    for secret in secrets:
        assert secret not in text
        assert secret.replace("-", "") not in text
    assert text.count("refused hello") >= len(BAD_HELLOS)
    assert text.count(": forbidden") >= len(FORBIDDEN)
    assert text.count("refused upgrade from origin") >= 5
    assert "scoring_closed" in text
    assert "id_reused" in text
    assert not log_errors(text)
