"""Shared helpers for the hub-core tests: a small contest, and a driver for the state machine.

Imported as ``from core_helpers import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from live.contest import Contest, parse_contest
from live.contest_file import DEMO_PATH
from live.final import Command, FinalState, apply, decide, initial_state
from live.scoring import RuleError

ROOT = Path(__file__).resolve().parent.parent

# Five judges, drop 1 and 1 (so 3 scores are needed); criteria a (max 10) and b (max 20).
# j5 is recused from c2 explicitly; j4 shares a unit with c3 and is recused from it by unit.
MINI: dict[str, Any] = {
    "title": "Mini final",
    "rubric": [
        {"key": "a", "name": "A", "max": 10, "step": 0.5},
        {"key": "b", "name": "B", "max": 20, "step": 1},
    ],
    "aggregation": {"method": "trimmed_mean", "drop": 1, "decimals": 2},
    "tie_break": ["unrounded", "criterion:a"],
    "timing": {"present_seconds": 300, "comment_seconds": 60},
    "groups": [
        {"key": "g1", "name": "Group one", "prizes": {"first": 1, "second": 1}},
        {"key": "g2", "name": "Group two", "prizes": {"first": 1}},
    ],
    "judges": [{"id": f"j{i}", "name": f"Judge {i}", "unit": f"unit-{i}"} for i in range(1, 6)],
    "cases": [
        {"id": "c1", "group": "g1", "title": "Case one", "unit": "u1", "presenter": "P1"},
        {"id": "c2", "group": "g1", "title": "Case two", "unit": "u2"},
        {"id": "c3", "group": "g1", "title": "Case three", "unit": "unit-4"},
        {"id": "c4", "group": "g2", "title": "Case four", "unit": "u4"},
    ],
    "recusals": [{"judge": "j5", "case": "c2"}],
}

# The sections only the host's view has (the protocol's contract, docs/protocol.md).
HOST_ONLY = frozenset(
    ("scores", "judges", "corrections", "actions", "actions/cases", "actions/judges", "actions/groups")
)


def mini_dict(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINI)
    data.update(copy.deepcopy(changes))
    return data


def mini_contest(**changes: Any) -> Contest:
    return parse_contest(mini_dict(**changes))


def demo_dict() -> dict[str, Any]:
    return yaml.safe_load(DEMO_PATH.read_text(encoding="utf-8"))


def crit(a: str, b: str) -> dict[str, Any]:
    """A score body for MINI's rubric."""
    return {"criteria": {"a": a, "b": b}}


class Final:
    """Drives decide/apply the way the hub does: events get a seq and a clock time."""

    def __init__(self, contest: Contest | None = None, start: int = 1_000_000) -> None:
        self.contest = contest or mini_contest()
        self.state: FinalState = initial_state(self.contest)
        self.events: list[dict[str, Any]] = []
        self.history: list[FinalState] = []  # the state after each event
        self.now = start

    def tick(self, ms: int) -> None:
        self.now += ms

    def do(self, actor: str, action: str, **args: Any) -> list[dict[str, Any]]:
        out = decide(self.contest, self.state, Command(actor, action, args, self.now))
        stored = []
        for event in out:
            row = {**event, "seq": len(self.events) + 1, "at": self.now, "actor": actor}
            self.state = apply(self.contest, self.state, row)
            self.events.append(row)
            self.history.append(self.state)
            stored.append(row)
        return stored

    def host(self, action: str, **args: Any) -> list[dict[str, Any]]:
        return self.do("host", action, **args)

    def score(self, judge: str, case: str, a: str, b: str) -> list[dict[str, Any]]:
        return self.do(judge, "score", case=case, **crit(a, b))

    def refused(self, actor: str, action: str, **args: Any) -> str:
        """The error code of a refused command; the state must not have changed."""
        before = self.state
        try:
            decide(self.contest, self.state, Command(actor, action, args, self.now))
        except RuleError as exc:
            assert self.state is before
            return exc.code
        raise AssertionError(f"{action} {args} by {actor} was not refused")

    def run_case(self, case: str, scores: Mapping[str, tuple[str, str]], reveal: bool = True) -> None:
        """Stage, open, score, close and (optionally) reveal one case."""
        self.host("stage", case=case)
        self.host("open")
        for judge, (a, b) in scores.items():
            self.score(judge, case, a, b)
        if self.state.cases[case].status == "scoring":
            self.host("close")
        if reveal:
            self.host("reveal")


def D(value: str | int) -> Decimal:
    return Decimal(str(value))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m live ARGS`` in a subprocess, as an organiser would run it."""
    return subprocess.run(
        [sys.executable, "-m", "live", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd or ROOT,
        timeout=60,
        check=False,
    )
