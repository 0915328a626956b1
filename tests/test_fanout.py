"""live/fanout.py on its own, with in-memory clients on a real event loop: who is served when,
chunking and merging of audience patches, the skip and snapshot rules, dropping a client that
falls behind, and the order welcome, snapshot, patches; last, the same through a real hub."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import pytest
from conftest import MINI

from live import protocol as P
from live.contest_file import load_contest
from live.fanout import FANOUT_CHUNK, QUEUE_LIMIT, Client, Fanout, patch_text, snapshot_text, ws_frame
from live.hub import Hub
from live.store.memory import MemoryStore


class Board:
    """A source for the fan-out: a seq and each view's sections, encoded, as the hub keeps them."""

    def __init__(self) -> None:
        self.seq = 0
        self.views: dict[str, dict[str, str]] = {
            "public": {"stage": '"c0"'},
            "host": {"stage": '"c0"', "judges": "[]"},
            "judge:j1": {"stage": '"c0"'},
        }

    def snapshot(self, view_key: str) -> str:
        return snapshot_text(self.seq, self.views[view_key])

    def step(self, fanout: Fanout, **public: str) -> None:
        """One event: the public sections change (and every view that shares them)."""
        prev, self.seq = self.seq, self.seq + 1
        changed = {k: json.dumps(v) for k, v in public.items()}
        for view in self.views.values():
            view.update(changed)
        fanout.publish(prev, self.seq, {key: dict(changed) for key in self.views} if changed else {})


class Sink:
    """A direct writer into memory: keeps the frames, and says False once past ``cap`` frames."""

    def __init__(self, cap: int | None = None) -> None:
        self.frames: list[bytes] = []
        self.cap = cap

    def __call__(self, frame: bytes) -> bool:
        self.frames.append(frame)
        return self.cap is None or len(self.frames) <= self.cap

    def texts(self) -> list[dict[str, Any]]:
        return [json.loads(unframe(f)) for f in self.frames]


def unframe(frame: bytes) -> str:
    assert frame[0] == 0x81
    n, at = frame[1], 2
    if n == 126:
        (n,), at = struct.unpack("!H", frame[2:4]), 4
    elif n == 127:
        (n,), at = struct.unpack("!Q", frame[2:10]), 10
    assert len(frame) == at + n
    return frame[at:].decode()


async def no_send(text: str) -> None:
    raise AssertionError("the fan-out never sends by itself")


def join(fanout: Fanout, role: str, judge: str | None = None, sink: Sink | None = None) -> Sink:
    sink = sink or Sink()
    fanout.join(Client(role, no_send, judge, write=sink), P.encode({"type": "welcome", "role": role}))
    return sink


def kinds(sink: Sink) -> list[tuple[str, int | None, int]]:
    return [(f["type"], f.get("prev"), f["seq"]) for f in sink.texts() if f["type"] != "welcome"]


async def turn(n: int = 1) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 1000, 65535, 65536, 70000])
def test_ws_frame_lengths(size: int) -> None:
    text = "x" * size
    assert unframe(ws_frame(text)) == text


def test_patch_and_snapshot_texts_are_json() -> None:
    sections = {"stage": '{"case":"c1"}', "名": '"评委"'}
    assert json.loads(patch_text(3, 5, sections)) == {
        "type": "patch",
        "prev": 3,
        "seq": 5,
        "set": {"stage": {"case": "c1"}, "名": "评委"},
    }
    assert json.loads(patch_text(5, 5, {})) == {"type": "patch", "prev": 5, "seq": 5, "set": {}}
    assert json.loads(snapshot_text(5, sections))["state"]["stage"] == {"case": "c1"}


async def test_welcome_snapshot_then_patches_in_order() -> None:
    board = Board()
    fanout = Fanout(board)
    judge, phone = join(fanout, "judge", "j1"), join(fanout, "audience")
    queued = Client("display", no_send)  # no direct writer: the queued fallback
    fanout.join(queued, P.encode({"type": "welcome", "role": "display"}))
    board.step(fanout, stage="c1")
    board.step(fanout, stage="c2")
    await turn(3)
    expected = [("snapshot", None, 0), ("patch", 0, 1), ("patch", 1, 2)]
    assert judge.texts()[0]["type"] == "welcome"
    assert kinds(judge) == expected
    texts = []
    while not queued.queue.empty():
        texts.append(json.loads(queued.queue.get_nowait() or "null"))
    assert [t["type"] for t in texts] == ["welcome", "snapshot", "patch", "patch"]
    # the audience joined at 0; both steps came before its drain: one merged patch
    assert kinds(phone) == [("snapshot", None, 0), ("patch", 0, 2)]
    assert phone.texts()[-1]["set"] == {"stage": "c2"}


async def test_judges_host_and_displays_at_once_the_audience_on_the_next_turns() -> None:
    board = Board()
    fanout = Fanout(board)
    judge, host, display = join(fanout, "judge", "j1"), join(fanout, "host"), join(fanout, "display")
    phones = [join(fanout, "audience") for _ in range(3 * FANOUT_CHUNK + 5)]
    board.step(fanout, stage="c1")
    for sink in (judge, host, display):  # within publish itself, before any await
        assert kinds(sink)[-1] == ("patch", 0, 1)
    served = [sum(len(p.frames) == 3 for p in phones)]
    for _ in range(4):
        await turn()
        served.append(sum(len(p.frames) == 3 for p in phones))
    assert served == [0, FANOUT_CHUNK, 2 * FANOUT_CHUNK, 3 * FANOUT_CHUNK, len(phones)]
    assert fanout.pending == 0


async def test_a_started_patch_is_not_merged_with_the_next() -> None:
    board = Board()
    fanout = Fanout(board)
    phones = [join(fanout, "audience") for _ in range(FANOUT_CHUNK + 1)]
    board.step(fanout, stage="c1")
    await turn()  # the first chunk has its patch: the job has started
    board.step(fanout, stage="c2")
    board.step(fanout, stage="c3")  # not started yet: merged with the one before
    await turn(4)
    assert kinds(phones[0])[1:] == [("patch", 0, 1), ("patch", 1, 3)]
    assert kinds(phones[-1])[1:] == [("patch", 0, 1), ("patch", 1, 3)]
    assert phones[-1].texts()[-1]["set"] == {"stage": "c3"}


async def test_a_quiet_step_patches_only_the_views_that_changed() -> None:
    board = Board()
    fanout = Fanout(board)
    judge, host, phone = join(fanout, "judge", "j1"), join(fanout, "host"), join(fanout, "audience")
    fanout.publish(0, 0, {"host": {"judges": '[{"id":"j1","online":true}]'}})  # presence only
    await turn(2)
    assert kinds(host)[-1] == ("patch", 0, 0)
    assert len(judge.frames) == len(phone.frames) == 2  # welcome and snapshot only
    board.step(fanout)  # the seq moved with nothing to show: every view still hears of it
    await turn(2)
    for sink in (judge, host, phone):
        assert sink.texts()[-1] == {"type": "patch", "prev": 0, "seq": 1, "set": {}}


async def test_a_late_joiner_is_skipped_and_one_in_between_gets_a_snapshot() -> None:
    board = Board()
    fanout = Fanout(board)
    early = join(fanout, "audience")  # at seq 0
    board.step(fanout, stage="c1")
    middle = join(fanout, "audience")  # at seq 1, before the drain of 0 -> 1 began
    board.step(fanout, stage="c2")  # merged: one job 0 -> 2
    late = join(fanout, "audience")  # at seq 2
    await turn(2)
    assert kinds(early) == [("snapshot", None, 0), ("patch", 0, 2)]
    assert kinds(middle) == [("snapshot", None, 1), ("snapshot", None, 2)]
    assert middle.texts()[-1]["state"]["stage"] == "c2"
    assert kinds(late) == [("snapshot", None, 2)]
    board.step(fanout, stage="c3")  # and from there on all three follow the same patches
    await turn(2)
    for sink in (early, middle, late):
        assert kinds(sink)[-1] == ("patch", 2, 3)


async def test_a_client_that_falls_behind_is_dropped_not_written_to_again() -> None:
    board = Board()
    fanout = Fanout(board)
    slow = Sink(cap=3)  # welcome, snapshot, one patch; the next write finds it over its cap
    judge = Client("judge", no_send, "j1", write=slow)
    fanout.join(judge, P.encode({"type": "welcome"}))
    queued = Client("audience", no_send)
    fanout.join(queued, P.encode({"type": "welcome"}))
    for n in range(QUEUE_LIMIT + 5):
        board.step(fanout, stage=f"c{n}")
        await turn(2)
    assert judge.lagging
    assert judge.closed.is_set()
    assert len(slow.frames) == 4
    assert queued.lagging
    assert queued.closed.is_set()
    assert queued.queue.qsize() == QUEUE_LIMIT
    fanout.leave(judge)
    fanout.leave(queued)
    assert not fanout.clients
    assert not fanout.clients.direct


async def test_the_audience_waits_while_a_write_holds_the_lock() -> None:
    board, held = Board(), [True]
    fanout = Fanout(board, busy=lambda: held[0])
    judge, phone = join(fanout, "judge", "j1"), join(fanout, "audience")
    board.step(fanout, stage="c1")
    assert kinds(judge)[-1] == ("patch", 0, 1)  # judges are never held back
    await asyncio.sleep(0.02)
    assert len(phone.frames) == 2
    held[0] = False
    await asyncio.sleep(0.02)
    assert kinds(phone)[-1] == ("patch", 0, 1)
    assert fanout.pending == 0


def test_without_an_event_loop_everything_is_delivered_at_once() -> None:
    board = Board()
    fanout = Fanout(board)
    phones = [join(fanout, "audience") for _ in range(2 * FANOUT_CHUNK + 1)]
    board.step(fanout, stage="c1")
    assert all(kinds(p)[-1] == ("patch", 0, 1) for p in phones)
    assert fanout.pending == 0


def test_close_all_tells_every_connection() -> None:
    fanout = Fanout(Board())
    clients = [Client(role, no_send, "j1" if role == "judge" else None) for role in P.ROLES]
    for client in clients:
        fanout.join(client, "{}")
    fanout.close_all()
    assert all(c.closed.is_set() for c in clients)


async def test_through_a_real_hub_patches_rebuild_the_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """Applying every patch a phone gets to its snapshot gives the hub's public view."""
    monkeypatch.delenv("LIVE_HOST_TOKEN", raising=False)
    hub = Hub(MemoryStore(), load_contest(MINI))
    await hub.start()
    try:
        phones = [Sink() for _ in range(FANOUT_CHUNK + 3)]
        for sink in phones:
            hub.join(Client("audience", no_send, write=sink), {"type": "welcome", "role": "audience"})
        for n, action in enumerate(("next", "open")):
            assert (await hub.submit("host", action, {}, f"h{n}", f"d{n}")).code == "ack"
        await asyncio.sleep(0.05)
        want = hub.view_json("public")["state"]
        for sink in phones:
            frames = sink.texts()
            assert [f["type"] for f in frames[:2]] == ["welcome", "snapshot"]
            state, seq = frames[1]["state"], frames[1]["seq"]
            for patch in frames[2:]:
                assert patch["type"] == "patch"
                assert patch["prev"] == seq
                state.update(patch["set"])
                seq = patch["seq"]
            assert (seq, state) == (hub.seq, want)
    finally:
        await hub.stop()
