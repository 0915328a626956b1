"""Simulated judges and an autopilot host, for demos, rehearsals and load: they speak the same
protocol as the tablets and the console, against any running hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import urllib.request
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from live.client import HubClient, Refused
from live.scoring import plain


def plausible_entry(contest: dict[str, Any], case: str, judge: str, rng: random.Random) -> dict[str, str]:
    """A case has a hidden quality; each judge sees it with a little noise, snapped to step."""
    quality = random.Random(f"quality:{case}").uniform(0.62, 0.95)
    values = {}
    for c in contest["rubric"]:
        mx, step = Decimal(c["max"]), Decimal(c["step"])
        share = min(1.0, max(0.0, rng.gauss(quality, 0.05)))
        raw = (mx * Decimal(str(round(share, 4))) / step).to_integral_value(ROUND_FLOOR) * step
        values[c["key"]] = plain(min(mx, raw))
    return values


def _frame_body(contest: dict[str, Any], entry: dict[str, str]) -> dict[str, Any]:
    if contest.get("single"):
        return {"total": entry["total"]}
    return {"criteria": entry}


async def judge_loop(
    base: str,
    judge: str,
    token: str,
    seed: int | None = None,
    delay: tuple[float, float] = (0.2, 1.5),
    stop: asyncio.Event | None = None,
) -> int:
    """Score every open case once, reconnecting on trouble; return how many scores were acked."""
    rng = random.Random(seed if seed is not None else judge)
    scored: set[str] = set()
    acked = 0
    while not (stop and stop.is_set()):
        client = HubClient(base, "judge", token)
        try:
            await client.connect()
            while not (stop and stop.is_set()):
                state = await client.wait_for(
                    lambda s: _wants_score(s, scored) is not None or s["run"]["finished"], timeout=3600
                )
                if state["run"]["finished"]:
                    return acked
                case = _wants_score(state, scored)
                assert case is not None
                await asyncio.sleep(rng.uniform(*delay))
                entry = plausible_entry(state["contest"], case, judge, rng)
                try:
                    await client.score(case, **_frame_body(state["contest"], entry))
                    acked += 1
                except Refused as exc:
                    if exc.code not in ("scoring_closed", "not_open"):
                        print(f"simulated judge {judge}: {case} refused: {exc}")
                scored.add(case)
        except (OSError, ConnectionError, TimeoutError):
            await asyncio.sleep(1)
        finally:
            await client.close()
    return acked


def _wants_score(state: dict[str, Any], scored: set[str]) -> str | None:
    progress = state.get("progress", {})
    case = progress.get("case")
    me = state.get("me", {})
    if (
        case
        and progress.get("status") == "scoring"
        and case not in scored
        and case not in me.get("recused", [])
        and not me.get("absent")
        and case not in me.get("scores", {})
    ):
        return str(case)
    return None


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


async def wait_until_ready(base: str, within: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            if (await asyncio.to_thread(_get_json, f"{base}/healthz")).get("ok"):
                return
        except OSError:
            pass
        if loop.time() > deadline:
            raise TimeoutError(f"{base} did not become ready")
        await asyncio.sleep(0.2)


async def simulate_judges(
    base: str, tokens: dict[str, Any] | None, judges: list[str] | None, seed: int | None = None
) -> int:
    if tokens is None:
        raise SystemExit("give --tokens FILE (the output of `live tokens --json`)")
    chosen = judges or list(tokens["judges"])
    results = await asyncio.gather(
        *(
            judge_loop(base, j, tokens["judges"][j], None if seed is None else seed + i)
            for i, j in enumerate(chosen)
        )
    )
    print(f"simulated {len(chosen)} judges: {sum(results)} scores acked")
    return 0


async def host_step(host: HubClient, pace: float) -> bool:
    """Take the natural next step of the final; False once the awards are all announced."""
    s = host.state
    run, stage = s["run"], s["stage"]
    current = run["current"]
    status = run["status"].get(current) if current else None
    if run["finished"] and status in (None, "revealed", "skipped"):
        return await _awards_step(host, pace)
    if current is None or status in ("revealed", "skipped"):
        group = host.state["contest"]["cases"]
        if current and _last_of_group(s, current):
            g = next(c["group"] for c in group if c["id"] == current)
            await host.command("show", screen="board", group=g)
            await asyncio.sleep(pace * 2)
        await host.command("next")
    elif status == "on_stage":
        if stage["timer"]["running_since"] is None:
            await asyncio.sleep(pace)
            await host.command("timer", op="start")
        await asyncio.sleep(pace)
        await host.command("open")
    elif status == "scoring":
        with contextlib.suppress(TimeoutError):
            await host.wait_for(
                lambda st: set(st["progress"]["expected"]) <= set(st["progress"]["submitted"]),
                timeout=max(10, pace * 10),
            )
        await host.command("close")
    elif status == "closed":
        await asyncio.sleep(pace / 2)
        try:
            await host.command("reveal")
        except Refused as exc:
            if exc.code != "too_few_scores":
                raise
            await host.command("reopen", reason="autopilot: too few scores, waiting for judges")
            return True
        await asyncio.sleep(pace * 2)
    return True


def _last_of_group(state: dict[str, Any], case: str) -> bool:
    groups = {c["id"]: c["group"] for c in state["contest"]["cases"]}
    same = [c for c in state["run"]["order"] if groups[c] == groups[case]]
    return all(state["run"]["status"][c] in ("revealed", "skipped") for c in same)


async def _awards_step(host: HubClient, pace: float) -> bool:
    s = host.state
    for g in s["contest"]["groups"]:
        board = s[f"board/{g['key']}"]
        ties = [r for r in board["rows"] if r["boundary_tie"]]
        if ties:
            rank = ties[0]["rank"]
            order = [r["case"] for r in board["rows"] if r["rank"] == rank]
            await host.command(
                "resolve_tie", group=g["key"], order=order, reason="autopilot: order as listed"
            )
            return True
        awards = s["awards"]["groups"][g["key"]]
        if awards["shown"] < awards["steps"]:
            if s["screen"]["mode"] != "awards" or s["screen"]["group"] != g["key"]:
                await host.command("show", screen="awards", group=g["key"])
                await asyncio.sleep(pace)
            await host.command("award_step", group=g["key"])
            await asyncio.sleep(pace * 1.5)
            return True
    return False


async def autopilot(base: str, tokens: dict[str, Any], pace: float = 1.5, wait_ready: bool = True) -> None:
    """Play a whole final: simulated judges score, the host steps through it to the awards."""
    if wait_ready:
        await wait_until_ready(base)
    stop = asyncio.Event()
    judges = [
        asyncio.create_task(judge_loop(base, j, t, delay=(pace * 0.2, pace * 1.5), stop=stop))
        for j, t in tokens["judges"].items()
    ]
    async with HubClient(base, "host", tokens["host"]) as host:
        await host.command("show", screen="welcome")
        await asyncio.sleep(pace * 2)
        while await host_step(host, pace):
            pass
        await host.command("show", screen="welcome")
    stop.set()
    for task in judges:
        task.cancel()
    await asyncio.gather(*judges, return_exceptions=True)
