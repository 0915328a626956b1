"""Server settings are declared once (live/settings.py): docs/settings.md is their table, every
environment variable the code reads is one of them, and the CLI takes defaults from them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from live import settings
from live.cli import build_parser
from live.settings import SETTINGS, markdown_table

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "settings.md"


def test_docs_hold_the_table_the_settings_make() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert markdown_table() in text, "docs/settings.md is out of date: paste `python -m live.settings`"
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.M))
    assert documented == {s.name for s in SETTINGS}


def test_names_env_variables_and_flags_are_unique() -> None:
    for attr in ("name", "env", "flag"):
        values = [getattr(s, attr) for s in SETTINGS if getattr(s, attr)]
        assert len(values) == len(set(values)), attr


def test_every_environment_variable_the_code_reads_is_a_setting() -> None:
    read: set[str] = set()
    for path in (ROOT / "live").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        read |= set(re.findall(r"environ(?:\.get\(|\[)\s*[\"']([A-Z0-9_]+)[\"']", source))
    assert read <= {s.env for s in SETTINGS}, read - {s.env for s in SETTINGS}


def test_value_reads_the_environment_and_says_which_variable_is_wrong() -> None:
    assert settings.PORT.value({}) == 8000
    assert settings.PORT.value({"PORT": ""}) == 8000  # empty is unset
    assert settings.PORT.value({"PORT": "9001"}) == 9001
    assert settings.ALLOW_ORIGIN.value({"LIVE_ALLOW_ORIGIN": "https://a, https://b,"}) == (
        "https://a",
        "https://b",
    )
    assert settings.LOG_LEVEL.value({"LIVE_LOG_LEVEL": "WARNING"}) == "warning"
    assert settings.RATE.value({"RATE": "1"}) == 20.0  # a built-in limit has no variable
    with pytest.raises(ValueError, match="PORT='abc'"):
        settings.PORT.value({"PORT": "abc"})
    with pytest.raises(ValueError, match="LIVE_LOG_LEVEL"):
        settings.LOG_LEVEL.value({"LIVE_LOG_LEVEL": "loud"})


def test_serve_options_default_to_the_settings_and_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for s in SETTINGS:
        if s.env:
            monkeypatch.delenv(s.env, raising=False)
    args = build_parser().parse_args(["serve"])
    assert (args.store, args.contest, args.host, args.port) == (
        settings.STORE.default,
        None,
        "0.0.0.0",
        8000,
    )
    assert (args.workers, args.allow_origin, args.log_level) == (1, [], "info")

    monkeypatch.setenv("LIVE_STORE", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("LIVE_ALLOW_ORIGIN", "https://a.example")
    args = build_parser().parse_args(["serve", "--allow-origin", "https://b.example"])
    assert (args.store, args.port) == ("redis://127.0.0.1:6379/3", 9001)
    assert args.allow_origin == ["https://a.example", "https://b.example"]
    assert build_parser().parse_args(["serve", "--port", "7000"]).port == 7000
    assert build_parser().parse_args(["tokens"]).store == "redis://127.0.0.1:6379/3"


def test_a_bad_variable_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from live.cli import main

    monkeypatch.setenv("PORT", "eighty")
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "PORT='eighty'" in err
    assert "Traceback" not in err
