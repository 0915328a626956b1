"""The big screen (/display) and the audience page (/live) in headless Chromium, driven through
a mini-final over the real protocol: the right screen at each step, the hub's numbers after
each reveal, secrecy while scoring, reconnecting after a server restart, and the demo autopilot.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from live.client import HubClient
from tests.conftest import MINI, LiveServer, free_port

pytestmark = pytest.mark.browser

# Every total is unique in the whole test and none is a substring of a final, so finding one
# in a frame or the DOM can only mean that case's scores leaked. Finals worked out by hand:
# drop the highest and the lowest, average the rest, round half up to 2 decimals.
SCORES: dict[str, dict[str, str]] = {
    "a1": {"j1": "81.5", "j2": "77.5", "j3": "90.5", "j4": "68.5", "j5": "84.5"},
    "a2": {"j1": "88.5", "j2": "91.5", "j3": "86.5", "j4": "93.5", "j5": "79.5"},
    "a3": {"j1": "72.5", "j2": "75.5", "j3": "70.5", "j4": "74.5", "j5": "95.5"},
    "b1": {"j1": "66.5", "j2": "71.5", "j3": "69.5", "j4": "73.5", "j5": "62.5"},
    "b2": {"j1": "85.5", "j2": "83.5", "j3": "89.5", "j4": "80.5", "j5": "87.5"},
    "b3": {"j1": "63.5", "j2": "78.5", "j3": "92.5", "j4": "61.5"},  # j5 is recused from b3
}
FINAL = {"a1": "81.17", "a2": "88.83", "a3": "74.17", "b1": "69.17", "b2": "85.50", "b3": "71.00"}
HIGH_LOW = {
    "a1": ("j3", "j4"),
    "a2": ("j4", "j5"),
    "a3": ("j5", "j3"),
    "b1": ("j4", "j5"),
    "b2": ("j3", "j4"),
    "b3": ("j3", "j4"),
}


def criteria(total: str) -> dict[str, str]:
    """Split a total over the mini rubric (30/30/20/20, step 0.5): 18 + 18 + the rest halved."""
    rest = Decimal(total) - 36
    innovation = (rest / 2 / Decimal("0.5")).to_integral_value() * Decimal("0.5")
    return {"innovation": str(innovation), "impact": str(rest - innovation), "value": "18", "delivery": "18"}


class Drive:
    """The host and the judges on the protocol, from an event loop in a background thread
    (Playwright's sync API owns the test's thread)."""

    def __init__(self, base: str, tokens: dict[str, Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.host = self.run(HubClient(base, "host", tokens["host"]).connect())
        self.judges = {
            j: self.run(HubClient(base, "judge", t).connect()) for j, t in tokens["judges"].items()
        }

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def cmd(self, action: str, **args: Any) -> dict[str, Any]:
        return self.run(self.host.command(action, **args))  # type: ignore[no-any-return]

    def score(self, case: str, judge: str) -> None:
        self.run(self.judges[judge].score(case, criteria=criteria(SCORES[case][judge])))

    def close(self) -> None:
        if self.loop.is_closed():
            return
        for c in (self.host, *self.judges.values()):
            self.run(c.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One mini-final server for the walk-through (the restart test has its own)."""
    srv = LiveServer(f"sqlite:///{tmp_path_factory.mktemp('display') / 'final.db'}").start()
    try:
        yield srv
    finally:
        srv.stop()


def open_page(browser: Any, url: str, width: int, height: int, frames: list[str] | None = None) -> Any:
    """A page at this viewport; script errors land in ``page.errors``."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    if frames is not None:
        page.on(
            "websocket",
            lambda ws: ws.on(
                "framereceived",
                lambda payload: frames.append(payload if isinstance(payload, str) else payload.decode()),
            ),
        )
    page.goto(url)
    return page


def el(page: Any, name: str) -> Any:
    return page.locator(f'#stage [data-el="{name}"]')


def screen_is(page: Any, view: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#stage")).to_have_attribute("data-screen", view, timeout=10_000)


def assert_secret(case: str, page: Any, frames: list[str], since: int) -> None:
    """No total and no final of ``case`` in the DOM or in any frame since it went on stage."""
    html = page.content()
    text = page.locator("body").inner_text()
    received = "\n".join(frames[since:])
    for value in (*SCORES[case].values(), FINAL[case]):
        assert value not in html, f"{case}: {value} is in the DOM before the reveal"
        assert value not in text
        assert value not in received, f"{case}: {value} was sent to the page before the reveal"


def play_case(
    drive: Drive,
    page: Any,
    frames: list[str],
    audience: Any,
    aframes: list[str],
    case: str,
    shots: Path | None = None,
) -> None:
    """Open, score, close and reveal the case on stage; check the display at each step."""
    from playwright.sync_api import expect

    since, asince = len(frames), len(aframes)
    drive.cmd("open")
    screen_is(page, "scoring")
    judges = list(SCORES[case])
    expect(el(page, "scoringCount")).to_have_text(f"0 / {len(judges)}")
    for judge in {"j1", "j2", "j3", "j4", "j5"} - set(judges):
        expect(page.locator(f'.dot[data-judge="{judge}"]')).to_have_attribute("data-state", "recused")
    for n, judge in enumerate(judges, 1):
        drive.score(case, judge)
        expect(el(page, "scoringCount")).to_have_text(f"{n} / {len(judges)}")
        expect(page.locator(f'.dot[data-judge="{judge}"]')).to_have_attribute("data-state", "submitted")
    if shots:
        snap(page, shots / "display-scoring-1920x1080.png")
    drive.cmd("close")
    expect(el(page, "scoringStatus")).to_have_text("评分已截止 · 等待揭晓")
    expect(audience.locator(".now .status")).to_contain_text(f"{len(judges)} / {len(judges)}")
    assert_secret(case, page, frames, since)
    assert_secret(case, audience, aframes, asince)

    drive.cmd("reveal")
    screen_is(page, "reveal")
    expect(el(page, "finalValue")).to_have_attribute("data-done", "1", timeout=15_000)
    expect(el(page, "finalValue")).to_have_text(FINAL[case])
    totals = page.locator("#stage .total")
    expect(totals).to_have_count(len(judges))
    assert totals.locator(".total-value").all_inner_texts() == list(SCORES[case].values())
    high, low = HIGH_LOW[case]
    for judge in judges:
        item = page.locator(f'#stage .total[data-judge="{judge}"]')
        line = item.locator(".total-value").evaluate("n => getComputedStyle(n).textDecorationLine")
        struck = judge in (high, low)
        assert ("line-through" in line) == struck, (case, judge, line)
        if struck:
            expect(item.locator(".total-tag")).to_have_text("最高分" if judge == high else "最低分")
    # The reveal is now in what the page received: the secrecy check above had teeth.
    assert FINAL[case] in "\n".join(frames[since:])
    expect(audience.locator('.latest [data-el="final"]')).to_have_text(FINAL[case])
    expect(audience.locator(".latest s.v")).to_have_count(2)


def snap(page: Any, path: Path, settle_ms: int = 500) -> None:
    """A screenshot once the screen's entry animation is over."""
    page.wait_for_timeout(settle_ms)
    page.screenshot(path=str(path))


def board_rows(page: Any) -> list[str]:
    return page.locator("#stage .board .row").evaluate_all("rows => rows.map(r => r.dataset.case)")


def test_display_walks_through_the_mini_final(browser: Any, hall: LiveServer, shots: Path) -> None:
    from playwright.sync_api import expect

    frames: list[str] = []
    aframes: list[str] = []
    # speed=5: the reveal's drama, five times faster, keeps the suite quick.
    page = open_page(browser, f"{hall.base}/display?speed=5", 1920, 1080, frames)
    audience = open_page(browser, f"{hall.base}/live", 390, 844, aframes)
    drive = Drive(hall.base, hall.tokens())
    try:
        screen_is(page, "welcome")
        expect(el(page, "welcomeTitle")).to_have_text("测试决赛")
        expect(el(page, "welcomeTheme")).to_have_text("测试主题")
        snap(page, shots / "display-welcome-1920x1080.png")

        # The first case of a group, timer not started: the "between groups" screen.
        drive.cmd("next")
        screen_is(page, "between")
        expect(el(page, "betweenGroup")).to_have_text("甲组")
        expect(el(page, "betweenTitle")).to_have_text("甲一案例")
        expect(el(page, "betweenMeta")).to_have_text("甲单位 · 张三")
        snap(page, shots / "display-between-1920x1080.png")

        drive.cmd("timer", op="start")
        screen_is(page, "stage")
        expect(el(page, "stageOrder")).to_have_text("1 / 3")
        expect(el(page, "stageTitle")).to_have_text("甲一案例")
        expect(el(page, "stageUnit")).to_have_text("甲单位")
        expect(el(page, "stagePresenter")).to_have_text("张三")
        expect(el(page, "timerClock")).to_have_text(re.compile(r"^0[45]:\d\d$"))
        snap(page, shots / "display-stage-1920x1080.png")
        audience.screenshot(path=str(shots / "audience-stage-390x844.png"), full_page=True)

        # The last minute warns; past zero the clock shows overtime as +mm:ss.
        drive.cmd("timer", op="reset", seconds=45)
        drive.cmd("timer", op="start")
        expect(el(page, "timer")).to_have_class(re.compile(r"\bwarn\b"))
        expect(el(page, "timerClock")).to_have_text(re.compile(r"^00:4\d$"))
        snap(page, shots / "display-stage-warning-1920x1080.png")
        drive.cmd("timer", op="reset", seconds=1)
        drive.cmd("timer", op="start")
        expect(el(page, "timer")).to_have_class(re.compile(r"\bover\b"))
        expect(el(page, "timerClock")).to_have_text(re.compile(r"^\+00:0\d$"))
        expect(el(page, "timerLabel")).to_have_text("已超时")
        snap(page, shots / "display-stage-overtime-1920x1080.png")

        play_case(drive, page, frames, audience, aframes, "a1")
        expect(el(page, "revealRank")).to_have_text("组内第 1 名")
        expect(el(page, "revealPrize")).to_have_text("一等奖 · 暂定")

        drive.cmd("show", screen="board", group="a")
        screen_is(page, "board")
        assert board_rows(page) == ["a1"]

        drive.cmd("next")  # not the first of its group: straight to the stage screen
        screen_is(page, "stage")
        expect(el(page, "stageOrder")).to_have_text("2 / 3")
        play_case(drive, page, frames, audience, aframes, "a2")
        expect(el(page, "revealRank")).to_have_text("组内第 1 名")
        snap(page, shots / "display-reveal-1920x1080.png")

        # a2 overtakes a1: on the board a1 slides down a place.
        drive.cmd("show", screen="board", group="a")
        screen_is(page, "board")
        assert board_rows(page) == ["a2", "a1"]
        expect(page.locator('#stage .row[data-case="a1"]')).to_have_class(re.compile(r"\bmoved\b"))
        expect(page.locator('#stage .row[data-case="a2"]')).to_have_class(re.compile(r"\benter\b"))
        expect(el(page, "boardMarker")).to_have_text("进行中")

        drive.cmd("next")
        play_case(drive, page, frames, audience, aframes, "a3")
        expect(el(page, "revealRank")).to_have_text("组内第 3 名")
        expect(el(page, "revealPrize")).to_have_text("三等奖")  # the group is complete: final

        drive.cmd("show", screen="board", group="a")
        screen_is(page, "board")
        assert board_rows(page) == ["a2", "a1", "a3"]
        rows = page.locator("#stage .board .row")
        assert rows.locator(".row-rank").all_inner_texts() == ["1", "2", "3"]
        assert rows.locator(".row-final").all_inner_texts() == ["88.83", "81.17", "74.17"]
        assert rows.locator(".row-prize").all_inner_texts() == ["一等奖", "二等奖", "三等奖"]
        expect(el(page, "boardMarker")).to_have_text("最终")
        snap(page, shots / "display-board-1920x1080.png", 1200)  # let the rows settle

        # Awards: third prize first, one level per award_step.
        drive.cmd("show", screen="awards", group="a")
        screen_is(page, "awards")
        expect(page.locator("#stage .awards-soon")).to_have_text("颁奖即将开始")
        announced = []
        for prize, case in (("三等奖", "a3"), ("二等奖", "a1"), ("一等奖", "a2")):
            drive.cmd("award_step")
            announced.append(prize)
            latest = page.locator("#stage .level.latest")
            expect(latest).to_have_attribute("data-prize", prize)
            expect(latest.locator(".award")).to_have_attribute("data-case", case)
            expect(page.locator("#stage .level")).to_have_count(len(announced))
        snap(page, shots / "display-awards-1920x1080.png", 1000)

        # Group b: between screen again; b3 has a recused judge (4 expected).
        drive.cmd("next")
        screen_is(page, "between")
        expect(el(page, "betweenGroup")).to_have_text("乙组")
        play_case(drive, page, frames, audience, aframes, "b1")
        drive.cmd("next")
        play_case(drive, page, frames, audience, aframes, "b2")
        drive.cmd("next")
        screen_is(page, "stage")
        play_case(drive, page, frames, audience, aframes, "b3", shots)
        expect(el(page, "revealRank")).to_have_text("组内第 2 名")
        expect(el(page, "revealPrize")).to_have_text("二等奖")

        # The audience page: latest result, and each group's standings as a tab.
        expect(audience.locator(".tabs button.on")).to_have_text("乙组")
        assert audience.locator(".boards .row").evaluate_all("rs => rs.map(r => r.dataset.case)") == [
            "b2",
            "b3",
            "b1",
        ]
        audience.screenshot(path=str(shots / "audience-390x844.png"), full_page=True)
        audience.locator(".tabs button", has_text="甲组").click()
        assert audience.locator(".boards .row").evaluate_all("rs => rs.map(r => r.dataset.case)") == [
            "a2",
            "a1",
            "a3",
        ]
        expect(audience.locator(".boards .marker")).to_have_text("最终")

        drive.cmd("show", screen="welcome")
        screen_is(page, "welcome")
        # The freshness mark follows the log position.
        expect(page.locator("#stage")).to_have_attribute("data-seq", str(drive.host.seq))
        expect(el(page, "freshText")).to_contain_text(f"#{drive.host.seq} · 更新")
        assert page.errors == []
        assert audience.errors == []
    finally:
        drive.close()
        page.close()
        audience.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1024, 768)])
def test_display_scales_to_other_projectors(
    browser: Any, hall: LiveServer, shots: Path, width: int, height: int
) -> None:

    page = open_page(browser, f"{hall.base}/display", width, height)
    drive = Drive(hall.base, hall.tokens())
    try:
        drive.cmd("show", screen="board", group="a")
        screen_is(page, "board")
        box = page.locator("#stage").bounding_box()
        scale = min(width / 1920, height / 1080)
        assert box["width"] == pytest.approx(1920 * scale, abs=1)
        assert box["height"] == pytest.approx(1080 * scale, abs=1)
        assert box["x"] >= -0.5
        assert box["y"] >= -0.5
        assert box["x"] + box["width"] <= width + 0.5
        assert box["y"] + box["height"] <= height + 0.5
        snap(page, shots / f"display-board-{width}x{height}.png", 1200)
    finally:
        drive.close()
        page.close()


def test_pages_switch_to_english(browser: Any, hall: LiveServer) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, f"{hall.base}/live?lang=en", 390, 844)
    big = open_page(browser, f"{hall.base}/display?lang=en", 1920, 1080)
    try:
        expect(page.locator('[data-i18n="latest"]')).to_have_text("Latest result")
        expect(page.locator('[data-el="lang"]')).to_have_text("中文")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(big.locator('[data-i18n="reconnecting"]')).to_have_text("Reconnecting…")
        expect(big.locator('[data-el="freshText"]')).to_contain_text("updated")
        page.locator('[data-el="lang"]').click()
        expect(page.locator('[data-i18n="latest"]')).to_have_text("最新揭晓")
    finally:
        page.close()
        big.close()


def test_display_says_it_is_reconnecting_and_recovers_after_restart(
    browser: Any, server: LiveServer, shots: Path
) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, f"{server.base}/display", 1920, 1080)
    drive = Drive(server.base, server.tokens())
    try:
        drive.cmd("next")
        drive.cmd("timer", op="start")
        screen_is(page, "stage")
        notice = page.locator('#stage [data-el="reconnect"]')
        expect(notice).to_be_hidden()
        drive.close()

        server.kill()
        killed = time.monotonic()
        expect(notice).to_be_visible(timeout=8_000)
        shown_after = time.monotonic() - killed
        assert shown_after >= 2.5, "the notice should not flash on a blip"
        expect(notice).to_contain_text("正在重新连接…")
        snap(page, shots / "display-reconnecting-1920x1080.png")

        server.start()
        started = time.monotonic()
        expect(notice).to_be_hidden(timeout=20_000)
        print(
            f"notice after {shown_after:.1f} s down; back {time.monotonic() - started:.1f} s "
            "after the restart"
        )
        screen_is(page, "stage")
        expect(el(page, "stageTitle")).to_have_text("甲一案例")
        # And it is live again: the next change reaches the screen.
        drive = Drive(server.base, server.tokens())
        drive.cmd("open")
        screen_is(page, "scoring")
        expect(el(page, "scoringCount")).to_have_text("0 / 5")
    finally:
        drive.close()
        page.close()


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def test_demo_autopilot_shows_every_screen(browser: Any, tmp_path: Path) -> None:
    """`live demo --autopilot` (here on the mini-final, fast pace) drives /display through
    every screen; the page records each data-screen it shows."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "demo.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "live",
            "demo",
            "--autopilot",
            "--pace",
            "0.1",
            "--contest",
            str(MINI),
            "--port",
            str(port),
            "--store",
            f"sqlite:///{tmp_path / 'd.db'}",
        ],
        stdout=log,
        stderr=log,
        env=os.environ.copy(),
    )
    page = None
    try:
        deadline = time.monotonic() + 20
        while not _healthy(base):
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.monotonic() < deadline, "demo did not start"
            time.sleep(0.05)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.add_init_script("""
            window.__screens = [];
            new MutationObserver(() => {
              const s = document.getElementById("stage");
              if (s && window.__screens.at(-1) !== s.dataset.screen) window.__screens.push(s.dataset.screen);
            }).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-screen"]});
        """)
        started = time.monotonic()
        page.goto(f"{base}/display")
        want = {"welcome", "between", "stage", "scoring", "reveal", "board", "awards"}
        seen: list[str] = []
        while time.monotonic() - started < 90:
            seen = page.evaluate("window.__screens")
            if want <= set(seen) and seen[-1] == "welcome" and "awards" in seen[-3:]:
                break
            page.wait_for_timeout(250)
        print(f"autopilot mini-final: {len(seen)} screen changes in {time.monotonic() - started:.1f} s")
        assert want <= set(seen), seen
    finally:
        if page is not None:
            page.close()
        proc.terminate()
        proc.wait(10)
        log.close()
