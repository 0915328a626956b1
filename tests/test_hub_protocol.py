"""A whole mini-final played through protocol v1 against a real `live serve`: every result and
board checked against values worked out by hand, every refusal of the state machine on the wire,
and secrecy watched frame by frame from a display, an audience phone and a second judge.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from conftest import LiveServer
from core_helpers import HOST_ONLY
from hub_helpers import get_json, head_seq, live_verify, quoted

from live.client import HubClient, Refused

KEYS = ("innovation", "impact", "value", "delivery")
JUDGES = ("j1", "j2", "j3", "j4", "j5")

# case -> judge -> (innovation, impact, value, delivery); the totals are in the comments.
SCORES: dict[str, dict[str, tuple[str, ...]]] = {
    "a1": {
        "j1": ("24", "24", "16", "16"),  # 80
        "j2": ("25", "25", "17", "17"),  # 84
        "j3": ("26", "26", "17.5", "17"),  # 86.5
        "j4": ("20", "20", "15", "15"),  # 70   dropped low
        "j5": ("28", "28", "19", "19"),
    },  # 94   dropped high
    # a2 carries the distinctive values 27.5 / 29.5 / 92.5 that no other case uses.
    "a2": {
        "j1": ("27.5", "29.5", "18", "17.5"),  # 92.5 dropped high
        "j2": ("24", "25", "16", "16"),  # 81
        "j3": ("25", "25.5", "16", "16"),  # 82.5
        "j4": ("23.5", "24", "16", "16"),  # 79.5
        "j5": ("18", "20.5", "12.5", "12"),
    },  # 63   dropped low
    # a3 ties a2 on final, unrounded mean and innovation mean (118 / 5 = 23.6 for both).
    "a3": {
        "j1": ("23", "25", "16", "16"),  # 80
        "j2": ("24", "25.5", "16", "16"),  # 81.5
        "j3": ("23.5", "26", "16", "16"),  # 81.5
        "j4": ("29", "29", "19", "19"),  # 96   dropped high
        "j5": ("18.5", "20", "10", "9.5"),
    },  # 58   dropped low
    "b1": {
        "j1": ("26", "26", "18", "18"),  # 88
        "j2": ("25", "26", "18", "18"),  # 87
        "j3": ("26", "27", "18", "18"),  # 89
        "j4": ("29", "30", "20", "20"),  # 99   dropped high
        "j5": ("22", "23", "15", "15"),
    },  # 75   dropped low; innovation mean 25.6
    "b2": {
        "j1": ("28", "24", "18", "18"),  # 88
        "j2": ("27", "23", "18", "18"),  # 86
        "j3": ("28", "26", "18", "18"),  # 90
        "j4": ("28", "28", "18", "18"),  # 92   dropped high
        "j5": ("26", "22", "16", "16"),
    },  # 80   dropped low; innovation mean 27.4
    # j5 is recused from b3: four scores, one dropped at each end, the mean of two.
    "b3": {
        "j1": ("27", "27.5", "18", "18"),  # 90.5
        "j2": ("27", "28", "18", "18"),  # 91
        "j3": ("25", "25", "17", "17"),  # 84   dropped low
        "j4": ("28", "28.5", "18.5", "18.5"),
    },  # 93.5 dropped high
}

# The revealed results, worked out by hand from the table above.
RESULTS: dict[str, dict[str, Any]] = {
    "a1": {
        "totals": {"j1": "80", "j2": "84", "j3": "86.5", "j4": "70", "j5": "94"},
        "dropped_high": ["j5"],
        "dropped_low": ["j4"],
        "final": "83.50",
        "unrounded": "83.5",
    },
    "a2": {
        "totals": {"j1": "92.5", "j2": "81", "j3": "82.5", "j4": "79.5", "j5": "63"},
        "dropped_high": ["j1"],
        "dropped_low": ["j5"],
        "final": "81.00",
        "unrounded": "81",
    },
    "a3": {
        "totals": {"j1": "80", "j2": "81.5", "j3": "81.5", "j4": "96", "j5": "58"},
        "dropped_high": ["j4"],
        "dropped_low": ["j5"],
        "final": "81.00",
        "unrounded": "81",
    },
    "b1": {
        "totals": {"j1": "88", "j2": "87", "j3": "89", "j4": "99", "j5": "75"},
        "dropped_high": ["j4"],
        "dropped_low": ["j5"],
        "final": "88.00",
        "unrounded": "88",
    },
    "b2": {
        "totals": {"j1": "88", "j2": "86", "j3": "90", "j4": "92", "j5": "80"},
        "dropped_high": ["j4"],
        "dropped_low": ["j5"],
        "final": "88.00",
        "unrounded": "88",
    },
    "b3": {
        "totals": {"j1": "90.5", "j2": "91", "j3": "84", "j4": "93.5"},
        "dropped_high": ["j4"],
        "dropped_low": ["j3"],
        "final": "90.75",
        "unrounded": "90.75",
    },
}
# (rank, prize, tied) at each reveal, and the boards as they stand then.
PLACING = {
    "a1": (1, "一等奖", False),
    "a2": (2, "二等奖", False),
    "a3": (2, "二等奖", True),
    "b1": (1, "一等奖", False),
    "b2": (1, "一等奖", False),
    "b3": (1, "一等奖", False),
}
BOARDS: dict[str, list[tuple[str, int, str, str | None, bool, bool]]] = {
    # (case, rank, final, prize, tied, boundary_tie)
    "a1": [("a1", 1, "83.50", "一等奖", False, False)],
    "a2": [("a1", 1, "83.50", "一等奖", False, False), ("a2", 2, "81.00", "二等奖", False, False)],
    # a2 and a3 stay tied through the whole chain, across the 二等奖/三等奖 line: the host decides.
    "a3": [
        ("a1", 1, "83.50", "一等奖", False, False),
        ("a2", 2, "81.00", "二等奖", True, True),
        ("a3", 2, "81.00", "二等奖", True, True),
    ],
    "b1": [("b1", 1, "88.00", "一等奖", False, False)],
    # equal final and unrounded mean; b2's innovation mean (27.4 > 25.6) puts it first.
    "b2": [("b2", 1, "88.00", "一等奖", False, False), ("b1", 2, "88.00", "二等奖", False, False)],
    "b3": [
        ("b3", 1, "90.75", "一等奖", False, False),
        ("b2", 2, "88.00", "二等奖", False, False),
        ("b1", 3, "88.00", None, False, False),
    ],
}
BOARD_A_RESOLVED = [
    ("a1", 1, "83.50", "一等奖", False, False),
    ("a3", 2, "81.00", "二等奖", False, False),
    ("a2", 3, "81.00", "三等奖", False, False),
]
# Decimal strings of the rubric itself ("max": "30", "step": "0.5") are in every contest section.
RUBRIC_STRINGS = quoted(["30", "20", "0.5"])


def crit(case: str, judge: str) -> dict[str, str]:
    return dict(zip(KEYS, SCORES[case][judge], strict=True))


def case_strings(case: str) -> set[str]:
    """Every score value, total and aggregate of a case, as it would appear in a frame."""
    r = RESULTS[case]
    values = [v for row in SCORES[case].values() for v in row]
    return quoted([*values, *r["totals"].values(), r["final"], r["unrounded"]])


def own_strings(case: str, judge: str) -> set[str]:
    row = SCORES[case].get(judge)
    return quoted([*row, RESULTS[case]["totals"][judge]]) if row else set()


def rows(board: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (r["case"], r["rank"], r["final"], r["prize"], r["tied"], r["boundary_tie"]) for r in board["rows"]
    ]


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(f"sqlite:///{tmp_path_factory.mktemp('proto') / 'final.db'}").start()
    try:
        yield server
    finally:
        server.stop()


class Final:
    """The host, five judges, and the watchers whose frames the secrecy checks read."""

    def __init__(
        self,
        srv: LiveServer,
        host: HubClient,
        judges: dict[str, HubClient],
        display: HubClient,
        audience: HubClient,
    ) -> None:
        self.srv, self.host, self.judges = srv, host, judges
        self.display, self.audience = display, audience
        self.watchers = {"display": display, "audience": audience, "j2": judges["j2"]}
        self.revealed: list[str] = []

    async def seq(self) -> int:
        return await asyncio.to_thread(head_seq, self.srv)

    async def refused(self, code: str, call: Any) -> dict[str, Any]:
        """A refusal: the right code, and nothing recorded."""
        await asyncio.sleep(0.06)  # stay under the hub's 20 frames/s per connection
        before = await self.seq()
        with pytest.raises(Refused) as info:
            await call
        assert info.value.code == code, info.value.frame
        assert info.value.frame.get("message")
        assert await self.seq() == before
        return info.value.frame

    async def settle(self) -> int:
        seq = await self.seq()
        for c in (self.host, *self.judges.values(), self.display, self.audience):
            await c.wait_seq(seq)
        return seq

    async def score(self, case: str, judges: tuple[str, ...]) -> None:
        for j in judges:
            ack = await self.judges[j].score(case, crit(case, j))
            assert ack["type"] == "ack"
            assert isinstance(ack["seq"], int)

    def marks(self) -> dict[str, int]:
        return {name: len(c.frames) for name, c in self.watchers.items()}

    def assert_secret(self, case: str, since: dict[str, int], extra: set[str] = frozenset()) -> None:
        """No watcher frame since ``since`` (nor its current view) holds a value of ``case``."""
        earlier = set().union(*(case_strings(c) for c in self.revealed)) if self.revealed else set()
        secret = (case_strings(case) | extra) - earlier - RUBRIC_STRINGS
        for name, client in self.watchers.items():
            hidden = secret - (own_strings(case, name) if name in JUDGES else set())
            seen = [*client.frames[since[name] :], json.dumps(client.state, ensure_ascii=False)]
            for text in seen:
                leaks = [s for s in hidden if s in text]
                assert not leaks, f"{name} saw {leaks} of {case} before its reveal: {text[:300]}"

    def assert_public_after(self, case: str, since: dict[str, int]) -> None:
        for name in ("display", "audience"):
            text = "".join(self.watchers[name].frames[since[name] :])
            for s in quoted([*RESULTS[case]["totals"].values(), RESULTS[case]["final"]]):
                assert s in text, f"{name} did not get {s} of {case} at its reveal"

    def check_result(self, case: str) -> None:
        r, (rank, prize, tied) = RESULTS[case], PLACING[case]
        group = case[0]
        expected = {
            "case": case,
            "group": group,
            "totals": [{"judge": j, "total": t} for j, t in r["totals"].items()],
            "dropped_high": r["dropped_high"],
            "dropped_low": r["dropped_low"],
            "final": r["final"],
            "unrounded": r["unrounded"],
            "rank": rank,
            "prize": prize,
            "tied": tied,
        }
        for client in (self.display, self.audience, self.host):
            assert client.state["result"] == expected
            assert rows(client.state[f"board/{group}"]) == BOARDS[case]
        # A judge's view never carries results or boards, revealed or not.
        for j in self.judges.values():
            assert set(j.state) == {"contest", "run", "stage", "progress", "me"}

    async def play(self, case: str, judges: tuple[str, ...] = JUDGES) -> None:
        """next, open, every judge scores, close, reveal: with secrecy watched throughout."""
        since = self.marks()
        await self.host.command("next")
        await self.host.command("timer", op="start")
        await self.host.command("open")
        await self.score(case, judges)
        await self.host.wait_for(lambda s: s["progress"]["submitted"] == list(judges))
        host_scores = self.host.state["scores"]
        assert {j: e["total"] for j, e in host_scores["entries"].items()} == RESULTS[case]["totals"]
        assert host_scores["would_be"]["final"] == RESULTS[case]["final"]
        await self.host.command("close")
        await self.settle()
        self.assert_secret(case, since)
        await self.reveal(case, since)

    async def reveal(self, case: str, since: dict[str, int]) -> None:
        await self.host.command("reveal")
        await self.settle()
        self.assert_public_after(case, since)
        self.revealed.append(case)
        self.check_result(case)
        for j, client in self.judges.items():
            me = client.state["me"]["scores"]
            assert set(me) == {c for c in self.revealed if j in SCORES[c]}
            for c, entry in me.items():
                assert entry["values"] == crit(c, j)
                assert entry["total"] == RESULTS[c]["totals"][j]


@pytest.fixture
async def final(srv: LiveServer) -> AsyncIterator[Final]:
    t = srv.tokens()
    host = await HubClient(srv.base, "host", t["host"]).connect()
    judges = {j: await HubClient(srv.base, "judge", t["judges"][j]).connect() for j in JUDGES}
    display = await HubClient(srv.base, "display").connect()
    audience = await HubClient(srv.base, "audience").connect()
    try:
        yield Final(srv, host, judges, display, audience)
    finally:
        for c in (host, *judges.values(), display, audience):
            await c.close()


async def test_mini_final_through_the_protocol(final: Final, srv: LiveServer) -> None:
    f, host, J = final, final.host, final.judges
    assert host.welcome["role"] == "host"
    assert host.welcome["protocol"] == 1
    assert J["j3"].welcome["judge"] == {"id": "j3", "name": "评委三"}
    assert isinstance(host.welcome["server_time"], int)
    assert set(f.display.state) == {
        "contest",
        "run",
        "stage",
        "progress",
        "result",
        "screen",
        "awards",
        "board/a",
        "board/b",
    }
    assert set(host.state) == set(f.display.state) | HOST_ONLY
    assert all(row["online"] for row in host.state["judges"])
    assert all(isinstance(row["last_seen"], int) for row in host.state["judges"])

    # --- refusals before anything is on stage ---
    await f.refused("no_current_case", host.command("open"))
    await f.refused("no_current_case", host.command("reveal"))
    await f.refused("no_current_case", host.command("timer", op="start"))
    await f.refused("unknown_action", host.command("dance"))
    await f.refused("unknown_case", host.command("stage", case="zz"))
    await f.refused("bad_args", host.command("show", screen="fireworks"))
    await f.refused("unknown_group", host.command("show", screen="board", group="zz"))
    await f.refused("group_not_final", host.command("show", screen="awards", group="a"))
    await f.refused("not_showing_awards", host.command("award_step", group="a"))
    await f.refused("unknown_judge", host.command("absent", judge="j9", reason="x"))
    await f.refused("reason_required", host.command("absent", judge="j1"))
    await f.refused("nothing_to_undo", host.command("undo_reveal", reason="x"))
    await f.refused("unknown_case", host.command("move", case="a3", after="zz"))
    await f.refused("bad_args", host.command("move", case="a3", after="a3"))
    await f.refused("not_open", J["j1"].score("a1", crit("a1", "j1")))
    await f.refused("recused", J["j5"].score("b3", crit("b2", "j5")))

    # --- a1, with every correction the host has ---
    since = f.marks()
    await host.command("stage", case="a1")
    assert host.state["stage"]["case"] == "a1"
    assert host.state["stage"]["of"] == 3
    await f.refused("not_open", J["j1"].score("a1", crit("a1", "j1")))
    await f.refused("timer_not_running", host.command("timer", op="pause"))
    await f.refused("bad_args", host.command("timer", op="rewind"))
    await host.command("timer", op="start")
    assert host.state["stage"]["timer"]["running_since"] is not None
    await f.refused("timer_running", host.command("timer", op="start"))
    await host.command("timer", op="pause")
    assert host.state["stage"]["timer"]["running_since"] is None
    await f.refused("bad_args", host.command("timer", op="add", seconds="30"))
    await host.command("timer", op="add", seconds=30)
    assert host.state["stage"]["timer"]["duration_ms"] == 330_000
    await host.command("timer", op="resume")
    await f.refused("case_not_waiting", host.command("move", case="a1", after="a2"))
    await host.command("open")
    await f.refused("already_open", host.command("open"))
    await f.refused("scoring_open", host.command("reveal"))
    await f.refused("case_in_progress", host.command("next"))
    await f.refused("case_in_progress", host.command("stage", case="a2"))
    j1 = J["j1"]
    await f.refused("out_of_range", j1.score("a1", {**crit("a1", "j1"), "innovation": "30.5"}))
    await f.refused("bad_step", j1.score("a1", {**crit("a1", "j1"), "innovation": "24.3"}))
    await f.refused("missing_criterion", j1.score("a1", {k: "10" for k in KEYS[:3]}))
    await f.refused("unknown_criterion", j1.score("a1", {**crit("a1", "j1"), "charm": "5"}))
    await f.refused("bad_value", j1.score("a1", {**crit("a1", "j1"), "impact": "2.4e1"}))
    await f.refused("bad_value", j1.score("a1", {**crit("a1", "j1"), "impact": 24}))
    await f.refused("wrong_shape", j1.score("a1", total="80"))
    await f.refused("unknown_case", j1.score("zz", crit("a1", "j1")))
    await f.score("a1", ("j1", "j2"))
    await host.command("close")
    await f.refused("scoring_closed", J["j3"].score("a1", crit("a1", "j3")))
    await f.refused("too_few_scores", host.command("reveal"))
    await f.refused("reason_required", host.command("reopen"))
    await f.refused("reason_required", host.command("reopen", reason="   "))
    await host.command("reopen", reason="评委三、四、五尚未提交")
    # j4 first sends 71 (impact 21), then corrects it: the latest score counts.
    await J["j4"].score("a1", {**crit("a1", "j4"), "impact": "21"})
    await host.wait_for(lambda s: s["scores"]["entries"].get("j4", {}).get("total") == "71")
    await f.score("a1", ("j3", "j4", "j5"))
    await f.refused("reason_required", host.command("void", judge="j2"))
    await f.refused("unknown_judge", host.command("void", judge="j9", reason="x"))
    await host.command("void", judge="j2", reason="评委二误触提交")
    await host.wait_for(lambda s: "j2" not in s["scores"]["entries"])
    await f.settle()
    assert f.display.state["progress"]["submitted"] == ["j1", "j3", "j4", "j5"]
    await f.refused("no_score", host.command("void", judge="j2", reason="again"))
    await f.score("a1", ("j2",))
    await host.command("close")
    await f.settle()
    assert {j: e["total"] for j, e in host.state["scores"]["entries"].items()} == RESULTS["a1"]["totals"]
    f.assert_secret("a1", since, extra=quoted(["21", "71"]))
    await f.reveal("a1", since)
    await f.refused("already_revealed", host.command("reveal"))
    await f.refused("already_revealed", host.command("reopen", reason="x"))
    await f.refused("case_locked", host.command("void", judge="j1", reason="x"))
    # undo the reveal: the public result and board go back to nothing, then reveal again
    await f.refused("reason_required", host.command("undo_reveal"))
    await host.command("undo_reveal", reason="主持人提前揭晓")
    await f.settle()
    assert f.display.state["result"] == {"case": None}
    assert f.display.state["board/a"]["rows"] == []
    f.revealed.remove("a1")
    await f.reveal("a1", since)
    assert host.state["corrections"]["reveals"] == ["a1"]

    # --- a2 (secrecy watched with its distinctive values), a3 (a tie over a prize line) ---
    since = f.marks()
    await host.command("next")
    await host.command("open")
    await f.score("a2", JUDGES)
    await host.command("close")
    await f.settle()
    for view in ("display", "audience"):
        text = json.dumps(
            await asyncio.to_thread(get_json, f"{srv.base}/api/view/{view}"), ensure_ascii=False
        )
        assert '"27.5"' not in text
        assert '"29.5"' not in text
        assert '"92.5"' not in text
    f.assert_secret("a2", since)
    await f.reveal("a2", since)
    text = json.dumps(await asyncio.to_thread(get_json, f"{srv.base}/api/view/display"))
    assert '"92.5"' in text
    assert '"81.00"' in text
    assert not any('"27.5"' in fr or '"29.5"' in fr for fr in J["j3"].frames)  # j3's peers

    await f.play("a3")
    await f.refused("tie_unresolved", host.command("show", screen="awards", group="a"))
    await f.refused("not_tied", host.command("resolve_tie", group="a", order=["a1", "a2"]))
    await f.refused("bad_args", host.command("resolve_tie", group="a", order=["a3"]))
    await f.refused("unknown_group", host.command("resolve_tie", group="c", order=["a3", "a2"]))
    await host.command("resolve_tie", group="a", order=["a3", "a2"], reason="抽签")
    await f.settle()
    assert rows(f.display.state["board/a"]) == BOARD_A_RESOLVED
    assert f.display.state["board/a"]["final"] is True
    assert host.state["corrections"]["tie_orders"] == {"a": ["a3", "a2"]}

    # --- the awards of group a: third prize first ---
    await f.refused("not_showing_awards", host.command("award_step", group="a"))
    await host.command("show", screen="awards", group="a")
    await f.refused("not_showing_awards", host.command("award_step", group="b"))
    announced = []
    for level, case, rank, final_ in (
        ("三等奖", "a2", 3, "81.00"),
        ("二等奖", "a3", 2, "81.00"),
        ("一等奖", "a1", 1, "83.50"),
    ):
        await host.command("award_step", group="a")
        await f.settle()
        announced.append({"prize": level, "cases": [{"case": case, "rank": rank, "final": final_}]})
        assert f.display.state["awards"] == {
            "group": "a",
            "groups": {
                "a": {"steps": 3, "shown": len(announced), "levels": announced},
                "b": {"steps": 2, "shown": 0, "levels": []},
            },
        }
        assert f.display.state["screen"] == {"mode": "awards", "view": "awards", "group": "a"}
    await f.refused("awards_complete", host.command("award_step", group="a"))

    # --- group b; j5 is recused from b3 ---
    await f.play("b1")
    await f.play("b2")
    since = f.marks()
    await host.command("next")
    await host.command("open")
    await f.settle()
    progress = f.display.state["progress"]
    assert progress["expected"] == ["j1", "j2", "j3", "j4"]
    assert progress["recused"] == ["j5"]
    assert J["j5"].state["me"]["recused"] == ["b3"]
    await f.refused("recused", J["j5"].score("b3", crit("b2", "j5")))
    await f.score("b3", ("j1", "j2", "j3", "j4"))
    await host.command("close")
    await f.settle()
    f.assert_secret("b3", since)
    await f.reveal("b3", since)
    assert f.display.state["run"]["finished"] is True
    await f.refused("no_next_case", host.command("next"))
    await host.command("show", screen="awards", group="b")
    await host.command("award_step", group="b")
    await host.command("award_step", group="b")
    await f.refused("awards_complete", host.command("award_step", group="b"))
    await f.settle()
    assert f.audience.state["awards"]["groups"]["b"]["levels"] == [
        {"prize": "二等奖", "cases": [{"case": "b2", "rank": 2, "final": "88.00"}]},
        {"prize": "一等奖", "cases": [{"case": "b3", "rank": 1, "final": "90.75"}]},
    ]

    # the HTTP views are the public snapshot; the host sees a judge go offline
    for view in ("display", "audience"):
        body = await asyncio.to_thread(get_json, f"{srv.base}/api/view/{view}")
        assert body["seq"] == f.display.seq
        assert body["epoch"] == f.display.epoch
        assert body["state"] == f.display.state
    await J["j5"].close()
    await host.wait_for(lambda s: not next(r for r in s["judges"] if r["id"] == "j5")["online"])

    # the log alone gives the same final: `live verify` replays it
    out = await asyncio.to_thread(live_verify, srv.store)
    assert out.returncode == 0, out.stderr
    lines = [line.split() for line in out.stdout.splitlines()]
    assert ["1", "83.50", "一等奖", "a1", "甲一案例"] in lines
    assert ["3", "81.00", "三等奖", "a2", "甲二案例"] in lines
    assert ["3", "88.00", "-", "b1", "乙一案例"] in lines
    assert "verified" in out.stdout


async def test_public_http_views_and_health(srv: LiveServer) -> None:
    health = await asyncio.to_thread(get_json, f"{srv.base}/healthz")
    assert health["ok"] is True
    assert isinstance(health["seq"], int)
    assert health["epoch"]
    for view in ("display", "audience"):
        body = await asyncio.to_thread(get_json, f"{srv.base}/api/view/{view}")
        assert body["epoch"] == health["epoch"]
        assert set(body["state"]) == {
            "contest",
            "run",
            "stage",
            "progress",
            "result",
            "screen",
            "awards",
            "board/a",
            "board/b",
        }
        assert "scores" not in body["state"]
        assert "judges" not in body["state"]
