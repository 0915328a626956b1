"""A judge marked absent by mistake, or back from a break, is marked present again from the
console's judges panel, with a reason that lands in the audit log."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from conftest import LiveServer
from test_console import open_console

pytestmark = pytest.mark.browser


def host_view(server: LiveServer, token: str) -> dict[str, Any]:
    req = urllib.request.Request(
        f"{server.base}/console/api/audit", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        return dict(json.load(r))


def fix(page: Any, reason: str) -> None:
    page.wait_for_selector("#fix[open]")
    page.fill("#fix-reason", reason)
    page.wait_for_function("() => !document.querySelector('#fix-ok').disabled")
    page.click("#fix-ok")
    page.wait_for_selector("#fix", state="hidden")


def test_absent_then_present_from_the_judges_panel(
    browser: Any, server: LiveServer, tokens: dict[str, Any]
) -> None:
    page = open_console(browser, server.base, tokens["host"])
    j2 = page.locator('#judges [data-judge="j2"]')
    j2.get_by_role("button", name="缺席").click()
    fix(page, "临时离场")
    j2.locator(".badge.absent").wait_for()
    j2.get_by_role("button", name="恢复出席").click()
    fix(page, "已返回会场")
    j2.locator(".badge.absent").wait_for(state="detached")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        kinds = [
            (e["type"], (e.get("data") or {}).get("reason"))
            for e in host_view(server, tokens["host"])["events"]
        ]
        if ("judge_present", "已返回会场") in kinds:
            break
        time.sleep(0.1)
    assert ("judge_absent", "临时离场") in kinds
    assert ("judge_present", "已返回会场") in kinds
    page.context.close()
