"""What every host action would do now, asked of ``final.decide`` itself: the host view's
``actions`` section, so the console enables a button exactly when the hub would accept it.

Nothing here restates a precondition: each check is decide's own answer to a probe command.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from live.contest import Contest
from live.final import (
    REASON_ACTIONS,
    FinalState,
    case_aggregate,
    decide_host,
    expected_judges,
    group_placings,
    next_case,
)
from live.scoring import RuleError

# Actions that need a reason are probed with this one; the console asks the host for the real
# reason in its dialog, and decide only checks that there is one.
PROBE_REASON = "probe"
# The corrections tab's generic entry points, and the per-target checks each one sums up.
GENERIC = ("void", "absent", "present", "skip", "move", "resolve_tie")


def check(contest: Contest, state: FinalState, action: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """decide's answer to ``action`` with ``args`` now: ok, or the refusal's code and message."""
    probe = {**args, "reason": PROBE_REASON} if action in REASON_ACTIONS else args
    try:
        decide_host(contest, state, action, probe)
    except RuleError as exc:
        return {"action": action, "args": args, "ok": False, "code": exc.code, "message": exc.message}
    return {"action": action, "args": args, "ok": True, "code": None, "message": ""}


def tied_order(contest: Contest, state: FinalState, group: str) -> list[str]:
    """The cases sharing a rank in a group's ranking (a tie at a prize boundary first), or []."""
    blocks: dict[int, list[str]] = {}
    boundary: set[int] = set()
    for p in group_placings(contest, state, group):
        if p.tied:
            blocks.setdefault(p.rank, []).append(p.case)
            if p.boundary_tie:
                boundary.add(p.rank)
    for rank_ in sorted(blocks, key=lambda r: (r not in boundary, r)):
        return blocks[rank_]
    return []


def probes(contest: Contest, state: FinalState) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every check key of the section, with the action and args it stands for."""
    out: dict[str, tuple[str, dict[str, Any]]] = {
        "timer:start": ("timer", {"op": "start"}),
        "timer:pause": ("timer", {"op": "pause"}),
        "timer:resume": ("timer", {"op": "resume"}),
        "timer:add": ("timer", {"op": "add", "seconds": 30}),  # the console's "+30 秒" button
        "timer:reset": ("timer", {"op": "reset"}),
    }
    if contest.timing.comment_seconds > 0:
        out["timer:comment"] = ("timer", {"op": "reset", "seconds": contest.timing.comment_seconds})
    for action in ("open", "close", "reveal", "next", "reopen", "undo_reveal"):
        out[action] = (action, {})
    for case in state.order:
        out[f"stage:{case}"] = ("stage", {"case": case})
        out[f"skip:{case}"] = ("skip", {"case": case})
        out[f"move:{case}"] = ("move", {"case": case, "after": None})
    for j in contest.judges:
        out[f"void:{j.id}"] = ("void", {"judge": j.id})
        out[f"absent:{j.id}"] = ("absent", {"judge": j.id})
        out[f"present:{j.id}"] = ("present", {"judge": j.id})
    for g in contest.groups:
        out[f"resolve_tie:{g.key}"] = (
            "resolve_tie",
            {"group": g.key, "order": tied_order(contest, state, g.key)},
        )
        out[f"show:board:{g.key}"] = ("show", {"screen": "board", "group": g.key})
        out[f"show:awards:{g.key}"] = ("show", {"screen": "awards", "group": g.key})
        out[f"award_step:{g.key}"] = ("award_step", {"group": g.key})
    out["show:auto"] = ("show", {"screen": "auto"})
    out["show:welcome"] = ("show", {"screen": "welcome"})
    return out


def _generic(action: str, targets: list[dict[str, Any]]) -> dict[str, Any]:
    """A corrections-tab entry: allowed when any target is, else the first target's refusal."""
    first = next((c for c in targets if c["ok"]), targets[0] if targets else None)
    if first is None:
        return {"action": action, "args": {}, "ok": False, "code": None, "message": ""}
    return {
        "action": action,
        "args": {},
        "ok": first["ok"],
        "code": first["code"],
        "message": first["message"],
    }


def next_step(contest: Contest, state: FinalState, checks: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The natural next press of the console's big button, with the hub's answer to it."""
    cur = state.current
    status = state.cases[cur].status if cur else None
    step: dict[str, Any] = {"case": cur, "confirm": None, "submitted": None, "expected": None, "final": None}
    if cur is None or status in ("revealed", "skipped"):
        upcoming = next_case(state)
        key = "next" if upcoming else None
        label = "ns_done" if upcoming is None else "ns_next" if cur else "ns_first"
        step["case"] = upcoming
        answer = checks["next"]
    elif status == "on_stage":
        fresh = state.timer.running_since is None and state.timer.elapsed_ms == 0
        key = "timer:start" if fresh else "open"
        label = "ns_timer" if fresh else "ns_open"
        answer = checks[key]
    elif status == "scoring":
        key, label, answer = "close", "ns_close", checks["close"]
        expected = expected_judges(contest, state, cur)
        scores = state.cases[cur].scores
        step["submitted"] = sum(1 for j in expected if j in scores)
        step["expected"] = len(expected)
        step["confirm"] = "close_early" if step["submitted"] < step["expected"] else None
    elif status == "closed":
        key, label, answer = "reveal", "ns_reveal", checks["reveal"]
        step["confirm"] = "reveal"
        try:
            step["final"] = str(case_aggregate(contest, state.cases[cur]).final)
        except RuleError:
            step["final"] = None
    else:  # not reached by any log: the current case is never waiting
        key, label = None, "ns_wait"
        answer = {"action": None, "args": {}, "ok": False, "code": None, "message": ""}
    return {
        "key": key,
        "action": answer["action"] if key else None,
        "args": dict(answer["args"]) if key else {},
        "label": label,
        **step,
        "ok": answer["ok"],
        "code": answer["code"],
        "message": answer["message"],
    }


def actions_section(contest: Contest, state: FinalState) -> dict[str, Any]:
    """``next_step`` and every check, in one dict (see ``actions_sections`` for the wire)."""
    checks: dict[str, dict[str, Any]] = {}
    targets: dict[str, list[dict[str, Any]]] = {action: [] for action in GENERIC}
    for key, (action, args) in probes(contest, state).items():
        checks[key] = answer = check(contest, state, action, args)
        if action in targets:
            targets[action].append(answer)
    for action in GENERIC:
        checks[action] = _generic(action, targets[action])
    return {"next_step": next_step(contest, state, checks), "checks": checks}


# The wire splits the checks by what they act on, so that a judge's score (which changes the
# per-judge checks and the next step) does not resend the 3 checks of every case: the host view
# sends only the sections that changed.
def _area(check_: Mapping[str, Any]) -> str:
    """Which section a check goes in: by what its args name (a case, a judge or a group)."""
    args = check_["args"]
    return "cases" if "case" in args else "judges" if "judge" in args else "groups" if "group" in args else ""


def actions_sections(contest: Contest, state: FinalState) -> dict[str, dict[str, Any]]:
    """The host view's sections: ``actions`` (the seq they answer for, ``next_step``, and the
    checks of the flow and the corrections tab), ``actions/cases``, ``actions/judges`` and
    ``actions/groups`` (the checks per case, judge and group). Every check key is in exactly one."""
    whole = actions_section(contest, state)
    split: dict[str, dict[str, Any]] = {"": {}, "cases": {}, "judges": {}, "groups": {}}
    for key, answer in whole["checks"].items():
        split[_area(answer)][key] = answer
    sections: dict[str, dict[str, Any]] = {
        "actions": {"seq": state.seq, "next_step": whole["next_step"], "checks": split[""]}
    }
    for area in ("cases", "judges", "groups"):
        sections[f"actions/{area}"] = {"checks": split[area]}
    return sections
