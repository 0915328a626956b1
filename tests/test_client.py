"""The protocol client (live/client.py) against a real `live serve`: hello, patches, answers, resync."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer
from core_helpers import HOST_ONLY
from hub_helpers import get_json, head_seq
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from live.client import HubClient, Refused, http_origin, ws_url

PUBLIC = {"contest", "run", "stage", "progress", "result", "screen", "awards", "board/a", "board/b"}
CRITERIA = {"innovation": "24", "impact": "24", "value": "16", "delivery": "16"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A hub that only tests which change nothing share."""
    server = LiveServer(f"sqlite:///{tmp_path_factory.mktemp('client') / 'final.db'}").start()
    try:
        yield server
    finally:
        server.stop()


async def view(srv: LiveServer, name: str = "display") -> dict[str, Any]:
    return await asyncio.to_thread(get_json, f"{srv.base}/api/view/{name}")


async def seq_of(srv: LiveServer) -> int:
    return await asyncio.to_thread(head_seq, srv)


class Clients:
    """Every client a test opens, closed at the end whatever happened."""

    def __init__(self, srv: LiveServer) -> None:
        self.srv = srv
        self.tokens = srv.tokens()
        self.opened: list[HubClient] = []

    def new(self, role: str, judge: str | None = None, **kw: Any) -> HubClient:
        token = self.tokens["host"] if role == "host" else self.tokens["judges"][judge] if judge else None
        client = HubClient(self.srv.base, role, token, **kw)
        self.opened.append(client)
        return client

    async def open(self, role: str, judge: str | None = None, **kw: Any) -> HubClient:
        return await self.new(role, judge, **kw).connect()


@pytest.fixture
async def clients(server: LiveServer) -> AsyncIterator[Clients]:
    c = Clients(server)
    try:
        yield c
    finally:
        for client in c.opened:
            await client.close()


@pytest.fixture
async def shared(srv: LiveServer) -> AsyncIterator[Clients]:
    c = Clients(srv)
    try:
        yield c
    finally:
        for client in c.opened:
            await client.close()


async def ended(client: HubClient, timeout: float = 15) -> None:
    """Wait until the client's reader has stopped, and check that it stopped quietly."""
    with pytest.raises(ConnectionError):
        await client.wait_for(lambda _: False, timeout)
    assert client._reader is not None
    assert client._reader.done()
    assert client._reader.exception() is None


# --- the URL helpers ---


@pytest.mark.parametrize(
    ("base", "ws", "origin"),
    [
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws", "http://127.0.0.1:8000"),
        ("http://hub.local:8000/display/?x=1#top", "ws://hub.local:8000/ws", "http://hub.local:8000"),
        ("https://final.example.org", "wss://final.example.org/ws", "https://final.example.org"),
        (
            "https://final.example.org:8443/console",
            "wss://final.example.org:8443/ws",
            "https://final.example.org:8443",
        ),
        ("ws://127.0.0.1:9/ws", "ws://127.0.0.1:9/ws", "http://127.0.0.1:9"),
        ("wss://final.example.org/ws", "wss://final.example.org/ws", "https://final.example.org"),
        ("HTTPS://Final.example.org", "wss://Final.example.org/ws", "https://Final.example.org"),
        ("http://[::1]:8000/", "ws://[::1]:8000/ws", "http://[::1]:8000"),
    ],
)
def test_ws_url_and_http_origin(base: str, ws: str, origin: str) -> None:
    assert ws_url(base) == ws
    assert http_origin(base) == origin
    # Either helper's output is a valid base for the other.
    assert ws_url(origin) == ws
    assert http_origin(ws) == origin


def test_refused_carries_the_error_frame() -> None:
    frame = {"type": "error", "id": "x-1", "code": "not_open", "message": "scoring is not open"}
    exc = Refused(frame)
    assert exc.code == "not_open"
    assert exc.frame is frame
    assert str(exc) == "not_open: scoring is not open"


def test_ids_are_unique_and_fit_the_protocol() -> None:
    a, b = HubClient("http://h", "display"), HubClient("http://h", "display")
    ids = [a.new_id() for _ in range(1000)] + [b.new_id() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    assert all(1 <= len(i) <= 64 for i in ids)


async def test_a_client_never_connected_closes_and_waits_quietly() -> None:
    c = HubClient("http://127.0.0.1:9", "display")
    await c.close()
    with pytest.raises(ConnectionError):
        await c.wait_for(lambda _: False, timeout=1)


# --- hello, welcome, snapshot ---


@pytest.mark.parametrize(
    ("role", "judge", "sections"),
    [
        ("display", None, PUBLIC),
        ("audience", None, PUBLIC),
        (
            "host",
            None,
            PUBLIC | HOST_ONLY,
        ),
        ("judge", "j3", {"contest", "run", "stage", "progress", "me"}),
    ],
)
async def test_hello_welcome_snapshot(
    srv: LiveServer, shared: Clients, role: str, judge: str | None, sections: set[str]
) -> None:
    health = await asyncio.to_thread(get_json, f"{srv.base}/healthz")
    c = await shared.open(role, judge)
    w = c.welcome
    assert w["type"] == "welcome"
    assert w["role"] == role
    assert w["protocol"] == 1
    assert w["since"] is None
    assert isinstance(w["server_time"], int)
    assert c.epoch == w["epoch"] == health["epoch"]
    assert c.seq == w["seq"] == health["seq"]
    assert set(c.state) == sections
    assert c.state["contest"]["title"] == "测试决赛"
    if judge:
        assert w["judge"] == {"id": "j3", "name": "评委三"}
        assert c.state["me"]["scores"] == {}
    else:
        assert "judge" not in w
    if role in ("display", "audience"):
        assert c.state == (await view(srv, role))["state"]


async def test_hello_with_since_is_echoed_and_answered_with_the_whole_view(
    srv: LiveServer, shared: Clients
) -> None:
    c = await shared.new("display").connect(since=0)
    assert c.welcome["since"] == 0
    body = await view(srv)
    assert c.seq == body["seq"]
    assert c.state == body["state"]


async def test_async_with_connects_and_closes(srv: LiveServer) -> None:
    async with HubClient(srv.base, "audience") as c:
        assert c.ws is not None
        assert c.ws.state is State.OPEN
        assert set(c.state) == PUBLIC
    assert c.ws.state is State.CLOSED
    await ended(c, timeout=1)


@pytest.mark.parametrize(
    ("role", "token", "code", "close"),
    [
        ("host", None, "bad_token", 4401),
        ("host", "wrong", "bad_token", 4401),
        ("host", "judge:j1", "bad_token", 4401),  # a judge's token does not open the console
        ("judge", None, "bad_token", 4401),
        ("judge", "wrong", "bad_token", 4401),
        ("judge", "host", "bad_token", 4401),  # nor the host's a judge pad
        ("referee", None, "bad_role", 4400),
    ],
)
async def test_a_refused_hello_raises_with_its_code(
    srv: LiveServer, shared: Clients, role: str, token: str | None, code: str, close: int
) -> None:
    if token == "host":
        token = shared.tokens["host"]
    elif token and token.startswith("judge:"):
        token = shared.tokens["judges"][token.removeprefix("judge:")]
    c = HubClient(srv.base, role, token)
    shared.opened.append(c)
    with pytest.raises(Refused) as info:
        await c.connect()
    assert info.value.code == code
    assert info.value.frame["type"] == "error"
    assert info.value.frame["message"]
    assert c.welcome == {}
    assert c.state == {}
    assert c.ws is not None
    await asyncio.wait_for(c.ws.wait_closed(), 10)
    assert c.ws.close_code == close


# --- patches folded into the view ---


async def test_patches_fold_into_the_same_view_a_fresh_snapshot_gives(
    server: LiveServer, clients: Clients
) -> None:
    seen: dict[str, list[dict[str, Any]]] = {"display": [], "audience": [], "judge": []}
    display = await clients.open("display", on_frame=seen["display"].append)
    audience = await clients.open("audience", on_frame=seen["audience"].append)
    judge = await clients.open("judge", "j1", on_frame=seen["judge"].append)
    host = await clients.open("host")
    watchers = {"display": display, "audience": audience, "judge": judge}
    contest = display.state["contest"]
    start = display.seq

    async def same_as_fresh() -> None:
        seq = await seq_of(server)
        for role, c in watchers.items():
            await c.wait_seq(seq)
            assert c.seq == seq
            fresh = await clients.open(role, "j1" if role == "judge" else None)
            assert fresh.seq == seq
            assert c.state == fresh.state, role
            await fresh.close()
        assert display.state == (await view(server))["state"]

    steps: list[tuple[HubClient, str, dict[str, Any]]] = [
        (host, "stage", {"case": "a1"}),
        (host, "timer", {"op": "start"}),
        (host, "open", {}),
        (judge, "score", {}),
        (host, "close", {}),
        (host, "timer", {"op": "reset"}),
        (host, "reopen", {"reason": "评委二未提交"}),
        (host, "close", {}),
        (host, "show", {"screen": "board", "group": "a"}),
    ]
    for client, action, args in steps:
        if action == "score":
            await asyncio.sleep(0.1)  # a judge may send 20 frames a second
            ack = await client.score("a1", CRITERIA)
        else:
            ack = await client.command(action, **args)
        assert ack["seq"] > start
        await same_as_fresh()

    assert display.state["stage"]["case"] == "a1"
    assert display.state["progress"]["submitted"] == ["j1"]
    assert display.state["screen"]["mode"] == "board"
    assert judge.state["me"]["scores"]["a1"]["total"] == "80"  # a judge's own score, in its own view
    assert display.state["contest"] == contest  # a section no patch named is kept as it was
    for role, frames in seen.items():
        patches = [f for f in frames if f["type"] == "patch"]
        assert patches, role
        assert [p["seq"] for p in patches] == sorted({p["seq"] for p in patches}), role
        assert patches[-1]["seq"] == watchers[role].seq
        assert all(set(p["set"]) <= set(watchers[role].state) for p in patches), role
        kinds = {"patch", "snapshot"} | ({"ack"} if role == "judge" else set())  # the judge's score
        assert {f["type"] for f in frames} <= kinds, role


# --- answers: ack, error, and a close instead of an answer ---


async def test_acks_and_refusals(server: LiveServer, clients: Clients) -> None:
    host = await clients.open("host")
    judge = await clients.open("judge", "j2")
    answers: list[dict[str, Any]] = []
    host.on_frame = lambda f: answers.append(f) if f["type"] in ("ack", "error") else None

    with pytest.raises(Refused) as info:
        await host.command("reveal")
    assert info.value.code == "no_current_case"
    assert info.value.frame["id"] == answers[-1]["id"]
    assert str(info.value) == f"no_current_case: {info.value.frame['message']}"
    assert await seq_of(server) == host.seq  # a refusal records nothing

    ack = await host.command("stage", id="stage-a1", case="a1")
    assert ack == {"type": "ack", "id": "stage-a1", "seq": await seq_of(server)}
    assert answers[-1] == ack
    # The same id and body again: the same ack, nothing recorded twice.
    assert await host.command("stage", id="stage-a1", case="a1") == ack
    assert await seq_of(server) == ack["seq"]
    # The same id with another body is refused.
    with pytest.raises(Refused) as info:
        await host.command("stage", id="stage-a1", case="a2")
    assert info.value.code == "id_reused"
    assert info.value.frame["id"] == "stage-a1"

    # An id the hub cannot take is answered (and refused) under that id.
    with pytest.raises(Refused) as info:
        await host.request({"type": "command", "id": "x" * 65, "action": "open", "args": {}})
    assert info.value.code == "bad_id"
    assert info.value.frame["id"] == "x" * 65

    with pytest.raises(Refused) as info:
        await judge.score("a1", CRITERIA)
    assert info.value.code == "not_open"
    await host.command("open")
    await asyncio.sleep(0.1)
    with pytest.raises(Refused) as info:
        await judge.score("a1", {**CRITERIA, "impact": "24.3"})
    assert info.value.code == "bad_step"
    await asyncio.sleep(0.1)
    ack = await judge.score("a1", CRITERIA, id="j2-a1")
    assert ack["type"] == "ack"
    assert ack["id"] == "j2-a1"
    await host.wait_seq(ack["seq"])
    assert host.state["scores"]["entries"]["j2"]["total"] == "80"


async def test_a_request_the_hub_does_not_answer_by_id_times_out(srv: LiveServer, shared: Clients) -> None:
    # A ping is answered by a pong, which carries no id: the request has no answer to wait for.
    c = await shared.open("display")
    with pytest.raises(TimeoutError):
        await c.request({"type": "ping"}, timeout=0.5)
    assert any(json.loads(f)["type"] == "pong" for f in c.frames)
    assert c.ws is not None
    assert c.ws.state is State.OPEN


async def test_an_answer_after_the_request_timed_out_leaves_the_client_working(
    server: LiveServer, clients: Clients
) -> None:
    # The ack of a request that already timed out arrives late: the client must go on reading.
    host = await clients.open("host")
    with pytest.raises(TimeoutError):
        await host.request({"type": "command", "action": "stage", "args": {"case": "a1"}}, timeout=0)
    # the late ack and then the patch were both read
    await host.wait_for(lambda state: state["run"]["current"] == "a1", 5)
    ack = await host.command("open")
    assert ack["type"] == "ack"
    assert not host._pending  # nothing left behind by the timed-out request


async def test_a_frame_answered_by_a_close_fails_the_request(server: LiveServer, clients: Clients) -> None:
    judge = await clients.open("judge", "j1")
    with pytest.raises(ConnectionError, match="closed before the answer"):
        await judge.command("open")
    await ended(judge)
    assert judge.ws is not None
    assert judge.ws.close_code == 4403
    assert json.loads(judge.frames[-1]) == {
        "type": "error",
        "code": "forbidden",
        "message": "a judge cannot command the final",
    }


# --- dropped connections, quiet ends, resync ---


async def test_resync_with_since_after_the_hub_drops_the_connection(
    server: LiveServer, clients: Clients
) -> None:
    display = await clients.open("display")
    host = await clients.open("host")
    # Flood the hub: it closes the connection (4429) rather than answer 80 pings at once.
    assert display.ws is not None
    for _ in range(80):
        try:
            await display.ws.send(json.dumps({"type": "ping"}))
        except ConnectionClosed:
            break
    await ended(display)
    assert display.ws.close_code == 4429
    assert json.loads(display.frames[-1])["code"] == "too_many_frames"

    # While it is away, the final moves on.
    before = display.seq
    await host.command("stage", case="a2")
    await host.command("timer", op="start")
    assert display.state["stage"]["case"] is None  # the old view, untouched by the drop

    await display.connect(since=before)
    assert display.welcome["since"] == before
    body = await view(server)
    assert display.seq == body["seq"] > before
    assert display.state == body["state"]
    assert display.state["stage"]["case"] == "a2"
    # And the new connection folds what comes next.
    ack = await host.command("open")
    await display.wait_for(lambda s: s["progress"]["status"] == "scoring")
    assert display.seq == ack["seq"]


async def test_quiet_end_when_the_hub_dies_and_resync_when_it_is_back(
    server: LiveServer, clients: Clients
) -> None:
    display = await clients.open("display")
    host = await clients.open("host")
    await host.command("stage", case="b1")
    await display.wait_for(lambda s: s["stage"]["case"] == "b1")
    epoch, seq = display.epoch, display.seq
    # A request the hub will never answer by id: it must fail, not hang, when the link dies.
    pending = asyncio.create_task(display.request({"type": "ping"}, timeout=60))
    await asyncio.sleep(0.2)

    server.kill()  # SIGKILL: no close frame, the TCP connection just ends
    with pytest.raises(ConnectionError, match="closed before the answer"):
        await asyncio.wait_for(pending, 15)
    await ended(display)
    await ended(host)
    assert display.ws is not None
    assert display.ws.close_code == 1006  # abnormal closure
    with pytest.raises(ConnectionClosed):
        await host.command("open")
    await display.close()  # closing a dead client is quiet too
    await display.close()

    await asyncio.to_thread(server.start)  # the same store, the same port
    await display.connect(since=seq)
    await host.connect(since=host.seq)
    assert display.epoch == epoch
    assert display.seq == seq
    assert display.state["stage"]["case"] == "b1"
    assert display.state == (await view(server))["state"]
    ack = await host.command("open")
    await display.wait_seq(ack["seq"])
    assert display.state["progress"]["status"] == "scoring"


async def test_a_new_epoch_replaces_the_view_even_with_a_lower_seq(tmp_path: Path) -> None:
    first = LiveServer(f"sqlite:///{tmp_path / 'first.db'}").start()
    second = LiveServer(f"sqlite:///{tmp_path / 'second.db'}", port=first.port)
    clients = Clients(first)
    try:
        display = await clients.open("display")
        host = await clients.open("host")
        await host.command("stage", case="a1")
        await host.command("timer", op="start")
        await display.wait_for(lambda s: s["stage"]["timer"]["running_since"] is not None)
        old_epoch, old_seq = display.epoch, display.seq

        first.kill()
        await ended(display)
        await asyncio.to_thread(second.start)  # another log behind the same address
        await display.connect(since=old_seq)
        assert display.epoch != old_epoch
        assert display.seq < old_seq
        assert display.state == (await view(second))["state"]
        assert display.state["stage"]["case"] is None
    finally:
        for c in clients.opened:
            await c.close()
        first.stop()
        second.stop()
