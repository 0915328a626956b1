"""``live export``: results, raw scores, corrections and the audit log of a final, to a file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from live.export.build import ExportError, build_export
from live.export.writers import FORMATS, render
from live.store import open_store, read_log, store_url


def cmd_export(args: argparse.Namespace) -> int:
    out = Path(args.output)
    fmt = args.format or {".xlsx": "xlsx", ".zip": "csv", ".csv": "csv"}.get(out.suffix.lower(), "json")
    if fmt == "csv" and out.suffix.lower() != ".zip":
        print("live export: the csv export is a zip of several CSV files: use -o NAME.zip", file=sys.stderr)
        return 2
    url = store_url(args.store)
    store = open_store(url)
    if store.missing():
        print(f"live export: no store at {url}", file=sys.stderr)
        return 1
    epoch, events = asyncio.run(read_log(store))
    try:
        export = build_export(epoch, events)
    except ExportError as exc:
        print(f"live export: the log does not verify: {exc}", file=sys.stderr)
        return 1
    out.write_bytes(render(export, fmt))
    state = "final" if export["finished"] else "NOT final: some cases are not revealed yet"
    print(
        f"wrote {out} ({fmt}, {out.stat().st_size} bytes): {export['title']}; {state}; head {export['head']}"
    )
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("export", help="export results, raw scores and the audit log (xlsx, csv zip or json)")
    p.add_argument("--store", required=True, help="store URL or SQLite file of the final")
    p.add_argument(
        "--format", choices=FORMATS, help="default: from the -o suffix (.xlsx, .zip/.csv, else json)"
    )
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.set_defaults(func=cmd_export)
