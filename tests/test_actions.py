"""The host view's ``actions`` section against the hub's own answers (live/actions.py).

At every step of whole finals, every check must say what ``decide`` answers for the command the
console would send (its ``action`` and ``args``, plus the host's reason for the corrections
that ask for one), and ``next_step`` must follow the console's next-step rule.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from core_helpers import Final, crit, mini_contest
from hypothesis import given, settings
from hypothesis import strategies as st

from live.actions import GENERIC, actions_section
from live.contest import Contest
from live.contest_file import demo_contest
from live.final import HOST_ACTIONS, REASON_ACTIONS, Command, FinalState, decide, next_case
from live.scoring import RuleError
from live.views import host_view

REASON = "the host's own reason"


def answer(
    contest: Contest, state: FinalState, action: str, args: Mapping[str, Any]
) -> tuple[bool, str | None]:
    try:
        decide(contest, state, Command("host", action, args, 0))
    except RuleError as exc:
        return False, exc.code
    return True, None


def assert_actions(contest: Contest, state: FinalState) -> dict[str, Any]:
    section = actions_section(contest, state)
    checks = section["checks"]
    for key, chk in checks.items():
        action, args = chk["action"], chk["args"]
        assert action in HOST_ACTIONS, key
        if key in GENERIC:
            targets = [c for k, c in checks.items() if k.startswith(key + ":")]
            assert targets, key
            assert chk["ok"] == any(c["ok"] for c in targets), key
            if not chk["ok"]:
                assert chk["code"] == targets[0]["code"], key
            continue
        # What the console sends: the check's args, plus the reason typed in its dialog.
        sent = {**args, "reason": REASON} if action in REASON_ACTIONS else dict(args)
        assert (chk["ok"], chk["code"]) == answer(contest, state, action, sent), (key, chk)
        # A reason never changes the answer to an action that does not ask for one, and only
        # the REASON_ACTIONS ask for one: so the probe's placeholder hides no refusal.
        with_reason = answer(contest, state, action, {**args, "reason": REASON})
        assert (chk["ok"], chk["code"]) == with_reason, (key, chk)
        assert chk["ok"] or chk["message"], key
    assert_next_step(contest, state, section["next_step"], checks)
    return section


def assert_next_step(
    contest: Contest, state: FinalState, step: Mapping[str, Any], checks: Mapping[str, Any]
) -> None:
    """The console's rule, written out independently of live/actions.py."""
    cur = state.current
    status = state.cases[cur].status if cur else None
    if cur is None or status in ("revealed", "skipped"):
        upcoming = next_case(state)
        if upcoming is None:
            assert (step["key"], step["label"], step["ok"], step["code"]) == (
                None,
                "ns_done",
                False,
                "no_next_case",
            )
        else:
            assert (step["key"], step["case"]) == ("next", upcoming)
            assert step["label"] == ("ns_first" if cur is None else "ns_next")
        return
    assert step["case"] == cur
    if status == "on_stage":
        fresh = state.timer.running_since is None and state.timer.elapsed_ms == 0
        assert step["key"] == ("timer:start" if fresh else "open")
        assert step["args"] == ({"op": "start"} if fresh else {})
    elif status == "scoring":
        scores = state.cases[cur].scores
        expected = [
            j.id for j in contest.judges if not contest.is_recused(j.id, cur) and j.id not in state.absent
        ]
        got = len([j for j in expected if j in scores])
        assert (step["key"], step["submitted"], step["expected"]) == ("close", got, len(expected))
        assert step["confirm"] == ("close_early" if got < len(expected) else None)
    elif status == "closed":
        assert (step["key"], step["confirm"]) == ("reveal", "reveal")
        if step["ok"]:
            assert step["final"] is not None
    else:
        raise AssertionError(f"current case {cur} is {status}")
    chk = checks[step["key"]]
    assert (step["action"], step["args"], step["ok"], step["code"]) == (
        chk["action"],
        chk["args"],
        chk["ok"],
        chk["code"],
    )


class Checked(Final):
    """A Final that checks the actions section after every event."""

    def do(self, actor: str, action: str, **args: Any) -> list[dict[str, Any]]:
        out = super().do(actor, action, **args)
        assert_actions(self.contest, self.state)
        return out


def demo_totals(case_index: int, judge_index: int) -> dict[str, Any]:
    a = 20 + (case_index * 7 + judge_index * 3) % 10
    return {
        "criteria": {
            "innovation": str(a),
            "impact": "25",
            "value": "15",
            "delivery": str(10 + case_index % 5),
        }
    }


def test_a_whole_demo_final_with_every_check_compared_at_every_step() -> None:
    contest = demo_contest()
    f = Checked(contest)
    assert_actions(contest, f.state)
    judges = [j.id for j in contest.judges]
    for i, case in enumerate([c.id for c in contest.cases]):
        step = actions_section(contest, f.state)["next_step"]
        assert (step["key"], step["case"]) == ("next", case)
        f.host("next")
        assert actions_section(contest, f.state)["next_step"]["key"] == "timer:start"
        f.host("timer", op="start")
        f.tick(1000)
        assert actions_section(contest, f.state)["next_step"]["key"] == "open"
        f.host("open")
        for k, j in enumerate(judges):
            if not contest.is_recused(j, case):
                f.do(j, "score", case=case, **demo_totals(i, k))
        if f.state.cases[case].status == "scoring":
            f.host("close")
        assert actions_section(contest, f.state)["next_step"]["key"] == "reveal"
        f.host("reveal")
    step = actions_section(contest, f.state)["next_step"]
    assert step["label"] == "ns_done"
    for g in contest.groups:
        checks = actions_section(contest, f.state)["checks"]
        if not checks[f"show:awards:{g.key}"]["ok"]:
            assert checks[f"resolve_tie:{g.key}"]["ok"]
            f.host("resolve_tie", **checks[f"resolve_tie:{g.key}"]["args"], reason=REASON)
            continue
        f.host("show", screen="awards", group=g.key)
        while actions_section(contest, f.state)["checks"][f"award_step:{g.key}"]["ok"]:
            f.host("award_step", group=g.key)


def test_corrections_ties_and_the_timer_on_the_mini_final() -> None:
    f = Checked(mini_contest())
    assert actions_section(f.contest, f.state)["next_step"]["label"] == "ns_first"
    f.host("move", case="c3", after=None, reason="the presenter is late")
    f.host("stage", case="c3")
    for op in ("start", "pause", "resume", "pause"):
        f.tick(500)
        f.host("timer", op=op)
    f.host("timer", op="add", seconds=60)
    f.host("timer", op="reset")
    f.host("skip", case="c3", reason="withdrawn")
    f.host("next")
    f.host("open")
    f.score("j1", "c1", "8", "15")
    f.score("j2", "c1", "8", "15")
    f.host("absent", judge="j5", reason="ill")
    f.host("void", judge="j2", reason="pressed too early")
    f.score("j2", "c1", "8", "15")
    f.score("j3", "c1", "7", "15")
    f.score("j4", "c1", "9", "15")
    f.host("close")
    f.host("reopen", reason="j4 asked")
    f.host("present", judge="j5", reason="back")
    f.score("j5", "c1", "8", "15")
    f.host("close")
    f.host("reveal")
    f.host("next")
    f.host("open")
    for j in ("j1", "j2", "j3", "j4"):  # j5 is recused from c2
        f.score(j, "c2", "8", "15")
    f.host("close")
    f.host("reveal")
    checks = actions_section(f.contest, f.state)["checks"]
    assert checks["resolve_tie:g1"]["ok"]
    assert checks["resolve_tie:g1"]["args"]["order"] == ["c1", "c2"]
    assert checks["show:awards:g1"]["code"] == "tie_unresolved"  # c3, skipped, counts as final
    f.host("undo_reveal", reason="wrong case revealed")
    f.host("reveal")
    f.host("stage", case="c3")
    assert actions_section(f.contest, f.state)["checks"]["show:awards:g1"]["code"] == "group_not_final"
    f.host("open")
    for j in ("j1", "j2", "j3", "j5"):  # j4 is recused from c3 by unit
        f.score(j, "c3", "5", "10")
    f.host("close")
    f.host("reveal")
    f.host("next")
    f.host("open")
    for j in ("j1", "j2", "j3", "j4", "j5"):
        f.score(j, "c4", "5", "10")
    f.host("close")
    f.host("reveal")
    f.host("resolve_tie", group="g1", order=["c2", "c1"], reason="jury vote")
    f.host("show", screen="awards", group="g1")
    f.host("award_step", group="g1")
    f.host("award_step", group="g1")
    assert actions_section(f.contest, f.state)["checks"]["award_step:g1"]["code"] == "awards_complete"
    f.host("show", screen="board", group="g2")
    f.host("show", screen="welcome")


def test_the_comment_timer_check_exists_only_with_a_comment_time() -> None:
    with_comment = mini_contest()
    checks = actions_section(with_comment, Final(with_comment).state)["checks"]
    assert checks["timer:comment"]["args"] == {"op": "reset", "seconds": 60}
    without = mini_contest(timing={"present_seconds": 300, "comment_seconds": 0})
    assert "timer:comment" not in actions_section(without, Final(without).state)["checks"]


def test_resume_after_a_pause_is_allowed_as_the_hub_allows_it() -> None:
    f = Final(mini_contest())
    f.host("next")
    f.host("timer", op="start")
    f.tick(1000)
    f.host("timer", op="pause")
    checks = actions_section(f.contest, f.state)["checks"]
    assert checks["timer:resume"]["ok"]
    assert checks["timer:start"]["ok"]
    assert checks["timer:pause"]["code"] == "timer_not_running"


def test_close_early_asks_first_and_counts_expected_judges() -> None:
    f = Final(mini_contest())
    f.host("stage", case="c2")  # j5 is recused from c2
    f.host("open")
    f.score("j1", "c2", "8", "15")
    step = actions_section(f.contest, f.state)["next_step"]
    assert (step["key"], step["submitted"], step["expected"], step["confirm"]) == (
        "close",
        1,
        4,
        "close_early",
    )
    assert step["ok"]


def test_reveal_refused_with_too_few_scores_says_so() -> None:
    f = Final(mini_contest())
    f.host("next")
    f.host("open")
    f.score("j1", "c1", "8", "15")
    f.host("close")
    step = actions_section(f.contest, f.state)["next_step"]
    assert (step["key"], step["ok"], step["code"], step["final"]) == ("reveal", False, "too_few_scores", None)
    f.host("reopen", reason="more scores")
    f.score("j2", "c1", "8", "16")
    f.score("j3", "c1", "8", "17")
    f.host("close")
    step = actions_section(f.contest, f.state)["next_step"]
    assert (step["ok"], step["final"], step["confirm"]) == (True, "24.00", "reveal")


def test_the_host_view_carries_the_sections() -> None:
    f = Final(mini_contest())
    f.host("next")
    view = host_view(f.contest, f.state, {})
    assert set(view["actions"]) == {"seq", "next_step", "checks"}
    assert view["actions"]["seq"] == f.state.seq
    assert view["actions"]["next_step"]["label"] == "ns_timer"
    # every check is in exactly one of the four sections, by what it acts on
    names = ("actions", "actions/cases", "actions/judges", "actions/groups")
    keys = [k for name in names for k in view[name]["checks"]]
    assert sorted(keys) == sorted(actions_section(f.contest, f.state)["checks"])
    assert set(view["actions/cases"]["checks"]) == {
        f"{a}:{c.id}" for a in ("stage", "skip", "move") for c in f.contest.cases
    }
    assert set(view["actions/judges"]["checks"]) == {
        f"{a}:{j.id}" for a in ("void", "absent", "present") for j in f.contest.judges
    }
    assert "timer:start" in view["actions"]["checks"]
    assert "show:auto" in view["actions"]["checks"]
    assert "void" in view["actions"]["checks"]  # the corrections tab's entry points
    assert "actions" not in host_view(f.contest, f.state, {}, actions=False)


HOST_MOVES = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 4)), min_size=1, max_size=60)


@settings(max_examples=40, deadline=None)
@given(HOST_MOVES)
def test_a_random_walk_over_allowed_actions_stays_consistent(moves: list[tuple[int, int]]) -> None:
    """Press any button the section allows (or let judges score) and compare again each time."""
    f = Checked(mini_contest())
    for pick, kind in moves:
        state = f.state
        if kind == 0 and state.current and state.cases[state.current].status == "scoring":
            judges = [j.id for j in f.contest.judges]
            judge = judges[pick % len(judges)]
            with contextlib.suppress(RuleError):  # e.g. an absent or recused judge
                f.do(judge, "score", case=state.current, **crit(str(pick % 11), str(pick % 21)))
            continue
        allowed = [
            (k, c)
            for k, c in actions_section(f.contest, state)["checks"].items()
            if c["ok"] and k not in GENERIC
        ]
        if not allowed:
            continue
        _, chk = allowed[pick % len(allowed)]
        args = {**chk["args"], "reason": REASON} if chk["action"] in REASON_ACTIONS else dict(chk["args"])
        f.tick(700)
        f.host(chk["action"], **args)
