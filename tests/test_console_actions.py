"""The console enables a host-action button exactly when the hub would accept that action: a
final on tests/data/mini.yaml walked through the console, and at every step every
`[data-check]` button's enabled state compared with the hub's own answer (the host-only
preview endpoint runs decide on the hub's state) for the command the button stands for."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import LiveServer
from test_console import Panel, criteria, open_console

from live.final import REASON_ACTIONS

pytestmark = pytest.mark.browser

PLACEHOLDER = "probe"  # the reason the host would type in the dialog
GENERIC = ("void", "absent", "present", "skip", "move", "resolve_tie")


def post(base: str, path: str, token: str, body: Any) -> Any:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def get(base: str, path: str) -> Any:
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.load(r)


class Hub:
    """The hub's answer to a command, from the preview endpoint (nothing is stored)."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.contest = get(base, "/api/view/display")["state"]["contest"]

    def accepts(self, action: str, args: dict[str, Any]) -> bool:
        if action in REASON_ACTIONS:
            args = {**args, "reason": PLACEHOLDER}
        answer = post(self.base, "/console/api/preview", self.token, {"action": action, "args": args})
        return bool(answer["ok"])

    def tied_order(self, group: str) -> list[str]:
        """The cases sharing a rank on the group's public board (a prize-boundary tie first)."""
        rows = get(self.base, "/api/view/display")["state"][f"board/{group}"]["rows"]
        blocks: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            if r["tied"]:
                blocks.setdefault(r["rank"], []).append(r)
        ordered = sorted(blocks.values(), key=lambda b: (not b[0]["boundary_tie"], b[0]["rank"]))
        return [r["case"] for r in ordered[0]] if ordered else []

    def commands(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        """What a button's key stands for, written from the protocol (not from the view)."""
        cases = [c["id"] for c in self.contest["cases"]]
        judges = [j["id"] for j in self.contest["judges"]]
        groups = [g["key"] for g in self.contest["groups"]]
        head, _, rest = key.partition(":")
        if head == "timer":
            op = {"comment": "reset"}.get(rest, rest)
            args: dict[str, Any] = {"op": op}
            if rest == "add":
                args["seconds"] = 30
            if rest == "comment":
                args["seconds"] = self.contest["comment_seconds"]
            return [("timer", args)]
        if head in ("stage", "skip") and rest:
            return [(head, {"case": rest})]
        if head == "move" and rest:
            return [("move", {"case": rest, "after": None})]
        if head in ("void", "absent", "present") and rest:
            return [(head, {"judge": rest})]
        if head == "resolve_tie" and rest:
            return [("resolve_tie", {"group": rest, "order": self.tied_order(rest)})]
        if head == "award_step":
            return [("award_step", {"group": rest})]
        if head == "show":
            screen, _, group = rest.partition(":")
            return [("show", {"screen": screen, **({"group": group} if group else {})})]
        if head in GENERIC:  # a corrections-tab entry: any target will do
            many = {"void": judges, "absent": judges, "present": judges, "skip": cases, "move": cases}
            if head == "resolve_tie":
                return [c for g in groups for c in self.commands(f"resolve_tie:{g}")]
            return [c for target in many[head] for c in self.commands(f"{head}:{target}")]
        return [(head, {})]  # open, close, reveal, next, reopen, undo_reveal


class Tally:
    def __init__(self) -> None:
        self.compared = 0
        self.enabled = 0
        self.disabled = 0
        self.keys: set[str] = set()
        self.next_step = 0


def settle(page: Any, base: str) -> None:
    """Wait until the console shows the hub's latest event."""
    seq = get(base, "/api/view/display")["seq"]
    page.wait_for_function(f"() => Number(document.body.dataset.seq) >= {seq}", timeout=10000)
    page.wait_for_timeout(50)


def compare(page: Any, hub: Hub, tally: Tally, step: str) -> None:
    settle(page, hub.base)
    buttons = page.locator("[data-check]").evaluate_all(
        "bs => bs.filter(b => b.dataset.check).map(b => ({key: b.dataset.check, disabled: b.disabled, "
        "next: b.id === 'next-step', hidden: b.hidden}))"
    )
    assert buttons, step
    for b in buttons:
        if b["hidden"]:
            continue
        accepted = any(hub.accepts(a, args) for a, args in hub.commands(b["key"]))
        assert accepted == (not b["disabled"]), (
            f"{step}: button {b['key']} is {'disabled' if b['disabled'] else 'enabled'} but the hub "
            f"{'accepts' if accepted else 'refuses'} it"
        )
        tally.compared += 1
        tally.keys.add(b["key"].split(":")[0])
        tally.next_step += b["next"]
        if b["disabled"]:
            tally.disabled += 1
        else:
            tally.enabled += 1


@pytest.fixture
def walk(tmp_path: Any) -> Iterator[tuple[LiveServer, dict[str, Any], Panel]]:
    srv = LiveServer(f"sqlite:///{tmp_path / 'final.db'}").start()
    tokens = srv.tokens()
    panel = Panel(srv.base, tokens)
    try:
        yield srv, tokens, panel
    finally:
        panel.close()
        srv.stop()


def press_next(page: Any) -> None:
    page.wait_for_function("() => !document.querySelector('#next-step').disabled")
    page.click("#next-step")
    if page.locator("#confirm[open]").count():  # close early and reveal ask first (synchronously)
        page.click("#confirm-ok")


def correction(page: Any, opener: str, reason: str = "测试") -> None:
    page.click(opener)
    page.wait_for_selector("#fix[open]")
    page.fill("#fix-reason", reason)
    page.wait_for_function("() => !document.querySelector('#fix-ok').disabled")
    page.click("#fix-ok")
    page.wait_for_selector("#fix", state="hidden")


def test_every_button_matches_the_hubs_answer_through_a_final(browser: Any, walk: Any) -> None:
    srv, tokens, panel = walk
    page = open_console(browser, srv.base, tokens["host"])
    hub = Hub(srv.base, tokens["host"])
    tally = Tally()
    compare(page, hub, tally, "idle")
    # Group a with a few corrections on the way; group b ends in a tie for first place.
    totals = {
        "a1": {"j1": "80", "j2": "85", "j3": "90", "j4": "70", "j5": "88"},
        "a2": {"j1": "75", "j2": "78.5", "j3": "92", "j4": "81", "j5": "77"},
        "a3": {"j1": "90", "j2": "91", "j3": "89.5", "j4": "95", "j5": "60"},
        "b1": {"j1": "80", "j2": "80", "j3": "80", "j4": "80", "j5": "80"},
        "b2": {"j1": "80", "j2": "80", "j3": "80", "j4": "80", "j5": "80"},
        "b3": {"j1": "70", "j2": "71", "j3": "72", "j4": "73"},
    }
    for case in ("a1", "a2", "a3", "b1", "b2", "b3"):
        press_next(page)  # next: on stage
        panel.wait_status(case, "on_stage")
        compare(page, hub, tally, f"{case} on stage")
        press_next(page)  # timer start
        compare(page, hub, tally, f"{case} timer running")
        page.click("[data-check='timer:pause']")
        compare(page, hub, tally, f"{case} timer paused")
        press_next(page)  # open
        panel.wait_status(case, "scoring")
        compare(page, hub, tally, f"{case} scoring, none in")
        scores = totals[case]
        first = dict(list(scores.items())[:2])
        for judge, total in first.items():
            panel.run(panel.judges[judge].score(case, criteria=criteria(total)))
        compare(page, hub, tally, f"{case} scoring, two in")
        if case == "a2":  # void a score from the judges panel, then mark j4 absent and back
            correction(page, "[data-judge=j1] [data-check='void:j1']")
            compare(page, hub, tally, "a2 after void")
            panel.run(panel.judges["j1"].score(case, criteria=criteria(scores["j1"])))
            correction(page, "[data-judge=j4] [data-check='absent:j4']")
            compare(page, hub, tally, "a2 with j4 absent")
            correction(page, "[data-judge=j4] [data-check='present:j4']")
            compare(page, hub, tally, "a2 with j4 back")
        for judge, total in scores.items():
            if judge not in first:
                panel.run(panel.judges[judge].score(case, criteria=criteria(total)))
        compare(page, hub, tally, f"{case} scoring, all in")
        press_next(page)  # close
        panel.wait_status(case, "closed")
        compare(page, hub, tally, f"{case} closed")
        if case == "a3":  # reopen and close again
            page.click("[data-tab=fix]")
            correction(page, "#tab-fix [data-check='reopen']")
            panel.wait_status(case, "scoring")
            compare(page, hub, tally, "a3 reopened")
            press_next(page)
            panel.wait_status(case, "closed")
        press_next(page)  # reveal
        panel.wait_status(case, "revealed")
        compare(page, hub, tally, f"{case} revealed")
        if case == "a1":  # undo the reveal, and reveal again
            page.click("[data-tab=fix]")
            correction(page, "#tab-fix [data-check='undo_reveal']")
            panel.wait_status(case, "closed")
            compare(page, hub, tally, "a1 reveal undone")
            press_next(page)
            panel.wait_status(case, "revealed")
        page.click("[data-tab=screen]")
        compare(page, hub, tally, f"{case} screen tab")
    # b1 and b2 tie for the only first prize: awards wait for the host's ruling.
    compare(page, hub, tally, "all revealed, tie open")
    correction(page, "#current [data-check='resolve_tie:b']")
    compare(page, hub, tally, "tie resolved")
    page.click("[data-tab=screen]")
    for group in ("a", "b"):
        page.click(f"[data-check='show:awards:{group}']")
        compare(page, hub, tally, f"awards {group} shown")
        for _ in range(4):
            step = page.locator(f"[data-check='award_step:{group}']")
            if step.is_disabled():
                break
            step.click()
            page.click("#confirm-ok")
            compare(page, hub, tally, f"awards {group} step")
    page.click("[data-check='show:auto']")
    compare(page, hub, tally, "back to auto")
    print(
        f"compared {tally.compared} buttons ({tally.enabled} enabled, {tally.disabled} disabled, "
        f"{tally.next_step} next-step) over kinds {sorted(tally.keys)}"
    )
    assert tally.compared > 1000
    assert tally.enabled > 200
    assert tally.disabled > 200
    assert tally.next_step > 30
    assert {"timer", "open", "close", "reveal", "next", "stage", "skip", "move"} <= tally.keys
    assert {"void", "absent", "present"} <= tally.keys
    assert {"resolve_tie", "show", "award_step", "reopen", "undo_reveal"} <= tally.keys
    page.context.close()
