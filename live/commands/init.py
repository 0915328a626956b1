"""``live init DIR``: write a ready-to-edit contest file with template spreadsheets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from live.starter import init_dir


def cmd_init(args: argparse.Namespace) -> int:
    try:
        files = init_dir(Path(args.dir), args.force)
    except FileExistsError as exc:
        print(f"live init: already there: {exc} (use --force to overwrite)", file=sys.stderr)
        return 1
    for path in files:
        print(f"wrote {path}")
    print(f"next: edit them, then `live check {files[0]}`")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "init", help="write a ready-to-edit contest.yaml plus cases.xlsx and judges.xlsx templates"
    )
    p.add_argument("dir", nargs="?", default=".")
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(func=cmd_init)
