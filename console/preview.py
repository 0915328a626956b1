"""What a host correction would do, computed without storing anything: the pure decide/apply
run on the hub's current state, and the affected group boards before and after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from live.contest import Contest
from live.final import Command, FinalState, decide, replay
from live.scoring import RuleError
from live.views import board_section, would_be


def _groups_touched(
    contest: Contest, state: FinalState, action: str, args: Mapping[str, Any], events: list[dict[str, Any]]
) -> list[str]:
    """The group the host is acting on, then any other group whose board the events touch."""
    groups: list[str] = []
    if isinstance(args.get("group"), str) and args["group"] in {g.key for g in contest.groups}:
        groups.append(args["group"])
    for ev in events:
        case = ev["data"].get("case")
        if isinstance(case, str) and contest.has_case(case):
            groups.append(contest.case(case).group)
    if not groups and state.current is not None:
        groups.append(contest.case(state.current).group)
    return list(dict.fromkeys(groups))


def preview(
    contest: Contest, state: FinalState, action: str, args: Mapping[str, Any], at: int
) -> dict[str, Any]:
    """The ranking diff a host command would cause, or the refusal decide gives it."""
    try:
        events = decide(contest, state, Command("host", action, args, at))
    except RuleError as exc:
        return {
            "ok": False,
            "error": {"code": exc.code, "message": exc.message},
            "events": [],
            "groups": [],
            "case": None,
        }
    after = replay(
        contest, [{**ev, "seq": state.seq + i + 1, "at": at} for i, ev in enumerate(events)], state
    )
    groups = []
    for g in _groups_touched(contest, state, action, args, events):
        before_board = board_section(contest, state, g)
        after_board = board_section(contest, after, g)
        groups.append(
            {
                "group": g,
                "name": contest.group(g).name,
                "before": before_board,
                "after": after_board,
                # the ranking, not the pending list: a move reorders that without ranking
                "changed": before_board["rows"] != after_board["rows"],
            }
        )
    case = next((ev["data"]["case"] for ev in events if "case" in ev["data"]), state.current)
    case_diff = None
    if isinstance(case, str) and contest.has_case(case):
        case_diff = {
            "case": case,
            "status_before": state.cases[case].status,
            "status_after": after.cases[case].status,
            "before": would_be(contest, state.cases[case]),
            "after": would_be(contest, after.cases[case]),
        }
    return {"ok": True, "error": None, "events": events, "groups": groups, "case": case_diff}
