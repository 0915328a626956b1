"""The host console in headless Chromium against a real hub: a final run end to end from the
next-step button, every correction with its preview and audit entry, sign-in refusals, and
screenshots of each phase at 1366×768 (judges score through the protocol in a thread)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import segno
from conftest import LiveServer

from live.client import HubClient, Refused

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1366, "height": 768}
RUBRIC = (("innovation", 30), ("impact", 30), ("value", 20), ("delivery", 20))


def criteria(total: str) -> dict[str, str]:
    """Split a total over the mini rubric, filling criteria in order (all on the 0.5 step)."""
    left = Decimal(total)
    out = {}
    for key, top in RUBRIC:
        v = min(Decimal(top), left)
        out[key] = str(v)
        left -= v
    assert left == 0
    return out


class Panel:
    """The five judges (and a protocol host for set-up) on their own event loop thread."""

    def __init__(self, base: str, tokens: dict[str, Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.judges = {
            j: self.run(HubClient(base, "judge", tok).connect()) for j, tok in tokens["judges"].items()
        }
        self.host = self.run(HubClient(base, "host", tokens["host"]).connect())

    def run(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def wait_status(self, case: str, status: str) -> None:
        self.run(self.host.wait_for(lambda s: s["run"]["status"][case] == status))

    def score(self, case: str, totals: dict[str, str]) -> None:
        self.wait_status(case, "scoring")
        for judge, total in totals.items():
            self.run(self.judges[judge].score(case, criteria=criteria(total)))

    def command(self, action: str, **args: Any) -> dict[str, Any]:
        return self.run(self.host.command(action, **args))

    def presence(self, judge: str, battery: float) -> None:
        ws = self.judges[judge].ws
        assert ws is not None
        self.run(ws.send(json.dumps({"type": "presence", "battery": battery, "charging": False})))

    def close(self) -> None:
        for c in [*self.judges.values(), self.host]:
            self.run(c.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def http(base: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def public(base: str) -> dict[str, Any]:
    return http(base, "/api/view/display")[1]["state"]


def timer(base: str) -> dict[str, Any]:
    return public(base)["stage"]["timer"]


def eventually(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except (AssertionError, KeyError):
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def final(tmp_path: Path) -> Iterator[tuple[LiveServer, dict[str, Any], Panel]]:
    srv = LiveServer(f"sqlite:///{tmp_path / 'final.db'}").start()
    tokens = srv.tokens()
    panel = Panel(srv.base, tokens)
    try:
        yield srv, tokens, panel
    finally:
        panel.close()
        srv.stop()


def open_console(browser: Any, base: str, token: str) -> Any:
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.goto(f"{base}/console")
    page.fill("#token", token)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#app:not([hidden])")
    page.wait_for_selector(".conn.online")
    return page


def next_step(page: Any, label: str, confirm: bool = False, key: bool = False) -> None:
    button = page.locator("#next-step")
    page.wait_for_function(
        "([label]) => { const b = document.querySelector('#next-step');"
        " return !b.disabled && b.textContent.includes(label); }",
        arg=[label],
    )
    if key:
        page.keyboard.press("n")
    else:
        button.click()
    if confirm:
        page.wait_for_selector("#confirm[open]")
        page.click("#confirm-ok")


def audit(base: str, token: str, case: str | None = None) -> dict[str, Any]:
    status, body = http(base, f"/console/api/audit{f'?case={case}' if case else ''}", token)
    assert status == 200
    return body


# Hand-computed: drop one highest and one lowest, average the other three, round half up.
A_SCORES = {
    "a1": ({"j1": "80", "j2": "85", "j3": "90", "j4": "70", "j5": "88"}, "84.33"),  # 253/3
    "a2": ({"j1": "75", "j2": "78.5", "j3": "92", "j4": "81", "j5": "77"}, "78.83"),  # 236.5/3
    "a3": ({"j1": "90", "j2": "91", "j3": "89.5", "j4": "95", "j5": "60"}, "90.17"),  # 270.5/3
}


def test_run_three_cases_from_the_console(browser: Any, final: Any, shots: Path) -> None:
    srv, tokens, panel = final
    page = open_console(browser, srv.base, tokens["host"])
    assert tokens["host"] not in page.url
    panel.presence("j2", 0.42)
    page.wait_for_selector("[data-judge=j2] .battery:has-text('42%')")
    page.screenshot(path=str(shots / "console-01-idle.png"))

    for n, (case, (totals, expected)) in enumerate(A_SCORES.items()):
        title = {"a1": "甲一案例", "a2": "甲二案例", "a3": "甲三案例"}[case]
        next_step(page, title)
        panel.wait_status(case, "on_stage")
        assert eventually(lambda case=case: public(srv.base)["stage"]["case"] == case)
        page.wait_for_selector(f".case.current[data-case={case}]")
        if n == 0:
            page.screenshot(path=str(shots / "console-02-on-stage.png"))
        next_step(page, "开始计时", key=True)  # the keyboard shortcut
        assert eventually(lambda: public(srv.base)["stage"]["timer"]["running_since"])
        assert eventually(lambda: public(srv.base)["screen"]["view"] == "stage")
        if n == 0:  # the timer controls: pause, +30 s, resume
            page.click("[data-timer=pause]")
            assert eventually(lambda: timer(srv.base)["running_since"] is None)
            # +N s, N as the hub's own check says (the button sends exactly that)
            added_ms = 1000 * int(re.search(r"\d+", page.inner_text("[data-timer=add]")).group())
            page.click("[data-timer=add]")
            assert eventually(lambda added_ms=added_ms: timer(srv.base)["duration_ms"] == 300_000 + added_ms)
            assert page.locator("[data-timer=pause]").is_disabled()  # not running: says why
            assert page.locator("[data-timer=pause]").get_attribute("title") == "计时器未在运行"  # hub's
            page.click("[data-timer=resume]")
            assert eventually(lambda: timer(srv.base)["running_since"] is not None)
        next_step(page, "开放评分")
        panel.score(case, totals)
        assert eventually(lambda: public(srv.base)["screen"]["view"] == "scoring")
        page.wait_for_selector(f"#would-be:text-is('{expected}')")
        if n == 0:
            dropped = page.locator("#tab-scores tr.dropped").evaluate_all(
                "rows => rows.map(r => r.dataset.judge)"
            )
            assert sorted(dropped) == ["j3", "j4"]
            page.screenshot(path=str(shots / "console-03-scoring.png"))
        next_step(page, "截止评分（已交 5/5）")
        panel.wait_status(case, "closed")
        # Reveal asks first: it cannot be taken back without an audited undo.
        page.wait_for_function("() => !document.querySelector('#next-step').disabled")
        page.click("#next-step")
        page.wait_for_selector("#confirm[open]")
        assert expected in page.inner_text("#confirm-text")
        if n == 0:
            page.screenshot(path=str(shots / "console-04-confirm-reveal.png"))
        page.click("#confirm-ok")
        panel.wait_status(case, "revealed")
        view = eventually(
            lambda case=case: public(srv.base) if public(srv.base)["result"]["case"] == case else None
        )
        assert view["result"]["final"] == expected
        assert view["screen"]["view"] == "reveal"
        if n == 0:
            assert set(view["result"]["dropped_high"] + view["result"]["dropped_low"]) == {"j3", "j4"}
            page.screenshot(path=str(shots / "console-05-revealed.png"))

    board = public(srv.base)["board/a"]
    assert [(r["case"], r["rank"], r["final"], r["prize"]) for r in board["rows"]] == [
        ("a3", 1, "90.17", "一等奖"),
        ("a1", 2, "84.33", "二等奖"),
        ("a2", 3, "78.83", "三等奖"),
    ]
    assert board["final"] is True

    # The awards sequence, step by step from the big-screen tab.
    page.click("[data-tab=screen]")
    page.click("[data-group=a] button:has-text('显示排名')")
    assert eventually(lambda: public(srv.base)["screen"] == {"mode": "board", "view": "board", "group": "a"})
    page.click("[data-group=a] button:has-text('颁奖')")
    assert eventually(lambda: public(srv.base)["screen"]["view"] == "awards")
    for k in range(1, 4):
        page.click("[data-group=a] button.primary")
        page.wait_for_selector("#confirm[open]")
        page.click("#confirm-ok")
        assert eventually(lambda k=k: public(srv.base)["awards"]["groups"]["a"]["shown"] == k)
    levels = public(srv.base)["awards"]["groups"]["a"]["levels"]
    assert [(lv["prize"], [c["case"] for c in lv["cases"]]) for lv in levels] == [
        ("三等奖", ["a2"]),
        ("二等奖", ["a1"]),
        ("一等奖", ["a3"]),
    ]
    assert page.locator("[data-group=a] button.primary").is_disabled()
    page.screenshot(path=str(shots / "console-06-awards.png"))
    page.click("[data-tab=boards]")
    page.screenshot(path=str(shots / "console-07-boards.png"))

    page.click("nav .lang-toggle")
    page.wait_for_selector("[data-tab=boards]:text-is('Rankings')")
    page.click("[data-tab=audit]")
    page.wait_for_selector("#audit-table tbody tr")
    page.screenshot(path=str(shots / "console-08-audit-en.png"))
    page.context.close()


def fix(
    page: Any, opener: str, fill: Callable[[Any], None] | None, reason: str, shot: Path | None = None
) -> Any:
    """Open a correction, let its preview arrive, give the reason, confirm; returns the preview."""
    page.click(opener)
    page.wait_for_selector("#fix[open]")
    if fill:
        fill(page)
    page.wait_for_selector("#fix-preview :is(table, p.muted:not(:has-text('…')), .refusal)")
    assert page.locator("#fix-ok").is_disabled()  # no reason yet
    page.fill("#fix-reason", reason)
    page.wait_for_function("() => !document.querySelector('#fix-ok').disabled")
    preview = page.locator("#fix-preview")
    text = preview.inner_text()
    if shot:
        page.screenshot(path=str(shot))
    page.click("#fix-ok")
    page.wait_for_selector("#fix", state="hidden")
    return text


def last_event(base: str, token: str, kind: str) -> dict[str, Any]:
    events = [e for e in audit(base, token)["events"] if e["type"] == kind]
    assert events, f"no {kind} event in the audit log"
    return events[-1]


B_SCORES = {"j1": "80", "j2": "82", "j3": "84", "j4": "86", "j5": "88"}  # kept 82, 84, 86: 84.00


def test_corrections_preview_audit_and_tie(browser: Any, final: Any, shots: Path) -> None:
    srv, tokens, panel = final
    host = tokens["host"]
    base = srv.base
    page = open_console(browser, base, host)

    # Move b3 after b1 (from its run-of-show row), with a reason.
    def after_b1(p: Any) -> None:
        p.select_option("#fix-after", "b1")

    text = fix(page, "[data-case=b3] button:has-text('移动')", after_b1, "主讲人晚到")
    assert "排名不变" in text
    assert eventually(lambda: public(base)["run"]["order"][3:] == ["b1", "b3", "b2"])
    ev = last_event(base, host, "moved")
    assert (ev["data"]["case"], ev["data"]["after"], ev["reason"]) == ("b3", "b1", "主讲人晚到")

    # Skip b3.
    fix(page, "[data-case=b3] button:has-text('跳过')", None, "主讲人缺席")
    assert eventually(lambda: public(base)["run"]["status"]["b3"] == "skipped")
    assert last_event(base, host, "skipped")["reason"] == "主讲人缺席"

    # b1 scored and revealed through the protocol host.
    panel.command("stage", case="b1")
    panel.command("open")
    panel.score("b1", B_SCORES)
    panel.command("close")
    panel.command("reveal")
    # b2: j5 mistypes 60, so the would-be is 82.00 (60 and 86 dropped).
    panel.command("stage", case="b2")
    panel.command("open")
    panel.score("b2", {**B_SCORES, "j5": "60"})
    panel.command("close")
    page.wait_for_selector("#would-be:text-is('82.00')")

    # Void j5's score from the judges panel: the preview shows the would-be change.
    head_before = audit(base, host)["head"]
    text = fix(
        page,
        "[data-judge=j5] button:has-text('作废')",
        None,
        "评委误触",
        shots / "console-09-void-preview.png",
    )
    assert "82.00 → 83.00" in text  # j1..j4: drop 80 and 86, (82+84)/2
    ev = last_event(base, host, "voided")
    assert (ev["data"]["judge"], ev["case"], ev["reason"]) == ("j5", "b2", "评委误触")
    assert ev["seq"] == head_before["seq"] + 1  # the previews stored nothing
    page.wait_for_selector("#would-be:text-is('83.00')")

    # Re-open from the corrections tab; j5 scores again; the tie is made.
    page.click("[data-tab=fix]")
    fix(page, "#tab-fix button:has-text('重新开放评分')", None, "作废后重新评分")
    assert last_event(base, host, "reopened")["reason"] == "作废后重新评分"
    panel.wait_status("b2", "scoring")
    panel.score("b2", {"j5": "88"})
    panel.command("close")
    panel.command("reveal")
    board = eventually(lambda: public(base)["board/b"] if len(public(base)["board/b"]["rows"]) == 2 else None)
    assert [(r["case"], r["rank"], r["final"], r["boundary_tie"]) for r in board["rows"]] == [
        ("b1", 1, "84.00", True),
        ("b2", 1, "84.00", True),
    ]

    # The tie at the prize boundary blocks the awards until resolved.
    with pytest.raises(Refused) as refused:
        panel.command("show", screen="awards", group="b")
    assert refused.value.code == "tie_unresolved"
    page.click("[data-tab=screen]")
    awards_b = page.locator("[data-group=b] button:has-text('颁奖')")
    assert awards_b.is_disabled()
    assert "并列" in page.inner_text("[data-group=b]")
    page.wait_for_selector("#current .alert[data-group=b]")  # where the host is looking
    page.click("[data-tab=boards]")
    page.wait_for_selector("#tab-boards .warn")
    page.screenshot(path=str(shots / "console-10-tie.png"))

    def b2_first(p: Any) -> None:
        p.wait_for_selector("#tie-order li")
        assert p.locator("#tie-order li").evaluate_all("l => l.map(x => x.dataset.case)") == ["b1", "b2"]
        p.click("#tie-order li:first-child button:has-text('↓')")
        p.wait_for_selector("#fix-preview table.diff")

    text = fix(
        page,
        "#tab-boards button:has-text('裁定并列')",
        b2_first,
        "抽签决定",
        shots / "console-11-resolve-tie.png",
    )
    assert "1. 84.00 一等奖" in text
    assert "2. 84.00 二等奖" in text
    ev = last_event(base, host, "tie_resolved")
    assert (ev["data"]["order"], ev["reason"]) == (["b2", "b1"], "抽签决定")
    board = public(base)["board/b"]
    assert [(r["case"], r["rank"], r["prize"], r["boundary_tie"]) for r in board["rows"]] == [
        ("b2", 1, "一等奖", False),
        ("b1", 2, "二等奖", False),
    ]
    page.click("[data-tab=screen]")
    page.click("[data-group=b] button:has-text('颁奖')")
    assert eventually(lambda: public(base)["screen"] == {"mode": "awards", "view": "awards", "group": "b"})

    # Mark j4 absent from the judges panel.
    fix(page, "[data-judge=j4] button:has-text('缺席')", None, "临时离场")
    assert last_event(base, host, "judge_absent")["data"] == {"judge": "j4", "reason": "临时离场"}
    page.wait_for_selector("[data-judge=j4] .badge.absent")

    # Undo the last reveal: b2 goes back to closed and leaves the board.
    page.click("[data-tab=fix]")
    text = fix(
        page,
        "#tab-fix button:has-text('撤销上一次揭晓')",
        None,
        "揭晓错误",
        shots / "console-12-undo-preview.png",
    )
    assert "已揭晓 → 已截止" in text
    assert eventually(lambda: public(base)["run"]["status"]["b2"] == "closed")
    ev = last_event(base, host, "reveal_undone")
    assert (ev["case"], ev["reason"]) == ("b2", "揭晓错误")
    rows = public(base)["board/b"]["rows"]
    assert [(r["case"], r["rank"], r["prize"]) for r in rows] == [("b1", 1, "一等奖")]

    # The audit view filters by case and shows the head hash.
    b2 = audit(base, host, "b2")
    kinds = [e["type"] for e in b2["events"]]
    assert {"voided", "reopened", "tie_resolved", "reveal_undone"} <= set(kinds)
    assert "moved" not in kinds  # b3 moved after b1: nothing to do with b2
    assert all(
        e["case"] == "b2" or "b2" in (e["data"].get("order") or []) or e["data"].get("after") == "b2"
        for e in b2["events"]
    )
    assert b2["chain_ok"] is True
    page.click("[data-tab=audit]")
    page.select_option("#audit-case", "b2")
    page.wait_for_selector("#audit-table tbody tr[data-type=reveal_undone]")
    assert b2["head"]["hash"][:16] in page.inner_text("#audit-head")
    assert page.locator("#audit-table tbody tr").count() == len(b2["events"])
    page.screenshot(path=str(shots / "console-13-audit.png"))
    page.context.close()


def test_preview_api_stores_nothing_and_reports_refusals(final: Any) -> None:
    srv, tokens, _panel = final
    host = tokens["host"]
    head = audit(srv.base, host)["head"]
    status, body = http(srv.base, "/console/api/preview", host, {"action": "reveal", "args": {}})
    assert status == 200
    assert body["ok"] is False
    assert body["error"]["code"] == "no_current_case"
    status, body = http(
        srv.base, "/console/api/preview", host, {"action": "skip", "args": {"case": "a2", "reason": "缺席"}}
    )
    assert body["ok"] is True
    assert body["case"]["status_before"] == "waiting"
    assert body["case"]["status_after"] == "skipped"
    assert [g["group"] for g in body["groups"]] == ["a"]
    assert http(srv.base, "/console/api/preview", host, {"args": {}})[0] == 400
    assert audit(srv.base, host)["head"] == head
    assert public(srv.base)["run"]["status"]["a2"] == "waiting"


def test_wrong_or_judge_token_refused(browser: Any, final: Any, shots: Path) -> None:
    srv, tokens, _panel = final
    base = srv.base
    judge_token = tokens["judges"]["j1"]
    for path in ("/console/api/audit", "/console/api/cards"):
        assert http(base, path)[0] == 401
        assert http(base, path, "wrong")[0] == 401
        assert http(base, path, judge_token)[0] == 401
        assert http(base, path, tokens["host"])[0] == 200
    assert http(base, "/console/api/preview", None, {"action": "next"})[0] == 401
    assert http(base, "/console/api/preview", judge_token, {"action": "next"})[0] == 401

    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.goto(f"{base}/console")
    for bad in ("not-the-token", judge_token):
        page.fill("#token", bad)
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#signin-error:has-text('令牌无效')")
        assert page.locator("#app").is_hidden()
        assert page.evaluate("localStorage.getItem('live.console.token')") is None
    page.screenshot(path=str(shots / "console-00-signin-refused.png"))

    # The right token is typed once: a reload signs in from storage, never via the address.
    page.fill("#token", tokens["host"])
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#app:not([hidden])")
    page.reload()
    page.wait_for_selector("#app:not([hidden])")
    assert tokens["host"] not in page.url

    # Judge cards: one per judge, the QR code of <base>/pad#t=<code>, and the code itself.
    cards = ctx.new_page()
    cards.goto(f"{base}/console/cards")
    cards.wait_for_selector(".card .qr svg")
    assert cards.locator(".card").count() == 5
    _, data = http(base, "/console/api/cards", tokens["host"])
    for card in data["cards"]:
        code = tokens["judges"][card["id"]]
        assert card["url"] == f"{base}/pad#t={code}"
        assert card["svg"] == segno.make(card["url"], error="m").svg_inline(scale=4, border=2, omitsize=True)
        assert cards.locator(f"[data-judge={card['id']}] .code strong").inner_text() == code
    cards.screenshot(path=str(shots / "console-14-cards.png"), full_page=True)
    cards.emulate_media(media="print")
    cards.screenshot(path=str(shots / "console-15-cards-print.png"), full_page=True)
    ctx.close()
