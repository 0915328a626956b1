"""A hypothesis state machine of judge and host actions in random order against the pure core
(live.final decide/apply): apply(decide(...)) never raises, the state is always the replay of
the emitted events, no result exists before its reveal, no recused judge's score is kept,
and the public and judge views never carry an unrevealed value.

Quick mode: a few dozen programs. Full mode: LIVE_FULL=1.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from conftest import MINI
from faults import FULL, write_figures
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from live.contest_file import load_contest
from live.final import HOST_ACTIONS, Command, apply, decide, initial_state, replay
from live.scoring import RuleError
from live.views import judge_view, public_view

CONTEST = load_contest(MINI)
JUDGES = [j.id for j in CONTEST.judges]
CASES = [c.id for c in CONTEST.cases]
PROGRAMS = int(os.environ.get("LIVE_PROGRAMS", "1500" if FULL else "40"))
STATS = {"programs": 0, "steps": 0, "events": 0, "refused": 0}

junk = st.one_of(
    st.none(), st.integers(-5, 5), st.text(max_size=4), st.just(["a1", "a2"]), st.floats(allow_nan=False)
)
step_value = {
    c.key: st.integers(0, int(c.max / c.step)).map(lambda n, s=c.step: str(n * s))
    for c in CONTEST.rubric.criteria
}
entries = st.one_of(
    st.fixed_dictionaries({"criteria": st.fixed_dictionaries(step_value)}),
    st.fixed_dictionaries(
        {
            "criteria": st.dictionaries(
                st.sampled_from(["innovation", "impact", "value", "delivery", "x"]),
                st.one_of(st.sampled_from(["31", "0.25", "-1", "1e1", "NaN", ""]), junk),
                max_size=4,
            )
        }
    ),
    st.fixed_dictionaries({"total": st.sampled_from(["80", "x"])}),
)
host_args = st.fixed_dictionaries(
    {},
    optional={
        "case": st.sampled_from([*CASES, "zz"]) | junk,
        "judge": st.sampled_from([*JUDGES, "zz"]) | junk,
        "reason": st.sampled_from(["迟到", "", " ", "x" * 501]) | junk,
        "op": st.sampled_from(["start", "pause", "resume", "add", "reset", "zz"]),
        "seconds": st.integers(-4000, 4000) | junk,
        "screen": st.sampled_from(["auto", "board", "awards", "welcome", "zz"]),
        "group": st.sampled_from(["a", "b", "zz"]) | junk,
        "order": st.lists(st.sampled_from(CASES), max_size=3) | junk,
        "after": st.sampled_from([*CASES, None]) | junk,
    },
)


class Final(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = initial_state(CONTEST)
        self.log: list[dict[str, Any]] = []
        self.clock = 1_700_000_000_000
        STATS["programs"] += 1

    def do(self, actor: str, action: str, args: Any) -> None:
        STATS["steps"] += 1
        self.clock += 1500
        try:
            events = decide(CONTEST, self.state, Command(actor, action, args, self.clock))
        except RuleError:
            STATS["refused"] += 1
            return
        for e in events:  # the shell's part: seq, at, actor; then apply must not raise
            row = {**e, "seq": self.state.seq + 1, "at": self.clock, "actor": actor}
            self.state = apply(CONTEST, self.state, row)
            self.log.append(row)
            STATS["events"] += 1

    @rule(judge=st.sampled_from([*JUDGES, "host", "zz"]), case=st.sampled_from(CASES) | junk, entry=entries)
    def score(self, judge: str, case: Any, entry: dict[str, Any]) -> None:
        self.do(judge, "score", {"case": case, **entry})

    @rule(action=st.sampled_from(HOST_ACTIONS), args=host_args)
    def host(self, action: str, args: dict[str, Any]) -> None:
        self.do("host", action, args)

    @rule(data=st.data())
    def natural_step(self, data: st.DataObject) -> None:
        """What a host usually does next, so that runs reach reveals and the awards."""
        s = self.state
        status = s.cases[s.current].status if s.current else None
        if status == "scoring":
            for j in JUDGES:
                entry = data.draw(st.fixed_dictionaries(step_value))
                self.do(j, "score", {"case": s.current, "criteria": entry})
            self.do("host", "close", {})
        else:
            action = {"on_stage": "open", "closed": "reveal"}.get(status or "", "next")
            self.do("host", action, {})

    @invariant()
    def state_is_the_replay_of_its_events(self) -> None:
        assert replay(CONTEST, self.log) == self.state

    @invariant()
    def no_result_before_reveal(self) -> None:
        for cs in self.state.cases.values():
            assert (cs.result is not None) == (cs.status == "revealed")

    @invariant()
    def scores_only_from_non_recused_judges(self) -> None:
        for cid, cs in self.state.cases.items():
            for j in cs.scores:
                assert j in JUDGES
                assert not CONTEST.is_recused(j, cid)
        for e in self.log:
            if e["type"] == "scored":
                assert e["actor"] == e["data"]["judge"]
                assert Decimal(e["data"]["total"]) == sum(Decimal(v) for v in e["data"]["values"].values())

    @invariant()
    def views_keep_unrevealed_scores_secret(self) -> None:
        public = public_view(CONTEST, self.state)
        revealed = {c for c, cs in self.state.cases.items() if cs.status == "revealed"}
        if public["result"]["case"] is not None:
            assert public["result"]["case"] in revealed
        for g in CONTEST.groups:
            assert {r["case"] for r in public[f"board/{g.key}"]["rows"]} <= revealed
        for level in (lvl for grp in public["awards"]["groups"].values() for lvl in grp["levels"]):
            assert {c["case"] for c in level["cases"]} <= revealed
        for j in JUDGES:
            me = judge_view(CONTEST, self.state, j, public)["me"]
            for case in me["scores"]:
                assert j in self.state.cases[case].scores


TestFinal = Final.TestCase
TestFinal.settings = settings(
    max_examples=PROGRAMS,
    stateful_step_count=30,
    deadline=None,
    derandomize=not FULL,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_zz_figures() -> None:
    """Records the counts of the run above (pytest runs this file's tests in order)."""
    write_figures("statemachine", dict(STATS))
