"""The console's results menu: the 成绩公示 and 评分表 open as pages to print, and the exports
download, all fetched with the host token in a header (never in a URL)."""

from __future__ import annotations

import asyncio
import json
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer
from test_console import open_console

from live.client import HubClient

pytestmark = pytest.mark.browser

SCORE = {"innovation": "25", "impact": "25", "value": "15", "delivery": "15"}


async def play_one_case(server: LiveServer, tokens: dict[str, Any]) -> None:
    async with HubClient(server.base, "host", tokens["host"]) as host:
        await host.command("next")
        await host.command("open")
        for token in tokens["judges"].values():
            async with HubClient(server.base, "judge", token) as judge:
                await judge.score("a1", SCORE)
        await host.command("close")
        await host.command("reveal")


def test_results_menu_prints_and_exports(
    browser: Any, server: LiveServer, tokens: dict[str, Any], tmp_path: Path, shots: Path
) -> None:
    # Playwright's sync API holds this thread's event loop: play the case from another thread.
    worker = threading.Thread(target=lambda: asyncio.run(play_one_case(server, tokens)))
    worker.start()
    worker.join(60)
    page = open_console(browser, server.base, tokens["host"])
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))

    page.click("#results-menu summary")
    page.screenshot(path=str(shots / "console-results-menu.png"))
    with page.context.expect_page() as popup:
        page.click("[data-results=publication]")
    publication = popup.value
    publication.wait_for_load_state()
    text = publication.inner_text("body")
    assert "成绩公示" in text
    assert "甲一案例" in text
    assert "80.00" in text  # five equal totals of 80: the trimmed mean is 80.00
    publication.screenshot(path=str(shots / "console-results-publication.png"), full_page=True)

    page.click("#results-menu summary")
    with page.expect_download() as download:
        page.click("[data-results='export.json']")
    saved = tmp_path / "results.json"
    download.value.save_as(saved)
    data = json.loads(saved.read_text())
    assert data["head"] in text  # the printed page carries the same head hash

    page.click("#results-menu summary")
    with page.expect_download() as download:
        page.click("[data-results='export.csv']")
    zipped = tmp_path / "results.zip"
    download.value.save_as(zipped)
    assert any(n.endswith(".csv") for n in zipfile.ZipFile(zipped).namelist())

    assert not [u for u in requested if tokens["host"] in u]  # the token never went in a URL
    page.context.close()
