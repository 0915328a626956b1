"""Rebuild a final from its log alone: check the hash chain, replay every event, and report.

Nothing here trusts the hub's state: the contest itself is read from the log's first event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from live import chain
from live.contest import Contest, ContestError, parse_contest
from live.final import FinalState, group_placings, replay

CREATED = "created"


@dataclass(frozen=True)
class Report:
    ok: bool
    head: str
    events: int
    problem: str = ""
    contest: Contest | None = None
    state: FinalState | None = None


def contest_from_log(events: Sequence[Mapping[str, Any]]) -> Contest:
    if not events or events[0].get("type") != CREATED:
        raise ContestError([], "the log does not start with a 'created' event")
    return parse_contest(events[0]["data"]["contest"], "log event 1")


def verify_events(epoch: str, events: Sequence[Mapping[str, Any]],
                  expected_head: str | None = None) -> Report:
    head, brk = chain.check(epoch, events)
    if brk is not None:
        return Report(False, head, len(events), f"event {brk.seq}: {brk.reason}")
    if expected_head and head != expected_head:
        return Report(False, head, len(events),
                      f"head hash {head} differs from the published {expected_head}"
                      " (events were removed from the end, or added)")
    try:
        contest = contest_from_log(events)
        state = replay(contest, events)
    except ContestError as exc:
        return Report(False, head, len(events), f"event 1: {exc}")
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        return Report(False, head, len(events), f"replay failed: {exc!r}")
    return Report(True, head, len(events), contest=contest, state=state)


def results_text(contest: Contest, state: FinalState) -> str:
    lines = [contest.title]
    for group in contest.groups:
        lines.append(f"\n{group.name} ({group.key})")
        for p in group_placings(contest, state, group.key):
            result = state.cases[p.case].result
            assert result is not None
            flag = " (tie at a prize boundary)" if p.boundary_tie else " (tie)" if p.tied else ""
            lines.append(f"  {p.rank:>3}  {result.final:>7}  {p.prize or '-':<6} {p.case}  "
                         f"{contest.case(p.case).title}{flag}")
        pending = [c.id for c in contest.group_cases(group.key)
                   if state.cases[c.id].status not in ("revealed", "skipped")]
        if pending:
            lines.append(f"  not revealed: {', '.join(pending)}")
    return "\n".join(lines)
