"""The comments (点评) countdown: a contest with ``comment_seconds`` gets a console button that
resets the shared timer to that length and starts it; every screen counts it down alike."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import MINI, LiveServer
from test_console import open_console

pytestmark = pytest.mark.browser


@pytest.fixture
def commented(tmp_path: Path) -> Iterator[LiveServer]:
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["timing"]["comment_seconds"] = 180
    contest = tmp_path / "commented.yaml"
    contest.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    srv = LiveServer(f"sqlite:///{tmp_path / 'final.db'}", contest=contest).start()
    try:
        yield srv
    finally:
        srv.stop()


def stage_timer(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/api/view/display", timeout=5) as r:
        return dict(json.load(r)["state"]["stage"]["timer"])


def test_comment_countdown_from_the_console(browser: Any, commented: LiveServer) -> None:
    page = open_console(browser, commented.base, commented.tokens()["host"])
    button = page.locator("#comment-timer")
    assert "03:00" in button.inner_text()
    assert button.is_disabled()  # nothing on stage yet
    page.click("#next-step")  # put the first case on stage
    page.wait_for_function("() => !document.querySelector('#comment-timer').disabled")
    button.click()
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm-ok")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        timer = stage_timer(commented.base)
        if timer["running_since"] is not None:
            break
        time.sleep(0.1)
    assert timer["duration_ms"] == 180_000
    assert timer["elapsed_ms"] == 0
    assert timer["running_since"] is not None
    page.context.close()


def test_no_comment_button_without_comment_seconds(
    browser: Any, server: LiveServer, tokens: dict[str, Any]
) -> None:
    page = open_console(browser, server.base, tokens["host"])
    assert page.locator("#comment-timer").is_hidden()
    page.context.close()
