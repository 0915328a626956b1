"""Every refusal of protocol v1 on a real `live serve`: close codes 4400/4401/4403/4408/4429/1009,
error frames that keep the connection, the Origin rule, and exactly-once scores and commands.
Each refusal is also checked to have recorded nothing (the log's seq does not move).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from conftest import LiveServer
from hub_helpers import closed_with, head_seq, hello, raw, read_log
from websockets.exceptions import InvalidStatus

from live.client import HubClient, Refused

VENUE = "http://venue.example"
SCORE = {"innovation": "20", "impact": "20", "value": "15", "delivery": "15"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(
        f"sqlite:///{tmp_path_factory.mktemp('refusals') / 'final.db'}", extra=("--allow-origin", VENUE)
    ).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def toks(srv: LiveServer) -> dict[str, Any]:
    return srv.tokens()


@pytest.fixture
async def seq_kept(srv: LiveServer) -> AsyncIterator[None]:
    """The test's refusals record nothing."""
    before = await asyncio.to_thread(head_seq, srv)
    yield
    assert await asyncio.to_thread(head_seq, srv) == before


async def refused_with(
    srv: LiveServer,
    frames: list[str | bytes],
    close: int,
    code: str | None,
    role: str | None = None,
    token: str | None = None,
) -> list[dict[str, Any]]:
    ws = await raw(srv)
    if role:
        await hello(ws, role, token)
    for frame in frames:
        await ws.send(frame)
    got, seen = await closed_with(ws)
    assert got == close, (got, seen)
    if code:
        assert seen, "no error frame before the close"
        assert seen[-1]["type"] == "error"
        assert seen[-1]["code"] == code
        assert seen[-1]["message"]
    return seen


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        (b"\x01\x02binary", "bad_frame"),
        ('["hello"]', "bad_frame"),
        ('"hello"', "bad_frame"),
        ('{"role": "display"}', "bad_frame"),
        ('{"type": "ping"}', "hello_first"),
        ('{"type": "score", "id": "s1", "case": "a1", "total": "80"}', "hello_first"),
        ('{"type": "hello", "role": "root"}', "bad_role"),
        ('{"type": "hello", "role": "display", "since": "yesterday"}', "bad_frame"),
        ('{"type": "hello", "role": "display", "since": -1}', "bad_frame"),
        ('{"type": "hello", "role": "display", "since": NaN}', "bad_json"),
    ],
)
async def test_bad_first_frame_closes_4400(
    srv: LiveServer, seq_kept: None, frame: str | bytes, code: str
) -> None:
    await refused_with(srv, [frame], 4400, code)


@pytest.mark.parametrize("frame", ["{not json", b"\x00", "[]", '{"type": 7}'])
async def test_bad_frame_after_hello_closes_4400(srv: LiveServer, seq_kept: None, frame: str | bytes) -> None:
    await refused_with(srv, [frame], 4400, None, role="display")


async def test_bad_or_missing_token_closes_4401(
    srv: LiveServer, toks: dict[str, Any], seq_kept: None
) -> None:
    j1 = toks["judges"]["j1"]
    for role, token in [
        ("host", "wrong"),
        ("host", None),
        ("host", ""),
        ("host", j1),
        ("host", 12345),
        ("judge", None),
        ("judge", "AAAAA-AAAAA"),
        ("judge", toks["host"]),
        ("judge", ["x"]),
    ]:
        frame: dict[str, Any] = {"type": "hello", "role": role}
        if token is not None:
            frame["token"] = token
        await refused_with(srv, [json.dumps(frame)], 4401, "bad_token")
    # a judge's typed code forgives case and dashes
    async with HubClient(srv.base, "judge", j1.lower().replace("-", " ")) as c:
        assert c.welcome["judge"]["id"] == "j1"
    # a re-hello on a live connection must carry the same identity
    again = json.dumps({"type": "hello", "role": "judge", "token": toks["judges"]["j2"]})
    await refused_with(srv, [again], 4401, "bad_token", role="judge", token=j1)
    role_change = json.dumps({"type": "hello", "role": "host", "token": toks["host"]})
    await refused_with(srv, [role_change], 4400, "bad_role", role="display")


async def test_role_not_allowed_closes_4403(srv: LiveServer, toks: dict[str, Any], seq_kept: None) -> None:
    score = json.dumps({"type": "score", "id": "x1", "case": "a1", "criteria": SCORE})
    command = json.dumps({"type": "command", "id": "x2", "action": "stage", "args": {"case": "a1"}})
    presence = json.dumps({"type": "presence", "battery": 0.5})
    await refused_with(srv, [score], 4403, "forbidden", role="audience")
    await refused_with(srv, [score], 4403, "forbidden", role="display")
    await refused_with(srv, [score], 4403, "forbidden", role="host", token=toks["host"])
    await refused_with(srv, [command], 4403, "forbidden", role="display")
    await refused_with(srv, [command], 4403, "forbidden", role="audience")
    await refused_with(srv, [command], 4403, "forbidden", role="judge", token=toks["judges"]["j1"])
    await refused_with(srv, [presence], 4403, "forbidden", role="display")


async def test_no_hello_in_time_closes_4408(srv: LiveServer) -> None:
    ws = await raw(srv)
    began = time.monotonic()
    code, seen = await closed_with(ws, timeout=30)
    waited = time.monotonic() - began
    assert code == 4408
    assert seen[-1]["code"] == "hello_timeout"
    assert 4 < waited < 20  # HELLO_TIMEOUT is 5 s


async def test_flood_closes_4429(srv: LiveServer) -> None:
    ws = await raw(srv)
    await hello(ws, "display")
    for _ in range(200):
        await ws.send('{"type": "ping"}')
    code, seen = await closed_with(ws)
    assert code == 4429
    assert seen[-1]["code"] == "too_many_frames"
    pongs = [f for f in seen if f["type"] == "pong"]
    assert len(pongs) < 200  # the flood is cut off (pongs still queued are dropped with it)
    # a moderate pace is never cut off
    async with HubClient(srv.base, "display") as calm:
        assert calm.ws is not None
        for _ in range(30):
            await calm.ws.send('{"type": "ping"}')
            await asyncio.sleep(0.06)
        await calm.wait_for(lambda _: sum('"pong"' in f for f in calm.frames) == 30)


async def test_frame_over_64_kib_closes_1009(srv: LiveServer, toks: dict[str, Any], seq_kept: None) -> None:
    big = json.dumps(
        {"type": "score", "id": "big", "case": "a1", "criteria": SCORE, "pad": "x" * (65 * 1024)}
    )
    await refused_with(srv, [big], 1009, None, role="judge", token=toks["judges"]["j1"])
    # just under the limit is read, and answered with an error that keeps the connection
    ws = await raw(srv)
    await hello(ws, "display")
    await ws.send(json.dumps({"type": "chatter", "pad": "x" * (60 * 1024)}))
    answer = json.loads(await ws.recv())
    assert answer["code"] == "unknown_type"
    await ws.close()


async def test_error_frames_keep_the_connection(
    srv: LiveServer, toks: dict[str, Any], seq_kept: None
) -> None:
    async with (
        HubClient(srv.base, "judge", toks["judges"]["j1"]) as judge,
        HubClient(srv.base, "host", toks["host"]) as host,
    ):
        assert judge.ws is not None
        assert host.ws is not None
        await judge.ws.send(json.dumps({"type": "bogus", "id": "b1"}))
        await judge.ws.send(json.dumps({"type": "score", "case": "a1", "criteria": SCORE}))
        await judge.ws.send(json.dumps({"type": "score", "id": "", "case": "a1", "total": "1"}))
        await judge.ws.send(json.dumps({"type": "score", "id": "i" * 65, "case": "a1"}))
        await judge.ws.send(json.dumps({"type": "presence", "battery": 2}))
        await judge.ws.send('{"type": "score", "id": "inf", "case": "a1", "total": 1e999}')
        await host.ws.send(json.dumps({"type": "command", "id": "c1", "action": "open", "args": ["a1"]}))
        await host.ws.send(json.dumps({"type": "command", "id": "c2", "action": 7}))
        await judge.wait_for(lambda _: sum('"error"' in f for f in judge.frames) >= 6)
        await host.wait_for(lambda _: sum('"error"' in f for f in host.frames) >= 2)
        codes = [json.loads(f)["code"] for f in judge.frames if '"error"' in f]
        assert codes == ["unknown_type", "bad_id", "bad_id", "bad_id", "bad_frame", "bad_value"]
        assert [json.loads(f)["code"] for f in host.frames if '"error"' in f] == ["bad_frame", "bad_frame"]
        assert json.loads(next(f for f in judge.frames if "bad_value" in f))["id"] == "inf"
        await judge.ws.send('{"type": "ping"}')
        await judge.wait_for(lambda _: any('"pong"' in f for f in judge.frames))


async def test_origin_rule(srv: LiveServer) -> None:
    for origin in ("http://evil.example", None, "null", f"http://127.0.0.1:{srv.port + 1}"):
        with pytest.raises(InvalidStatus) as info:
            await raw(srv, origin=origin)
        assert info.value.response.status_code == 403
    ws = await raw(srv, origin=VENUE)  # allowed by --allow-origin
    welcome, snapshot = await hello(ws, "display")
    assert welcome["type"] == "welcome"
    assert snapshot["type"] == "snapshot"
    await ws.close()
    assert "evil.example" in srv.log_text()  # the refusal is logged (an origin is no secret)


async def test_same_frame_three_times_and_across_reconnect_is_one_event(
    srv: LiveServer, toks: dict[str, Any]
) -> None:
    host = await HubClient(srv.base, "host", toks["host"]).connect()
    try:
        if host.state["run"]["current"] != "a1":
            await host.command("stage", case="a1")
            await host.command("open")
        # a host command, repeated: one event
        first = await host.command("timer", id="add-5", op="add", seconds=5)
        duration = host.state["stage"]["timer"]["duration_ms"]
        for _ in range(2):
            assert await host.command("timer", id="add-5", op="add", seconds=5) == first
        with pytest.raises(Refused) as info:
            await host.command("timer", id="add-5", op="add", seconds=6)
        assert info.value.code == "id_reused"
        assert info.value.frame["id"] == "add-5"

        judge = await HubClient(srv.base, "judge", toks["judges"]["j1"]).connect()
        acks = [await judge.score("a1", SCORE, id="j1-a1-once") for _ in range(3)]
        assert acks[0] == acks[1] == acks[2]
        seq = await asyncio.to_thread(head_seq, srv)
        assert seq == acks[0]["seq"]
        await judge.close()
        judge = await HubClient(srv.base, "judge", toks["judges"]["j1"]).connect(since=seq)
        assert judge.welcome["since"] == seq
        assert await judge.score("a1", SCORE, id="j1-a1-once") == acks[0]
        with pytest.raises(Refused) as info:
            await judge.score("a1", {**SCORE, "delivery": "16"}, id="j1-a1-once")
        assert info.value.code == "id_reused"
        assert await asyncio.to_thread(head_seq, srv) == seq
        # ids belong to their sender: another judge may use the same id for its own score
        other = await HubClient(srv.base, "judge", toks["judges"]["j2"]).connect()
        assert (await other.score("a1", SCORE, id="j1-a1-once"))["seq"] == seq + 1
        await other.close()
        await judge.close()
        await host.wait_seq(seq + 1)
        assert host.state["stage"]["timer"]["duration_ms"] == duration
        assert set(host.state["scores"]["entries"]) == {"j1", "j2"}
    finally:
        await host.close()
    log = await read_log(srv.store)
    assert [e["actor"] for e in log if e["cid"] == "j1-a1-once"] == ["j1", "j2"]
    assert sum(e["cid"] == "add-5" for e in log) == 1
