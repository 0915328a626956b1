"""Role views: what each kind of client may see of the final, split into named sections.

Secrecy lives here and only here: the public and judge views are built from a case's scores
only once it is revealed; before that they carry who has submitted, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from live.actions import actions_sections
from live.contest import Contest
from live.final import (
    CaseState,
    FinalState,
    Score,
    case_aggregate,
    expected_judges,
    group_final,
    group_placings,
    next_case,
    prize_levels,
)
from live.scoring import Aggregate, RuleError, plain, tie_note


@dataclass
class Presence:
    """A judge's device, as the hub last saw it (not part of the log)."""

    connections: int = 0
    last_seen: int | None = None  # ms
    battery: float | None = None  # 0..1
    charging: bool | None = None


def contest_section(contest: Contest) -> dict[str, Any]:
    return {
        "title": contest.title,
        "theme": contest.theme,
        "rubric": [
            {"key": c.key, "name": c.name, "max": str(c.max), "step": str(c.step)}
            for c in contest.rubric.criteria
        ],
        "single": contest.rubric.single,
        "aggregation": {
            "method": contest.aggregation.method,
            "drop": contest.aggregation.drop,
            "decimals": contest.aggregation.decimals,
        },
        "groups": [
            {"key": g.key, "name": g.name, "prizes": [{"name": n, "count": k} for n, k in g.prizes]}
            for g in contest.groups
        ],
        "judges": [{"id": j.id, "name": j.name} for j in contest.judges],
        "cases": [
            {"id": c.id, "group": c.group, "title": c.title, "unit": c.unit, "presenter": c.presenter}
            for c in contest.cases
        ],
        "present_seconds": contest.timing.present_seconds,
        "comment_seconds": contest.timing.comment_seconds,
    }


def run_section(state: FinalState) -> dict[str, Any]:
    return {
        "order": list(state.order),
        "status": {case: cs.status for case, cs in state.cases.items()},
        "current": state.current,
        "next": next_case(state),
        "finished": state.finished,
    }


def stage_section(contest: Contest, state: FinalState) -> dict[str, Any]:
    timer = {
        "duration_ms": state.timer.duration_ms,
        "elapsed_ms": state.timer.elapsed_ms,
        "running_since": state.timer.running_since,
    }
    if state.current is None:
        return {"case": None, "timer": timer}
    case = contest.case(state.current)
    in_group = [c for c in state.order if contest.case(c).group == case.group]
    return {
        "case": case.id,
        "group": case.group,
        "index": in_group.index(case.id) + 1,
        "of": len(in_group),
        "status": state.cases[case.id].status,
        "timer": timer,
    }


def progress_section(contest: Contest, state: FinalState) -> dict[str, Any]:
    if state.current is None:
        return {"case": None}
    case = state.current
    scores = state.cases[case].scores
    expected = expected_judges(contest, state, case)
    return {
        "case": case,
        "status": state.cases[case].status,
        "submitted": [j.id for j in contest.judges if j.id in scores],
        "expected": list(expected),
        "recused": [j.id for j in contest.judges if contest.is_recused(j.id, case)],
        "absent": [j for j in state.absent],
        "done": sum(1 for j in expected if j in scores),
        # No aggregate here: before the reveal a public standing never says counted or dropped.
        "standing": judge_standing(contest, state, case, None),
    }


JUDGE_STANDINGS = (
    "counted",
    "dropped_high",
    "dropped_low",
    "submitted",
    "recused",
    "absent",
    "waiting",
    "missing",
)


def judge_standing(contest: Contest, state: FinalState, case: str, agg: Aggregate | None) -> dict[str, str]:
    """Each judge's standing on a case, in panel order.

    A judge with a score is ``counted`` or ``dropped_high``/``dropped_low`` by ``agg`` (the
    result, or the host's would-be result), else ``submitted``: pass ``agg`` only where the
    values may be seen. Without a score: ``recused``, ``absent``, ``waiting`` while the case is
    on stage or open for scoring, else ``missing``."""
    cs = state.cases[case]
    high = set(agg.dropped_high) if agg else set()
    low = set(agg.dropped_low) if agg else set()
    live = cs.status in ("on_stage", "scoring")
    out = {}
    for j in contest.judges:
        if j.id in cs.scores:
            status = (
                "dropped_high"
                if j.id in high
                else "dropped_low"
                if j.id in low
                else "counted"
                if agg
                else "submitted"
            )
        elif contest.is_recused(j.id, case):
            status = "recused"
        elif j.id in state.absent:
            status = "absent"
        else:
            status = "waiting" if live else "missing"
        out[j.id] = status
    return out


def aggregate_json(agg: Aggregate) -> dict[str, Any]:
    return {
        "totals": [{"judge": j, "total": plain(t)} for j, t in agg.totals],
        "dropped_high": list(agg.dropped_high),
        "dropped_low": list(agg.dropped_low),
        "final": str(agg.final),
        "unrounded": plain(agg.unrounded),
    }


def would_be(contest: Contest, case: CaseState) -> dict[str, Any]:
    """The result a case's scores so far would give: ``aggregate_json``, or why there is none."""
    return _would_be(contest, case)[1]


def _would_be(contest: Contest, case: CaseState) -> tuple[Aggregate | None, dict[str, Any]]:
    try:
        agg = case_aggregate(contest, case)
    except RuleError as exc:
        return None, {"error": exc.code, "message": exc.message}
    return agg, aggregate_json(agg)


def score_json(score: Score) -> dict[str, Any]:
    """One judge's score on the wire: values and total as decimal strings, and when it came."""
    return {
        "values": {k: plain(v) for k, v in score.values.items()},
        "total": plain(score.total),
        "at": score.at,
    }


def result_section(contest: Contest, state: FinalState) -> dict[str, Any]:
    """The most recent reveal: what the big screen's reveal shows."""
    if not state.reveals:
        return {"case": None}
    case = state.reveals[-1]
    result = state.cases[case].result
    assert result is not None
    group = contest.case(case).group
    placing = next(p for p in group_placings(contest, state, group) if p.case == case)
    return {
        "case": case,
        "group": group,
        **aggregate_json(result),
        "rank": placing.rank,
        "prize": placing.prize,
        "tied": placing.tied,
    }


def board_section(contest: Contest, state: FinalState, group: str) -> dict[str, Any]:
    rows = []
    placings = group_placings(contest, state, group)
    for p in placings:
        result = state.cases[p.case].result
        assert result is not None
        rows.append(
            {
                "case": p.case,
                "rank": p.rank,
                "final": str(result.final),
                "prize": p.prize,
                "tied": p.tied,
                "boundary_tie": p.boundary_tie,
                "tie": tie_note(p),
            }
        )
    pending = [
        c for c in state.order if contest.case(c).group == group and state.cases[c].status != "revealed"
    ]
    skipped = [c for c in pending if state.cases[c].status == "skipped"]
    return {
        "group": group,
        "final": group_final(state, contest, group),
        "rows": rows,
        "pending": pending,
        "skipped": skipped,
        "revealed": len(rows),
        "total": len(rows) + len(pending),
        "waiting": len(pending) - len(skipped),
        "done": len(rows) + len(skipped),
        "boundary_tie": any(p.boundary_tie for p in placings),
    }


def auto_screen(contest: Contest, state: FinalState) -> str:
    """What the big screen shows when it follows the flow."""
    if state.current is None:
        return "welcome"
    status = state.cases[state.current].status
    if status == "on_stage":
        stage = stage_section(contest, state)
        fresh = state.timer.running_since is None and state.timer.elapsed_ms == 0
        return "between" if stage["index"] == 1 and fresh else "stage"
    if status in ("scoring", "closed"):
        return "scoring"
    if status == "revealed":
        return "reveal"
    return "stage"


def screen_section(contest: Contest, state: FinalState) -> dict[str, Any]:
    view = auto_screen(contest, state) if state.screen == "auto" else state.screen
    return {"mode": state.screen, "view": view, "group": state.screen_group}


def awards_section(contest: Contest, state: FinalState) -> dict[str, Any]:
    """Announced prize levels only: the awards sequence keeps its suspense."""
    groups = {}
    for g in contest.groups:
        shown = state.awards.get(g.key, 0)
        levels = prize_levels(contest, g.key)
        announced = []
        if shown:
            placings = group_placings(contest, state, g.key)
            for prize in levels[:shown]:
                announced.append(
                    {
                        "prize": prize,
                        "cases": [
                            {"case": p.case, "rank": p.rank, "final": str(state.cases[p.case].result.final)}  # type: ignore[union-attr]
                            for p in placings
                            if p.prize == prize
                        ],
                    }
                )
        groups[g.key] = {"steps": len(levels), "shown": shown, "levels": announced}
    return {"group": state.screen_group if state.screen == "awards" else None, "groups": groups}


def public_view(contest: Contest, state: FinalState) -> dict[str, Any]:
    """Display and audience: the same sections, nothing unrevealed."""
    view = {
        "contest": contest_section(contest),
        "run": run_section(state),
        "stage": stage_section(contest, state),
        "progress": progress_section(contest, state),
        "result": result_section(contest, state),
        "screen": screen_section(contest, state),
        "awards": awards_section(contest, state),
    }
    for g in contest.groups:
        view[f"board/{g.key}"] = board_section(contest, state, g.key)
    return view


def judge_phase(contest: Contest, state: FinalState, judge: str) -> str:
    """What a judge's pad is about now: ``over``, ``absent``, ``waiting`` (nothing staged yet),
    ``recused`` (from the current case, until it is revealed or skipped), else the current
    case's status."""
    if state.finished:
        return "over"
    if judge in state.absent:
        return "absent"
    if state.current is None:
        return "waiting"
    status = state.cases[state.current].status
    if contest.is_recused(judge, state.current) and status not in ("revealed", "skipped"):
        return "recused"
    return status


JUDGE_SHARED = ("contest", "run", "stage", "progress")


def judge_view(
    contest: Contest, state: FinalState, judge: str, public: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A judge sees the flow and their own scores, and of other judges only who submitted.

    ``public`` is the public view when already built: its sections are reused as they are."""
    public = public or public_view(contest, state)
    me = contest.judge(judge)
    own = {}
    for case, cs in state.cases.items():
        score = cs.scores.get(judge)
        if score is not None:
            own[case] = score_json(score)
    return {
        **{name: public[name] for name in JUDGE_SHARED},
        "me": {
            "id": me.id,
            "name": me.name,
            "absent": judge in state.absent,
            "recused": sorted(c for j, c in contest.recusals if j == judge),
            "scores": own,
            "phase": judge_phase(contest, state, judge),
        },
    }


def scores_section(contest: Contest, state: FinalState) -> dict[str, Any]:
    """The host's live view of the current case's scores and the would-be result."""
    if state.current is None:
        return {"case": None}
    cs = state.cases[state.current]
    entries = {j: score_json(s) for j, s in cs.scores.items()}
    agg, wb = _would_be(contest, cs)
    standing = judge_standing(contest, state, state.current, agg)
    return {"case": state.current, "entries": entries, "would_be": wb, "standing": standing}


def judges_section(
    contest: Contest, state: FinalState, presence: Mapping[str, Presence]
) -> list[dict[str, Any]]:
    case = state.current
    submitted = state.cases[case].scores if case else {}
    standing = judge_standing(contest, state, case, None) if case else {}
    rows = []
    for j in contest.judges:
        p = presence.get(j.id) or Presence()
        rows.append(
            {
                "id": j.id,
                "name": j.name,
                "unit": j.unit,
                "online": p.connections > 0,
                "last_seen": p.last_seen,
                "battery": p.battery,
                "charging": p.charging,
                "submitted": j.id in submitted,
                "recused": bool(case) and contest.is_recused(j.id, case or ""),
                "absent": state.absent.get(j.id),
                "standing": standing.get(j.id),
            }
        )
    return rows


def host_view(
    contest: Contest,
    state: FinalState,
    presence: Mapping[str, Presence],
    public: Mapping[str, Any] | None = None,
    actions: bool = True,
) -> dict[str, Any]:
    """Everything, for the host. ``actions=False`` leaves out the ``actions*`` sections (the hub
    computes them just after the acks of an event have gone out)."""
    view = dict(public or public_view(contest, state))
    view["scores"] = scores_section(contest, state)
    view["judges"] = judges_section(contest, state, presence)
    view["corrections"] = {
        "reveals": list(state.reveals),
        "absent": dict(state.absent),
        "tie_orders": {g: list(o) for g, o in state.tie_orders.items()},
    }
    if actions:
        view.update(actions_sections(contest, state))
    return view
