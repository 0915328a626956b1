"""``live check CONTEST.yaml``: validate a contest file and list every problem."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from live.contest import ContestError
from live.contest_file import DEMO_PATH, load_contest


def cmd_check(args: argparse.Namespace) -> int:
    try:
        contest = load_contest(args.contest)
    except ContestError as exc:
        print(f"{exc.source or args.contest}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for p in exc.problems:
            print(f"  {p.path}: {p.reason}", file=sys.stderr)
        return 1
    print(
        f"{args.contest}: ok: {contest.title}: {len(contest.groups)} groups, "
        f"{len(contest.cases)} cases, {len(contest.judges)} judges, "
        f"{len(contest.recusals)} recusal(s)"
    )
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="validate a contest file and list every problem")
    p.add_argument("contest", nargs="?", default=str(DEMO_PATH))
    p.set_defaults(func=cmd_check)
