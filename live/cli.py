"""The ``live`` command: check a contest file, serve or demo a final, verify or export a log."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from live.commands import check, copy, demo, export, init, serve, simulate, tokens, verify
from live.contest import ContestError

# In the order ``live --help`` lists them.
COMMANDS = (check, verify, serve, demo, tokens, simulate, copy, init, export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="live", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except ValueError as exc:  # a setting's environment variable that does not parse (PORT=abc)
        print(f"live: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
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
