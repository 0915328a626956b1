"""The judge pad in headless Chromium against a real hub: sign-in, following the hall, review and
receipt, revision and lock, the persistent outbox across reloads, recusal, a bad token.

One hub serves the whole module; the tests run the mini-final's cases in order (a1, a2, a3, b3,
then the end), and each leaves the current case revealed so the next can stage its own.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from live.client import HubClient
from live.store import open_store
from tests.conftest import MINI, LiveServer

pytestmark = pytest.mark.browser

SIZES = ((768, 1024), (1280, 800))
BOT_ENTRY = {"innovation": "24", "impact": "24", "value": "16", "delivery": "16"}


class Hall:
    """The host side for sync tests: a host HubClient on an event loop in its own thread."""

    def __init__(self, server: LiveServer, tokens: dict[str, Any]) -> None:
        self.server, self.tokens = server, tokens
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.host = self.run(HubClient(server.base, "host", tokens["host"]).connect())

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def cmd(self, action: str, **args: Any) -> dict[str, Any]:
        return self.run(self.host.command(action, **args))

    def state(self) -> dict[str, Any]:
        async def copy() -> dict[str, Any]:
            return dict(self.host.state)

        return self.run(copy())

    def wait(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        return self.run(self.host.wait_for(predicate, timeout), timeout + 5)

    def entry(self, judge: str) -> dict[str, Any] | None:
        return self.state()["scores"].get("entries", {}).get(judge)

    def bot_score(self, judge: str, case: str, criteria: dict[str, str] = BOT_ENTRY) -> None:
        async def score() -> None:
            async with HubClient(self.server.base, "judge", self.tokens["judges"][judge]) as c:
                await c.score(case, criteria=criteria)

        self.run(score())

    def scored_events(self, judge: str, case: str) -> int:
        """How many scores the log holds from ``judge`` for ``case`` (revisions count each)."""

        async def count() -> int:
            store = open_store(self.server.store)
            await store.open()
            try:
                events = await store.read(0)
            finally:
                await store.close()
            return sum(
                1
                for e in events
                if e["type"] == "scored" and e["data"]["case"] == case and e["data"]["judge"] == judge
            )

        return self.run(count())

    def stage_open(self, case: str, start_timer: bool = False) -> None:
        self.cmd("stage", case=case)
        if start_timer:
            self.cmd("timer", op="start")
        self.cmd("open")

    def finish(self, case: str) -> None:
        """Reveal the current case, topping up with bot scores so that it can be revealed."""
        state = self.state()
        if state["run"]["status"][case] == "closed" and len(state["progress"]["submitted"]) < 3:
            self.cmd("reopen", reason="test: top up")
            state = self.wait(lambda s: s["run"]["status"][case] == "scoring")
        if state["run"]["status"][case] == "scoring":
            progress = state["progress"]
            missing = [j for j in progress["expected"] if j not in progress["submitted"]]
            for judge in missing[: max(0, 3 - len(progress["submitted"]))]:
                self.bot_score(judge, case)
            self.cmd("close")
        self.cmd("reveal")
        self.wait(lambda s: s["run"]["status"][case] == "revealed")

    def stop(self) -> None:
        self.run(self.host.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    store = tmp_path_factory.mktemp("pad") / "final.db"
    server = LiveServer(f"sqlite:///{store}").start()
    hall = Hall(server, server.tokens())
    try:
        yield hall
    finally:
        hall.stop()
        server.stop()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    try:
        yield ctx
    finally:
        ctx.close()


def token(hall: Hall, judge: str) -> str:
    return str(hall.tokens["judges"][judge])


def open_pad(context: Any, hall: Hall, judge: str | None = None) -> Any:
    page = context.new_page()
    url = f"{hall.server.base}/pad" + (f"#t={token(hall, judge)}" if judge else "")
    page.goto(url)
    if judge:
        page.locator("#judge-name").wait_for(state="visible")
    return page


def snap(page: Any, shots: Path, name: str) -> None:
    """Both tablet layouts of the screen the pad shows now."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        page.screenshot(path=str(shots / f"pad-{name}-{width}x{height}.png"))
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


def expect_text(page: Any, selector: str, pattern: str, timeout: float = 10000) -> None:
    from playwright.sync_api import expect

    expect(page.locator(selector)).to_contain_text(re.compile(pattern), timeout=timeout)


def pick(page: Any, key: str, value: str) -> None:
    page.locator(f'.btn.pick[data-key="{key}"][data-value="{value}"]').click()


def step(page: Any, key: str, delta: str) -> None:
    page.locator(f'.btn.step[data-key="{key}"][data-delta="{delta}"]').click()


def enter_865(page: Any) -> None:
    """27.5 + 24 + 18 + 17 = 86.5, with quick picks and both step sizes."""
    pick(page, "innovation", "27")
    step(page, "innovation", "5")  # +0.5 (units of 0.1)
    pick(page, "impact", "24")
    pick(page, "value", "18")
    pick(page, "delivery", "18")
    step(page, "delivery", "-10")  # −1
    expect_text(page, "#live-total", r"^86\.5$")


def confirm_score(page: Any, title: str, total: str) -> None:
    page.locator("#submit").click()
    expect_text(page, "#review-q", rf"您将给《{title}》打 {re.escape(total)} 分，确认提交？")
    page.locator("#review-confirm").click()


def small_targets(page: Any) -> list[str]:
    """Visible buttons and inputs under 48 px in either dimension, at both tablet sizes."""
    found = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        found += page.evaluate("""() => [...document.querySelectorAll('button, input')]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.id || el.textContent.trim(), el.getBoundingClientRect()])
            .filter(([, r]) => r.width < 48 || r.height < 48)
            .map(([name, r]) => `${name} ${r.width}x${r.height}`)""")
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    return found


def outbox_len(page: Any) -> int:
    return int(
        page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('judge_pad.outbox.'))"
            ".reduce((n, k) => n + JSON.parse(localStorage.getItem(k)).length, 0)"
        )
    )


def reload_offline_then_online(context: Any, page: Any, hall: Hall) -> None:
    """The tablet reloads while the link is down (the page cannot load), then the link returns
    and the pad loads again: only what localStorage kept can deliver the score."""
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        page.reload()
    context.set_offline(False)
    page.goto(f"{hall.server.base}/pad")


# --- sign-in ---


def test_bad_token_shows_a_clear_message_and_the_code_form(hall: Hall, context: Any, shots: Path) -> None:
    page = open_pad(context, hall)
    page.locator("#code").wait_for(state="visible")
    assert small_targets(page) == []
    snap(page, shots, "login")
    page.goto(f"{hall.server.base}/pad#t=ZZZZZ-ZZZZZ")
    expect_text(page, "#login-error", "登录码无效")
    assert page.locator("#code").is_visible()
    assert page.evaluate("localStorage.getItem('judge_pad.token')") is None
    assert "#" not in page.url
    snap(page, shots, "login-bad-token")
    # A typed wrong code, on a fresh page: the same answer.
    page.close()
    page = open_pad(context, hall)
    assert page.locator("#login-error").is_hidden()
    page.locator("#code").fill("abcde-fghjk")
    page.locator("#login-go").click()
    expect_text(page, "#login-error", "登录码无效")
    assert page.locator("#pad").is_hidden()


def test_login_by_link_moves_the_token_to_storage_and_not_me_signs_out(
    hall: Hall, context: Any, shots: Path
) -> None:
    page = open_pad(context, hall, "j1")
    expect_text(page, "#judge-name", "评委一")
    assert page.url == f"{hall.server.base}/pad"
    assert page.evaluate("localStorage.getItem('judge_pad.token')") == token(hall, "j1")
    expect_text(page, "#conn", "在线")
    expect_text(page, "#msg-waiting", "请稍候")
    expect_text(page, "#up-next", "甲一案例")
    snap(page, shots, "waiting")
    # The token survives a reload; the address bar stays clean.
    page.reload()
    expect_text(page, "#judge-name", "评委一")
    if page.evaluate("typeof navigator.getBattery === 'function'"):
        hall.wait(lambda s: next(j for j in s["judges"] if j["id"] == "j1")["battery"] is not None)
    page.locator("#not-me").click()
    expect_text(page, "#sheet", "评委一")
    snap(page, shots, "sign-out")
    page.locator("#signout-yes").click()
    page.locator("#code").wait_for(state="visible")
    assert page.evaluate("localStorage.getItem('judge_pad.token')") is None
    assert page.locator("#who").is_hidden()


def test_login_by_typed_code_forgives_case_and_dashes(hall: Hall, context: Any, shots: Path) -> None:
    page = open_pad(context, hall)
    page.locator("#code").fill(token(hall, "j2").lower().replace("-", " "))
    page.locator("#login-go").click()
    expect_text(page, "#judge-name", "评委二")
    expect_text(page, "#msg-waiting", "请稍候")
    page.locator("#lang").click()
    expect_text(page, "#not-me", "Not me")
    expect_text(page, "#msg-waiting", "Please wait")
    snap(page, shots, "waiting-en")
    page.locator("#lang").click()
    expect_text(page, "#not-me", "不是我")


# --- scoring ---


def test_score_through_review_receipt_revision_and_lock(hall: Hall, context: Any, shots: Path) -> None:
    page = open_pad(context, hall, "j1")
    hall.cmd("stage", case="a1")
    hall.cmd("timer", op="start")
    expect_text(page, "#case-title", "甲一案例")
    expect_text(page, "#case-order", r"^1 / 3$")
    expect_text(page, ".case-card", "甲组")
    expect_text(page, ".case-card", "张三")
    expect_text(page, "#cd-clock", r"^0[45]:\d\d$")
    assert page.locator("#submit").is_disabled()
    snap(page, shots, "on-stage")

    hall.cmd("open")
    expect_text(page, "#submit", "还有 4 项未评分")
    enter_865(page)
    assert page.locator("#submit").is_enabled()
    assert small_targets(page) == []
    snap(page, shots, "entry")
    page.locator("#submit").click()
    expect_text(page, "#review-q", "您将给《甲一案例》打 86.5 分，确认提交？")
    snap(page, shots, "review")
    page.locator("#review-confirm").click()
    expect_text(page, "#received", r"已提交 ✓ \d\d:\d\d:\d\d")
    expect_text(page, "#receipt-total", r"^86\.5$")
    assert hall.wait(lambda s: "j1" in s["scores"]["entries"])["scores"]["entries"]["j1"]["values"] == {
        "innovation": "27.5",
        "impact": "24",
        "value": "18",
        "delivery": "17",
    }
    expect_text(page, ".mine-row.current", "86.5")
    snap(page, shots, "receipt")

    # Revision while open: prefilled with the sent values, acked the same way.
    page.locator("#revise").click()
    expect_text(page, '.stepper .value[data-key="innovation"]', r"^27\.5$")
    step(page, "innovation", "10")
    expect_text(page, "#live-total", r"^87\.5$")
    confirm_score(page, "甲一案例", "87.5")
    expect_text(page, "#receipt-total", r"^87\.5$")
    hall.wait(lambda s: s["scores"]["entries"].get("j1", {}).get("total") == "87.5")
    assert hall.scored_events("j1", "a1") == 2

    # Closed: the score is locked, nothing to revise.
    hall.cmd("close")
    expect_text(page, "#receipt", "已锁定")
    assert page.locator("#revise").count() == 0
    assert page.locator("#entry").count() == 0
    snap(page, shots, "locked")

    hall.finish("a1")
    expect_text(page, ".locked-title", "已揭晓")
    expect_text(page, "#up-next", "甲二案例")
    expect_text(page, '.mine-row[data-case="a1"]', "87.5")
    snap(page, shots, "revealed")


def test_score_confirmed_offline_survives_a_reload_and_counts_once(
    hall: Hall, context: Any, shots: Path
) -> None:
    hall.stage_open("a2")
    page = open_pad(context, hall, "j2")
    expect_text(page, "#case-title", "甲二案例")
    page.locator("#entry").wait_for()
    context.set_offline(True)
    expect_text(page, "#conn", "离线|重新连接")
    enter_865(page)
    confirm_score(page, "甲二案例", "86.5")
    expect_text(page, "#pending", "待发送")
    expect_text(page, "#outbox-badge", "待发送 1")
    expect_text(page, '.mine-row[data-case="a2"]', "待发送")
    snap(page, shots, "offline-pending")
    page.wait_for_timeout(500)
    assert hall.entry("j2") is None
    assert outbox_len(page) == 1

    reload_offline_then_online(context, page, hall)
    expect_text(page, "#received", "已提交 ✓")
    expect_text(page, "#receipt-total", r"^86\.5$")
    hall.wait(lambda s: "j2" in s["scores"]["entries"])
    assert outbox_len(page) == 0
    # Reloading again sends nothing more: exactly one score in the log.
    page.reload()
    expect_text(page, "#received", "已提交 ✓")
    page.wait_for_timeout(300)
    assert hall.scored_events("j2", "a2") == 1
    assert hall.entry("j2")["total"] == "86.5"
    hall.finish("a2")


def test_outbox_from_another_log_is_dropped_not_sent(hall: Hall, browser: Any) -> None:
    """A score left in a tablet's outbox by a rehearsal (another epoch) never reaches this final."""
    hall.stage_open("a3")
    ctx = browser.new_context(viewport={"width": 768, "height": 1024})
    try:
        page = open_pad(ctx, hall)
        code = token(hall, "j4").replace("-", "")
        page.evaluate(
            """([token, code, criteria]) => {
            localStorage.setItem('judge_pad.token', token);
            localStorage.setItem(`judge_pad.epoch.${code}`, 'rehearsal');
            localStorage.setItem(`judge_pad.outbox.${code}`, JSON.stringify([
                {type: 'score', id: 'stale-1', case: 'a3', criteria, queuedAt: 1}]));
        }""",
            [token(hall, "j4"), code, BOT_ENTRY],
        )
        page.reload()
        page.locator("#entry").wait_for()
        page.wait_for_timeout(500)
        assert outbox_len(page) == 0
        assert hall.entry("j4") is None
        assert hall.scored_events("j4", "a3") == 0
    finally:
        ctx.close()


def test_score_held_offline_after_scoring_closed_is_refused_and_shown(
    hall: Hall, context: Any, shots: Path
) -> None:
    hall.wait(lambda s: s["run"]["status"]["a3"] == "scoring")
    page = open_pad(context, hall, "j3")
    page.locator("#entry").wait_for()
    context.set_offline(True)
    expect_text(page, "#conn", "离线|重新连接")
    enter_865(page)
    confirm_score(page, "甲三案例", "86.5")
    expect_text(page, "#pending", "待发送")
    hall.cmd("close")

    reload_offline_then_online(context, page, hall)
    expect_text(page, ".notice.refused", "评分已截止，此分数未被计入")
    expect_text(page, ".notice.refused", "甲三案例")
    expect_text(page, "#case-status", "评分已截止")
    expect_text(page, '.mine-row[data-case="a3"]', "未计入")
    assert outbox_len(page) == 0
    snap(page, shots, "refused-closed")
    assert hall.entry("j3") is None
    assert hall.scored_events("j3", "a3") == 0
    page.locator(".notice.refused .btn").click()
    assert page.locator(".notice.refused").count() == 0
    hall.finish("a3")


def test_recused_judge_has_nothing_to_enter(hall: Hall, context: Any, shots: Path) -> None:
    page = open_pad(context, hall, "j5")
    hall.stage_open("b3")
    expect_text(page, "#msg-recused", "您已回避该案例")
    expect_text(page, "#case-title", "乙三案例")
    assert page.locator("#entry").count() == 0
    assert page.locator(".btn.step, .btn.pick, #submit").count() == 0
    expect_text(page, '.mine-row[data-case="b3"]', "已回避")
    snap(page, shots, "recused")
    hall.finish("b3")


def test_absent_judge_and_the_end_of_the_final(hall: Hall, context: Any, shots: Path) -> None:
    page = open_pad(context, hall, "j4")
    hall.cmd("absent", judge="j4", reason="test: left the hall")
    expect_text(page, "#msg-absent", "您已被标记为缺席")
    snap(page, shots, "absent")
    for case in ("b1", "b2"):
        hall.cmd("skip", case=case, reason="test: presenter absent")
    expect_text(page, "#msg-over", "决赛评分已全部结束")
    # Another tablet (its own storage) signed in as j1 sees the end and every score of theirs.
    other_context = context.browser.new_context(viewport={"width": 768, "height": 1024})
    try:
        other = open_pad(other_context, hall, "j1")
        expect_text(other, "#msg-over", "决赛评分已全部结束")
        expect_text(other, '.mine-row[data-case="a1"]', "87.5")
        expect_text(other, '.mine-row[data-case="b1"]', "已跳过")
        snap(other, shots, "final-over")
    finally:
        other_context.close()


def test_stepper_arithmetic_is_exact(hall: Hall, context: Any) -> None:
    """Steps of 0.1 and 0.01 add up without float error and stay on the grid within max."""
    page = open_pad(context, hall)
    got = page.evaluate("""async () => {
        const u = await import('/static/judge_pad/units.js');
        const d = u.rubricScale([{max: '30', step: '0.5'}, {max: '100', step: '0.01'}]);
        const c = u.prepare({key: 'x', max: '1', step: '0.1'}, 1);
        let v = 0;
        for (let i = 0; i < 3; i++) v = u.stepBy(v, c.stepU, c.maxU, c.stepU);
        return {d, tenths: u.fromUnits(v, 1), sum: u.fromUnits(u.toUnits('0.1', 2) + u.toUnits('0.2', 2), 2),
                capped: u.fromUnits(u.stepBy(295, 10, 300, 5), 1), floor: u.stepBy(0, -5, 300, 5),
                picks: u.prepare({max: '30', step: '0.5'}, 1).picks.map((p) => u.fromUnits(p, 1)),
                hundredths: u.fromUnits(u.toUnits('86.57', 2), 2)};
    }""")
    assert got == {
        "d": 2,
        "tenths": "0.3",
        "sum": "0.3",
        "capped": "30",
        "floor": 0,
        "picks": ["15", "18", "21", "24", "27", "30"],
        "hundredths": "86.57",
    }


def test_single_total_contest_sends_a_total(browser: Any, tmp_path: Path, shots: Path) -> None:
    """A contest scored by one total (max 100, step 0.01): 0.01 / 0.1 / 1 steps, a `total` frame."""
    text = MINI.read_text(encoding="utf-8")
    rubric = re.search(r"^rubric:\n(?:  - .*\n)+", text, re.M)
    assert rubric is not None
    contest = tmp_path / "single.yaml"
    text = text.replace(rubric.group(0), "total: {max: 100, step: 0.01}\n")
    contest.write_text(text.replace(', "criterion:innovation"', ""), encoding="utf-8")
    server = LiveServer(f"sqlite:///{tmp_path / 'single.db'}", contest=contest).start()
    hall = Hall(server, server.tokens())
    ctx = browser.new_context(viewport={"width": 768, "height": 1024})
    try:
        page = open_pad(ctx, hall, "j1")
        hall.stage_open("a1")
        pick(page, "total", "90")
        for delta in ("-100", "-100", "-100", "-10", "-10", "-10", "-10", "-1", "-1", "-1"):
            step(page, "total", delta)
        expect_text(page, "#live-total", r"^86\.57$")
        snap(page, shots, "single-total")
        confirm_score(page, "甲一案例", "86.57")
        expect_text(page, "#receipt-total", r"^86\.57$")
        assert (
            hall.wait(lambda s: "j1" in s["scores"]["entries"])["scores"]["entries"]["j1"]["total"] == "86.57"
        )
    finally:
        ctx.close()
        hall.stop()
        server.stop()
