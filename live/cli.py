"""The ``live`` command: check a contest file, serve or demo a final, verify or export a log."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from live.contest import DEMO_PATH, ContestError, load_contest
from live.store import open_store, read_log
from live.verify import results_text, verify_events


def store_url(value: str) -> str:
    """Accept a store URL or a plain path to an SQLite file."""
    return value if "://" in value else f"sqlite:///{value}"


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


def cmd_verify(args: argparse.Namespace) -> int:
    source = args.log
    if source.endswith(".json") and Path(source).is_file():
        from live.export import verify_export  # type: ignore[import-not-found,unused-ignore]

        return int(verify_export(Path(source)))
    try:
        store = open_store(store_url(source))
    except (ValueError, ImportError) as exc:
        print(f"{source}: {exc}", file=sys.stderr)
        return 1
    path = getattr(store, "path", None)  # an SQLite file: never create or change it
    if isinstance(path, Path) and not path.is_file():
        print(f"{source}: no such file", file=sys.stderr)
        return 1
    try:
        epoch, events = asyncio.run(read_log(store))
    except Exception as exc:  # not a log at all (e.g. not an SQLite file): say so, no traceback
        print(f"{source}: cannot read the log: {exc}", file=sys.stderr)
        return 1
    report = verify_events(epoch, events, args.head)
    if not report.ok:
        print(f"FAILED: {report.problem}", file=sys.stderr)
        print(f"events read: {report.events}; chain intact up to hash {report.head}", file=sys.stderr)
        return 1
    assert report.contest is not None
    assert report.state is not None
    print(results_text(report.contest, report.state))
    print(f"\nverified {report.events} events; head hash {report.head}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="live", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="validate a contest file and list every problem")
    p.add_argument("contest", nargs="?", default=str(DEMO_PATH))
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("verify", help="replay a log, check its hash chain, print the results")
    p.add_argument("log", help="store URL, SQLite file, or an exported .json file")
    p.add_argument("--head", help="a published head hash: also catches a truncated log")
    p.set_defaults(func=cmd_verify)

    try:
        from live import serve_cli
    except ImportError:  # the hub is optional for check/verify-only installs
        pass
    else:
        serve_cli.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    try:
        return int(args.func(args) or 0)
    except ContestError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
