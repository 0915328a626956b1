"""Reading a contest file from disk: YAML, plus any spreadsheets it names for cases and judges.

The rules of a contest live in ``live.contest`` (pure); this module only does the file I/O and
turns unreadable files into the same ``ContestError`` with a line and column.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from live.contest import Contest, ContestError, Problem, parse_contest
from live.importer import parse_with_tables

DEMO_PATH = Path(__file__).with_name("demo") / "contest.yaml"


def load_contest(path: str | Path) -> Contest:
    """Read a contest YAML file; unreadable or invalid YAML is a ContestError, not a traceback."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContestError([Problem("(file)", exc.strerror or str(exc))], str(path)) from None
    except UnicodeDecodeError as exc:
        raise ContestError(
            [Problem("(file)", f"not UTF-8 text (byte {exc.start}): save it as UTF-8")], str(path)
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise ContestError(
            [Problem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")], str(path)
        ) from None
    if isinstance(data, dict) and any(isinstance(data.get(k), str) for k in ("cases", "judges")):
        return parse_with_tables(data, path)  # cases: cases.xlsx, judges: judges.csv
    return parse_contest(data, str(path))


def demo_contest() -> Contest:
    return load_contest(DEMO_PATH)
