"""Rebuild a final from its log alone: check the hash chain, replay every event, and report.

Nothing here trusts the hub's state: the contest itself is read from the log's first event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from live import chain
from live.contest import Contest, ContestError
from live.final import FinalState, ReplayError, contest_from_log, group_placings, replay
from live.scoring import tie_note

TIE_TEXT = {"boundary_tie": " (tie at a prize boundary)", "tied": " (tie)", None: ""}


@dataclass(frozen=True)
class Report:
    ok: bool
    head: str
    events: int
    problem: str = ""
    contest: Contest | None = None
    state: FinalState | None = None


def verify_events(
    epoch: str, events: Sequence[Mapping[str, Any]], expected_head: str | None = None
) -> Report:
    head, brk = chain.check(epoch, events)
    if brk is not None:
        return Report(False, head, len(events), f"event {brk.seq}: {brk.reason}")
    if expected_head and head != expected_head:
        # Name the first event that differs from the published log: the one after the
        # published head when the log goes on past it, else the first one missing.
        at = next((e["seq"] for e in events if e.get("hash") == expected_head), None)
        if at is not None:
            where = (
                f"event {at + 1}: the log goes on past the published head (event {at});"
                " events were added after it was published"
            )
        else:
            where = (
                f"event {len(events) + 1}: missing: the log ends at event {len(events)} and"
                " the published head is not in it (events were removed from the end,"
                " or the log was rewritten)"
            )
        return Report(
            False, head, len(events), f"{where}; head hash {head} differs from the published {expected_head}"
        )
    try:
        contest = contest_from_log(events)
    except ContestError as exc:
        return Report(False, head, len(events), "event 1: " + "; ".join(str(p) for p in exc.problems))
    try:
        state = replay(contest, events)
    except ReplayError as exc:
        return Report(False, head, len(events), str(exc))
    return Report(True, head, len(events), contest=contest, state=state)


def results_text(contest: Contest, state: FinalState) -> str:
    lines = [contest.title]
    for group in contest.groups:
        lines.append(f"\n{group.name} ({group.key})")
        for p in group_placings(contest, state, group.key):
            result = state.cases[p.case].result
            assert result is not None
            flag = TIE_TEXT[tie_note(p)]
            lines.append(
                f"  {p.rank:>3}  {result.final:>7}  {p.prize or '-':<6} {p.case}  "
                f"{contest.case(p.case).title}{flag}"
            )
        pending = [
            c.id
            for c in contest.group_cases(group.key)
            if state.cases[c.id].status not in ("revealed", "skipped")
        ]
        if pending:
            lines.append(f"  not revealed: {', '.join(pending)}")
    return "\n".join(lines)
