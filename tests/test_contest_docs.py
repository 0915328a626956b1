"""Every field the contest loader accepts is documented in docs/contest.md, and nothing more."""

from __future__ import annotations

import re
from pathlib import Path

from live.contest import TOP_SPEC

DOC = Path(__file__).resolve().parent.parent / "docs" / "contest.md"


def test_every_contest_field_is_documented() -> None:
    table = DOC.read_text().split("## Fields", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    assert documented == set(TOP_SPEC)
