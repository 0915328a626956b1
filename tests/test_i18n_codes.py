"""Every refusal code the hub can send has a plain sentence in both languages of the pages."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    "live/final.py",
    "live/scoring.py",
    "live/app.py",
    "live/connection.py",
    "live/hub.py",
    "live/protocol.py",
]
CODE = re.compile(r'(?:_fail|RuleError|FrameError|Outcome)\(\s*"([a-z_]+)"')


def hub_codes() -> set[str]:
    codes: set[str] = set()
    for name in SOURCES:
        codes |= set(CODE.findall((ROOT / name).read_text()))
    codes.discard("ack")
    return codes


def sentences(lang: str) -> set[str]:
    text = (ROOT / "live/static/i18n.js").read_text()
    block = re.search(rf"\n  {lang}: \{{(.*?)\n  \}}", text, re.S)
    assert block, f"no {lang} block in i18n.js"
    return set(re.findall(r"^\s+([a-z_]+):", block.group(1), re.M))


def test_the_scan_finds_the_codes_it_should() -> None:
    codes = hub_codes()
    assert {"out_of_range", "scoring_closed", "id_reused", "bad_token", "tie_unresolved"} <= codes


def test_every_code_has_a_chinese_and_an_english_sentence() -> None:
    codes = hub_codes()
    for lang in ("zh", "en"):
        missing = codes - sentences(lang)
        assert not missing, f"{lang}: no sentence for {sorted(missing)}"
