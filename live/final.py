"""The final's state machine (DESIGN §3): ``decide(contest, state, command) -> events`` and
``apply(contest, state, event) -> state``, both pure. State is a fold over the event log.

Events are plain dicts ``{"type": ..., "data": {...}}``; the shell adds ``seq``, ``at`` (ms),
``actor`` and the client's id before storing them, and ``apply`` reads ``at`` for the timer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from typing import Any

from live.contest import Contest, ContestError, Problem, parse_contest
from live.scoring import (
    Aggregate,
    Entry,
    Placing,
    RuleError,
    aggregate,
    plain,
    rank,
    validate_entry,
)

CREATED = "created"  # the log's first event: it holds the whole contest
CASE_STATUSES = ("waiting", "on_stage", "scoring", "closed", "revealed", "skipped")
SCREENS = ("auto", "board", "awards", "welcome")
TIMER_OPS = ("start", "pause", "resume", "add", "reset")
HOST_ACTIONS = (
    "stage",
    "timer",
    "open",
    "close",
    "reveal",
    "next",
    "reopen",
    "void",
    "absent",
    "present",
    "move",
    "skip",
    "resolve_tie",
    "undo_reveal",
    "show",
    "award_step",
)
# Corrections that are audited with the host's reason: decide refuses them without one.
REASON_ACTIONS = ("reopen", "void", "absent", "present", "skip", "undo_reveal")
Event = dict[str, Any]


@dataclass(frozen=True)
class Score:
    values: Mapping[str, Decimal]
    total: Decimal
    at: int


@dataclass(frozen=True)
class CaseState:
    status: str = "waiting"
    scores: Mapping[str, Score] = field(default_factory=dict)  # judge -> latest score
    result: Aggregate | None = None
    # Fixed with the result at reveal (scores cannot change then): the tie-break reads them.
    means: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Timer:
    """Held by the hub so every screen counts down alike: remaining is derived from these."""

    duration_ms: int = 0
    elapsed_ms: int = 0  # before running_since
    running_since: int | None = None

    def remaining_ms(self, now: int) -> int:
        run = now - self.running_since if self.running_since is not None else 0
        return self.duration_ms - self.elapsed_ms - run


@dataclass(frozen=True)
class FinalState:
    seq: int
    order: tuple[str, ...]
    cases: Mapping[str, CaseState]
    current: str | None = None
    absent: Mapping[str, str] = field(default_factory=dict)
    timer: Timer = Timer()
    screen: str = "welcome"
    screen_group: str | None = None
    awards: Mapping[str, int] = field(default_factory=dict)  # group -> prize levels shown
    tie_orders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reveals: tuple[str, ...] = ()  # stack, for undo_reveal

    @cached_property  # read by every judge's view on every event; a state never changes
    def finished(self) -> bool:
        return all(c.status in ("revealed", "skipped") for c in self.cases.values())


@dataclass(frozen=True)
class Command:
    actor: str  # "host" or a judge id
    action: str  # a host action, or "score"
    args: Mapping[str, Any]
    at: int  # ms since the epoch, from the shell's clock


def initial_state(contest: Contest) -> FinalState:
    return FinalState(
        seq=0,
        order=tuple(c.id for c in contest.cases),
        cases={c.id: CaseState() for c in contest.cases},
        timer=Timer(duration_ms=contest.timing.present_seconds * 1000),
    )


# --- derived facts, shared by decide, the views and the CLI ---


def expected_judges(contest: Contest, state: FinalState, case: str) -> tuple[str, ...]:
    """Judges whose score the case waits for: not recused, not marked absent."""
    return tuple(
        j.id for j in contest.judges if not contest.is_recused(j.id, case) and j.id not in state.absent
    )


# group_placings is asked several times per event (boards, the reveal, the host's action
# checks, decide itself) for the same inputs: remembered by the identity of what it reads
# (states are immutable and a change replaces ``cases`` or ``tie_orders``). The entry holds
# those objects, so an id cannot be reused while it is remembered.
_PLACINGS: dict[tuple[int, int, int, str], tuple[object, object, object, tuple[Placing, ...]]] = {}
_PLACINGS_MAX = 64


def group_placings(contest: Contest, state: FinalState, group: str) -> list[Placing]:
    key = (id(contest), id(state.cases), id(state.tie_orders), group)
    hit = _PLACINGS.get(key)
    if hit is not None and hit[0] is contest and hit[1] is state.cases and hit[2] is state.tie_orders:
        return list(hit[3])
    placings = _group_placings(contest, state, group)
    if len(_PLACINGS) >= _PLACINGS_MAX:
        _PLACINGS.clear()
    _PLACINGS[key] = (contest, state.cases, state.tie_orders, tuple(placings))
    return placings


def _group_placings(contest: Contest, state: FinalState, group: str) -> list[Placing]:
    entries = []
    for case in contest.group_cases(group):
        cs = state.cases[case.id]
        if cs.status != "revealed" or cs.result is None:
            continue
        entries.append(Entry(case.id, cs.result.final, cs.result.unrounded, cs.means))
    return rank(entries, contest.tie_break, contest.group(group).prizes, state.tie_orders.get(group, ()))


def criterion_means(scores: Mapping[str, Score]) -> dict[str, Decimal]:
    if not scores:
        return {}
    keys = next(iter(scores.values())).values.keys()
    n = len(scores)
    return {k: sum((s.values[k] for s in scores.values()), Decimal(0)) / n for k in keys}


def group_final(state: FinalState, contest: Contest, group: str) -> bool:
    return all(state.cases[c.id].status in ("revealed", "skipped") for c in contest.group_cases(group))


def case_aggregate(contest: Contest, case: CaseState) -> Aggregate:
    """The would-be result from the scores given so far, in panel order."""
    totals = [(j.id, case.scores[j.id].total) for j in contest.judges if j.id in case.scores]
    return aggregate(contest.aggregation, totals)


def next_case(state: FinalState) -> str | None:
    """The case ``next`` would stage: the first waiting case after the current one in the
    running order, wrapping round to the start (a case skipped earlier is not waiting)."""
    start = state.order.index(state.current) + 1 if state.current else 0
    for case in state.order[start:] + state.order[:start]:
        if state.cases[case].status == "waiting":
            return case
    return None


def prize_levels(contest: Contest, group: str) -> tuple[str, ...]:
    """The awards sequence of a group: lowest prize first, up to the first prize."""
    return tuple(name for name, count in reversed(contest.group(group).prizes) if count)


# --- decide ---


def _fail(code: str, message: str) -> RuleError:
    return RuleError(code, message)


def _reason(args: Mapping[str, Any]) -> str:
    reason = args.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise _fail("reason_required", "this correction needs a reason")
    if len(reason) > 500:
        raise _fail("bad_args", "reason is longer than 500 characters")
    return reason.strip()


def _case_arg(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> str:
    case = args.get("case", state.current)
    if case is None:
        raise _fail("no_current_case", "no case is on stage")
    if not contest.has_case(case):
        raise _fail("unknown_case", f"unknown case {case!r}")
    return str(case)


def _group_arg(contest: Contest, group: object) -> str:
    if not isinstance(group, str) or group not in {g.key for g in contest.groups}:
        raise _fail("unknown_group", f"unknown group {group!r}")
    return group


def _judge_arg(contest: Contest, judge: object) -> str:
    if not contest.has_judge(judge):
        raise _fail("unknown_judge", f"unknown judge {judge!r}")
    return str(judge)


def _status(state: FinalState, case: str) -> str:
    return state.cases[case].status


def _must_be_free(state: FinalState) -> None:
    if state.current is not None and _status(state, state.current) in ("scoring", "closed"):
        raise _fail("case_in_progress", f"{state.current} is still being scored: close and reveal it first")


def _awards_ready(contest: Contest, state: FinalState, group: str) -> None:
    if not group_final(state, contest, group):
        raise _fail("group_not_final", f"group {group} still has cases to reveal")
    if any(p.boundary_tie for p in group_placings(contest, state, group)):
        raise _fail("tie_unresolved", f"group {group} has a tie at a prize boundary: resolve it")


def decide(contest: Contest, state: FinalState, cmd: Command) -> list[Event]:
    """Return the events a command produces, or raise RuleError with a code."""
    if cmd.action == "score":
        if not isinstance(cmd.args, Mapping):
            raise _fail("bad_args", "args must be an object")
        return _decide_score(contest, state, cmd)
    return decide_host(contest, state, cmd.action, cmd.args)


def decide_host(contest: Contest, state: FinalState, action: str, args: Mapping[str, Any]) -> list[Event]:
    """decide for a host action (no actor or clock needed): also the console's probe."""
    handler = _HOST.get(action)
    if handler is None:
        raise _fail("unknown_action", f"unknown action {action!r}")
    if not isinstance(args, Mapping):
        raise _fail("bad_args", "args must be an object")
    return handler(contest, state, args)


def _decide_score(contest: Contest, state: FinalState, cmd: Command) -> list[Event]:
    judge = cmd.actor
    if not contest.has_judge(judge):  # e.g. the host: only panel judges' scores count
        raise _fail("unknown_judge", f"{judge!r} is not a judge of this contest")
    if not contest.has_case(cmd.args.get("case")):
        raise _fail("unknown_case", f"unknown case {cmd.args.get('case')!r}")
    case: str = cmd.args["case"]
    if judge in state.absent:
        raise _fail("judge_absent", "you are marked absent; ask the host")
    if contest.is_recused(judge, case):
        raise _fail("recused", "you are recused from this case")
    status = _status(state, case)
    if status in ("closed", "revealed"):
        raise _fail("scoring_closed", "scoring for this case is closed; the score was not counted")
    if status != "scoring":
        raise _fail("not_open", "scoring for this case is not open")
    values = validate_entry(contest.rubric, cmd.args)
    total = sum(values.values(), Decimal(0))
    events: list[Event] = [
        {
            "type": "scored",
            "data": {
                "case": case,
                "judge": judge,
                "values": {k: plain(v) for k, v in values.items()},
                "total": plain(total),
            },
        }
    ]
    if contest.auto_close:
        done = set(state.cases[case].scores) | {judge}
        if all(j in done for j in expected_judges(contest, state, case)):
            events.append({"type": "closed", "data": {"case": case, "auto": True}})
    return events


def _stage(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    case = _case_arg(contest, state, {"case": args.get("case")})
    if _status(state, case) not in ("waiting", "skipped"):
        raise _fail("case_not_waiting", f"{case} is {_status(state, case)}")
    _must_be_free(state)
    return [{"type": "staged", "data": {"case": case}}]


def _next(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    if state.current is not None and _status(state, state.current) not in ("revealed", "skipped"):
        raise _fail("case_in_progress", f"{state.current} is not revealed or skipped yet")
    case = next_case(state)
    if case is None:
        raise _fail("no_next_case", "every case has been revealed or skipped")
    return [{"type": "staged", "data": {"case": case}}]


def _timer(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    if state.current is None:
        raise _fail("no_current_case", "no case is on stage")
    op = args.get("op")
    if op not in TIMER_OPS:
        raise _fail("bad_args", f"op must be one of {', '.join(TIMER_OPS)}")
    running = state.timer.running_since is not None
    if op in ("start", "resume") and running:
        raise _fail("timer_running", "the timer is already running")
    if op == "pause" and not running:
        raise _fail("timer_not_running", "the timer is not running")
    data: dict[str, Any] = {"op": op}
    if op == "add" or (op == "reset" and "seconds" in args):
        seconds = args.get("seconds")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or not -3600 <= seconds <= 3600:
            raise _fail("bad_args", "seconds must be a whole number between -3600 and 3600")
        if op == "reset" and seconds <= 0:
            raise _fail("bad_args", "reset needs a positive number of seconds")
        data["seconds"] = seconds
    return [{"type": "timer", "data": data}]


def _open(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    case = _case_arg(contest, state, {})
    status = _status(state, case)
    if status == "scoring":
        raise _fail("already_open", "scoring is already open")
    if status != "on_stage":
        raise _fail("not_on_stage", f"{case} is {status}; put it on stage first")
    return [{"type": "opened", "data": {"case": case}}]


def _close(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    case = _case_arg(contest, state, {})
    if _status(state, case) != "scoring":
        raise _fail("not_open", f"{case} is {_status(state, case)}, not open for scoring")
    return [{"type": "closed", "data": {"case": case}}]


def _current_arg(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> str:
    """Reveal and reopen act on the case on stage only: one case in play at a time."""
    case = _case_arg(contest, state, args)
    if case != state.current:
        raise _fail("not_current", f"{case} is not the current case ({state.current})")
    return case


def _reveal(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    case = _current_arg(contest, state, args)
    status = _status(state, case)
    if status == "scoring":
        raise _fail("scoring_open", "close scoring before revealing")
    if status == "revealed":
        raise _fail("already_revealed", f"{case} is already revealed")
    if status != "closed":
        raise _fail("not_closed", f"{case} is {status}")
    case_aggregate(contest, state.cases[case])  # raises too_few_scores
    return [{"type": "revealed", "data": {"case": case}}]


def _reopen(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    reason = _reason(args)
    case = _current_arg(contest, state, args)
    status = _status(state, case)
    if status == "revealed":
        raise _fail("already_revealed", "undo the reveal before re-opening scoring")
    if status != "closed":
        raise _fail("not_closed", f"{case} is {status}")
    return [{"type": "reopened", "data": {"case": case, "reason": reason}}]


def _void(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    reason = _reason(args)
    judge = _judge_arg(contest, args.get("judge"))
    case = _case_arg(contest, state, args)
    if _status(state, case) == "revealed":
        raise _fail("case_locked", "undo the reveal before voiding a score")
    if judge not in state.cases[case].scores:
        raise _fail("no_score", f"{judge} has no score for {case}")
    return [{"type": "voided", "data": {"case": case, "judge": judge, "reason": reason}}]


def _absent(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    reason = _reason(args)
    judge = _judge_arg(contest, args.get("judge"))
    if judge in state.absent:
        raise _fail("already_absent", f"{judge} is already marked absent")
    events: list[Event] = [{"type": "judge_absent", "data": {"judge": judge, "reason": reason}}]
    case = state.current
    if contest.auto_close and case and _status(state, case) == "scoring":
        # The absent judge may have been the last one the case was waiting for.
        waiting = set(expected_judges(contest, state, case)) - {judge}
        if waiting <= set(state.cases[case].scores):
            events.append({"type": "closed", "data": {"case": case, "auto": True}})
    return events


def _present(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    """A judge marked absent is back: they are expected (and may score) again from now on."""
    reason = _reason(args)
    judge = _judge_arg(contest, args.get("judge"))
    if judge not in state.absent:
        raise _fail("not_absent", f"{judge} is not marked absent")
    return [{"type": "judge_present", "data": {"judge": judge, "reason": reason}}]


def _move(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    if not contest.has_case(args.get("case")):
        raise _fail("unknown_case", f"unknown case {args.get('case')!r}")
    case: str = args["case"]
    if _status(state, case) != "waiting":
        raise _fail("case_not_waiting", f"only a waiting case can move; {case} is {_status(state, case)}")
    after = args.get("after")
    if after is not None and not contest.has_case(after):
        raise _fail("unknown_case", f"unknown case {after!r}")
    if after == case:
        raise _fail("bad_args", "a case cannot move after itself")
    reason = {"reason": str(args["reason"])[:500]} if args.get("reason") else {}  # audit, optional
    return [{"type": "moved", "data": {"case": case, "after": after, **reason}}]


def _skip(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    reason = _reason(args)
    case = _case_arg(contest, state, args)
    if _status(state, case) not in ("waiting", "on_stage"):
        raise _fail("case_not_waiting", f"{case} is {_status(state, case)}")
    return [{"type": "skipped", "data": {"case": case, "reason": reason}}]


def _resolve_tie(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    group = _group_arg(contest, args.get("group"))
    order = args.get("order")
    if (
        not isinstance(order, list)
        or len(order) < 2
        or len(set(map(str, order))) != len(order)
        or not all(isinstance(c, str) for c in order)
    ):
        raise _fail("bad_args", "order must list two or more different case ids")
    placings = {p.case: p for p in group_placings(contest, state, group)}
    if not all(c in placings for c in order):
        raise _fail("not_tied", "every case in order must be revealed in this group")
    ranks = {placings[c].rank for c in order}
    if len(ranks) != 1 or not all(placings[c].tied for c in order):
        raise _fail("not_tied", "these cases do not share a rank")
    tied_here = {p.case for p in placings.values() if p.rank in ranks}
    if tied_here != set(order):
        raise _fail("bad_args", f"order must name every tied case: {', '.join(sorted(tied_here))}")
    return [
        {
            "type": "tie_resolved",
            "data": {"group": group, "order": list(order), "reason": str(args.get("reason", ""))},
        }
    ]


def _undo_reveal(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    reason = _reason(args)
    if not state.reveals:
        raise _fail("nothing_to_undo", "no reveal to undo")
    case = state.reveals[-1]
    if state.current != case:
        _must_be_free(state)  # the undone case becomes current again: nothing else in play
    return [{"type": "reveal_undone", "data": {"case": case, "reason": reason}}]


def _show(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    screen = args.get("screen")
    if screen not in SCREENS:
        raise _fail("bad_args", f"screen must be one of {', '.join(SCREENS)}")
    group = None
    if screen in ("board", "awards"):
        group = _group_arg(contest, args.get("group"))
    if screen == "awards":
        assert group is not None
        _awards_ready(contest, state, group)
    return [{"type": "screen", "data": {"screen": screen, "group": group}}]


def _award_step(contest: Contest, state: FinalState, args: Mapping[str, Any]) -> list[Event]:
    group = args.get("group", state.screen_group)
    if state.screen != "awards" or group != state.screen_group:
        raise _fail("not_showing_awards", "show the group's awards on the big screen first")
    group = _group_arg(contest, group)
    _awards_ready(contest, state, group)
    if state.awards.get(group, 0) >= len(prize_levels(contest, group)):
        raise _fail("awards_complete", "every prize of this group has been announced")
    return [{"type": "award_step", "data": {"group": group}}]


_HOST = {
    "stage": _stage,
    "next": _next,
    "timer": _timer,
    "open": _open,
    "close": _close,
    "reveal": _reveal,
    "reopen": _reopen,
    "void": _void,
    "absent": _absent,
    "present": _present,
    "move": _move,
    "skip": _skip,
    "resolve_tie": _resolve_tie,
    "undo_reveal": _undo_reveal,
    "show": _show,
    "award_step": _award_step,
}
assert set(_HOST) == set(HOST_ACTIONS)


# --- apply ---


def _with_case(state: FinalState, case: str, **changes: Any) -> FinalState:
    cases = dict(state.cases)
    cases[case] = replace(cases[case], **changes)
    return replace(state, cases=cases)


def _timer_event(contest: Contest, timer: Timer, data: Mapping[str, Any], at: int) -> Timer:
    op = data["op"]
    if op in ("start", "resume"):
        return replace(timer, running_since=at)
    if op == "pause":
        since = timer.running_since if timer.running_since is not None else at
        return replace(timer, running_since=None, elapsed_ms=timer.elapsed_ms + at - since)
    if op == "add":
        return replace(timer, duration_ms=max(0, timer.duration_ms + data["seconds"] * 1000))
    seconds = data.get("seconds", contest.timing.present_seconds)
    return Timer(duration_ms=seconds * 1000)


def apply(contest: Contest, state: FinalState, event: Mapping[str, Any]) -> FinalState:
    """Fold one event into the state. Unknown event types only advance ``seq``."""
    kind, data, at = event["type"], event.get("data", {}), int(event.get("at", 0))
    state = replace(state, seq=int(event.get("seq", state.seq + 1)))
    if kind == "staged":
        case = data["case"]
        if state.current and _status(state, state.current) == "on_stage":
            state = _with_case(state, state.current, status="waiting")
        state = _with_case(state, case, status="on_stage")
        return replace(
            state,
            current=case,
            screen="auto",
            screen_group=None,
            timer=Timer(duration_ms=contest.timing.present_seconds * 1000),
        )
    if kind == "timer":
        return replace(state, timer=_timer_event(contest, state.timer, data, at))
    if kind in ("opened", "reopened"):
        state = _with_case(state, data["case"], status="scoring")
        if kind == "opened" and state.timer.running_since is not None:
            # Opening scoring ends the presentation: its countdown stops where it stood.
            state = replace(state, timer=_timer_event(contest, state.timer, {"op": "pause"}, at))
        return state
    if kind == "closed":
        return _with_case(state, data["case"], status="closed")
    if kind == "scored":
        case = state.cases[data["case"]]
        score = Score({k: Decimal(v) for k, v in data["values"].items()}, Decimal(data["total"]), at)
        return _with_case(state, data["case"], scores={**case.scores, data["judge"]: score})
    if kind == "voided":
        scores = dict(state.cases[data["case"]].scores)
        scores.pop(data["judge"], None)
        return _with_case(state, data["case"], scores=scores)
    if kind == "revealed":
        case = data["case"]
        result = case_aggregate(contest, state.cases[case])
        means = criterion_means(state.cases[case].scores)
        state = _with_case(state, case, status="revealed", result=result, means=means)
        return replace(state, reveals=(*state.reveals, case), screen="auto", screen_group=None)
    if kind == "reveal_undone":
        case = data["case"]
        group = contest.case(case).group
        if state.current not in (None, case) and _status(state, state.current) == "on_stage":
            state = _with_case(state, state.current, status="waiting")
        state = _with_case(state, case, status="closed", result=None, means={})
        awards = {g: n for g, n in state.awards.items() if g != group}
        return replace(
            state, reveals=state.reveals[:-1], awards=awards, current=case, screen="auto", screen_group=None
        )
    if kind == "judge_absent":
        return replace(state, absent={**state.absent, data["judge"]: data["reason"]})
    if kind == "judge_present":
        return replace(state, absent={j: r for j, r in state.absent.items() if j != data["judge"]})
    if kind == "moved":
        order = [c for c in state.order if c != data["case"]]
        after = data["after"]
        order.insert(order.index(after) + 1 if after is not None else 0, data["case"])
        return replace(state, order=tuple(order))
    if kind == "skipped":
        state = _with_case(state, data["case"], status="skipped")
        if state.current == data["case"]:
            state = replace(state, timer=replace(state.timer, running_since=None))
        return state
    if kind == "tie_resolved":
        group, chosen = data["group"], tuple(data["order"])
        kept = tuple(c for c in state.tie_orders.get(group, ()) if c not in chosen)
        return replace(state, tie_orders={**state.tie_orders, group: kept + chosen})
    if kind == "screen":
        return replace(state, screen=data["screen"], screen_group=data["group"])
    if kind == "award_step":
        group = data["group"]
        return replace(state, awards={**state.awards, group: state.awards.get(group, 0) + 1})
    return state


# Errors a malformed (or tampered) stored event can raise in apply.
REPLAY_ERRORS = (RuleError, KeyError, TypeError, ValueError, ArithmeticError, AttributeError, IndexError)


class ReplayError(Exception):
    """A stored event that cannot be folded into the state: which one, and why."""

    def __init__(self, event: Mapping[str, Any], cause: Exception) -> None:
        super().__init__(f"event {event.get('seq')}: cannot be replayed ({event.get('type')}): {cause!r}")
        self.event = event
        self.cause = cause


def contest_from_log(events: Sequence[Mapping[str, Any]]) -> Contest:
    """The contest a log was created with, read from its first event alone."""
    if not events or events[0].get("type") != CREATED:
        raise ContestError([Problem("type", "the log does not start with a 'created' event")], "log event 1")
    data = events[0].get("data")
    if not isinstance(data, Mapping) or "contest" not in data:
        raise ContestError([Problem("data.contest", "the 'created' event holds no contest")], "log event 1")
    return parse_contest(data["contest"], "log event 1")


def replay(
    contest: Contest, events: Iterable[Mapping[str, Any]], state: FinalState | None = None
) -> FinalState:
    """The fold: the state after ``events``, from ``state`` or the start of the final.

    Raises ReplayError naming the first event that cannot be applied."""
    state = initial_state(contest) if state is None else state
    for event in events:
        try:
            state = apply(contest, state, event)
        except REPLAY_ERRORS as exc:
            raise ReplayError(event, exc) from exc
    return state
