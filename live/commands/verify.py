"""``live verify``: replay a stored log and check its hash chain, or recompute an exported .json."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from live.store import open_store, read_log
from live.verify import results_text, verify_events


def cmd_verify(args: argparse.Namespace) -> int:
    source = args.log
    if source.endswith(".json") and Path(source).is_file():
        from live.export.recheck import verify_export

        return verify_export(Path(source))
    try:
        store = open_store(source)
    except (ValueError, ImportError) as exc:
        print(f"{source}: {exc}", file=sys.stderr)
        return 1
    if store.missing():  # an SQLite file: never create or change it
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


def register(sub: Any) -> None:
    p = sub.add_parser("verify", help="replay a log, check its hash chain, print the results")
    p.add_argument("log", help="store URL, SQLite file, or an exported .json file")
    p.add_argument("--head", help="a published head hash: also catches a truncated log")
    p.set_defaults(func=cmd_verify)
