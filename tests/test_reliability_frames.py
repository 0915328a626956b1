"""Bad frames over a real socket (hypothesis-generated: wrong types, missing fields, huge
numbers, NaN/Infinity literals, negative zero, odd unicode, deep nesting, oversize, binary,
truncated): the hub never crashes, answers each with an error frame or a close code, and its
state stays equal to a replay of the stored log.

Quick mode: a few hundred frames. Full mode: LIVE_FULL=1 (LIVE_FRAMES=N to choose).
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI, LiveServer
from faults import CLOSE_OK, FULL, LoopThread, Prober, log_errors, read_log, write_figures
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from live.client import HubClient
from live.contest_file import load_contest
from live.final import HOST_ACTIONS, replay
from live.views import host_view, public_view

EXAMPLES = int(os.environ.get("LIVE_FRAMES", "4000" if FULL else "150"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not FULL,
    suppress_health_check=list(HealthCheck),
    database=None,
)

# --- what a hostile or broken client might send ---

odd_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "\u0000",
            "\u202e评委\u202c",
            "\U0001f600",
            "\ud800",
            "\udfff",
            "a" * 65,
            "j1\u0000",
            "ｊ１",
            "a1 ",
            "A1",
            "null",
            "__proto__",
        ]
    ),
)
decimal_text = st.one_of(
    st.sampled_from(
        [
            "87.5",
            "0",
            "30",
            "30.5",
            "-0",
            "-0.0",
            "1e3",
            "NaN",
            "Infinity",
            "３０",
            " 1",
            "1.",
            ".5",
            "0.25",
            "00030",
            "+5",
            "1_0",
            "0x1e",
            "",
            "∞",
        ]
    ),
    st.decimals(allow_nan=True, allow_infinity=True, places=None).map(str),
)
number = st.one_of(st.integers(-(2**70), 2**70), st.floats(), st.just(-0.0), st.just(10**300), st.booleans())
scalar = st.one_of(st.none(), number, decimal_text, odd_text)
json_value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(odd_text, inner, max_size=3)),
    max_leaves=8,
)
ids = st.one_of(st.text(min_size=1, max_size=8).map(lambda s: f"fz-{s}"), scalar, st.just("x" * 70))
cases = st.one_of(st.sampled_from(["a1", "a2", "b3", "zz"]), scalar)
rubric_keys = st.sampled_from(["innovation", "impact", "value", "delivery", "other", ""])
criteria = st.one_of(
    st.dictionaries(rubric_keys, st.one_of(decimal_text, number, json_value), max_size=5),
    st.fixed_dictionaries({k: decimal_text for k in ("innovation", "impact", "value", "delivery")}),
    json_value,
)
args = st.dictionaries(
    st.sampled_from(["case", "judge", "reason", "op", "seconds", "screen", "group", "order", "after"])
    | odd_text,
    json_value,
    max_size=4,
)

frames = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("score")},
        optional={"id": ids, "case": cases, "criteria": criteria, "total": scalar, "extra": json_value},
    ),
    st.fixed_dictionaries(
        {"type": st.just("command")},
        optional={
            "id": ids,
            "action": st.sampled_from(HOST_ACTIONS) | odd_text | number,
            "args": args | json_value,
        },
    ),
    st.fixed_dictionaries({"type": st.just("presence")}, optional={"battery": scalar, "charging": scalar}),
    st.fixed_dictionaries(
        {"type": st.just("hello")},
        optional={
            "role": st.sampled_from(["judge", "host", "display", "audience"]) | odd_text,
            "token": scalar,
            "since": scalar,
        },
    ),
    st.fixed_dictionaries({"type": odd_text | number}, optional={"id": ids}),
    json_value,
)
# How the frame is put on the wire: some ways make it malformed on purpose.
MANGLES = (
    "plain",
    "plain",
    "plain",
    "nan",
    "infinity",
    "huge",
    "deep",
    "truncate",
    "binary",
    "oversize",
    "bom",
)


def mangle(frame: Any, how: str, cut: int, depth: int) -> str | bytes:
    text = json.dumps(frame, allow_nan=True)  # ensure_ascii: lone surrogates travel escaped
    if how == "nan":
        return text.replace("}", ',"x":NaN}', 1) if "}" in text else "NaN"
    if how == "infinity":
        return text.replace("}", ',"x":-Infinity}', 1) if "}" in text else "Infinity"
    if how == "huge":
        return text.replace("}", ',"case":1e999,"total":' + "9" * 5000 + "}", 1)
    if how == "deep":
        return '{"type":"score","id":"deep","case":"a1","criteria":' + "[" * depth + "]" * depth + "}"
    if how == "truncate":
        return text[: cut % max(1, len(text))]
    if how == "binary":
        return text.encode()
    if how == "oversize":
        return (
            text.replace("}", ',"pad":"' + "x" * (64 * 1024) + '"}', 1)
            if "}" in text
            else "x" * (64 * 1024 + 1)
        )
    if how == "bom":
        return "\ufeff" + text
    return text


def acceptable(payload: str | bytes, outcome: tuple[str, Any]) -> bool:
    kind, detail = outcome
    if kind == "close":
        too_big = len(payload) > 64 * 1024
        return detail in CLOSE_OK or (too_big and detail == 1006)
    if kind == "error":
        return isinstance(detail, str) and bool(detail)
    # Accepted (ack, welcome, or a silent presence): only a well-formed JSON object can be.
    if isinstance(payload, bytes) or len(payload.encode()) > 64 * 1024:
        return False
    try:
        frame = json.loads(payload, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except ValueError:
        return False
    return isinstance(frame, dict) and frame.get("type") in ("score", "command", "presence", "hello", "ping")


# --- fixtures ---


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = tmp_path_factory.mktemp("frames") / "frames.db"
    srv = LiveServer(f"sqlite:///{db}", contest=MINI).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    lt = LoopThread()
    try:
        yield lt
    finally:
        lt.close()


@pytest.fixture(scope="module")
def probers(hub: LiveServer, loop: LoopThread) -> Iterator[dict[str, Prober]]:
    tokens = hub.tokens()

    async def setup() -> None:  # a case open for scoring, so a valid score can land
        async with HubClient(hub.base, "host", tokens["host"]) as host:
            await host.command("next")
            await host.command("open")

    loop.run(setup())
    ps = {
        "judge": Prober(hub.base, {"type": "hello", "role": "judge", "token": tokens["judges"]["j1"]}),
        "host": Prober(hub.base, {"type": "hello", "role": "host", "token": tokens["host"]}),
        "display": Prober(hub.base, {"type": "hello", "role": "display"}, pool=4),
    }
    yield ps
    for p in ps.values():
        loop.run(p.close())
    write_figures(
        "frames",
        {
            "frames": sum(p.sent for p in ps.values()),
            "by_role": {r: p.sent for r, p in ps.items()},
            "outcomes": {r: p.outcomes for r, p in ps.items()},
        },
    )


def healthy(srv: LiveServer) -> dict[str, Any]:
    assert srv.proc is not None
    assert srv.proc.poll() is None, "the hub died"
    with urllib.request.urlopen(f"{srv.base}/healthz", timeout=5) as r:
        return json.load(r)


# --- tests ---


@SETTINGS
@given(
    frame=frames,
    how=st.sampled_from(MANGLES),
    cut=st.integers(0, 10**6),
    depth=st.integers(20, 3000),
    role=st.sampled_from(["judge", "host", "display"]),
)
def test_bad_frame_after_hello(
    probers: dict[str, Prober], loop: LoopThread, frame: Any, how: str, cut: int, depth: int, role: str
) -> None:
    payload = mangle(frame, how, cut, depth)
    outcome = loop.run(probers[role].probe(payload))
    assert acceptable(payload, outcome), (payload if len(payload) < 300 else payload[:300], outcome)
    if how == "binary":
        assert outcome == ("close", 4400)
    if how == "oversize":
        # 1009 is sent; when the hub closes while the rest of the frame is still arriving,
        # TCP may reset the link before the close frame is read (1006 on this side).
        assert outcome in (("close", 1009), ("close", 1006))
    if how in ("nan", "infinity"):
        assert outcome == ("close", 4400)


@SETTINGS
@given(frame=frames, how=st.sampled_from(MANGLES), cut=st.integers(0, 10**6), depth=st.integers(20, 3000))
def test_bad_first_frame(
    probers: dict[str, Prober], loop: LoopThread, frame: Any, how: str, cut: int, depth: int
) -> None:
    payload = mangle(frame, how, cut, depth)
    outcome = loop.run(probers["display"].probe_hello(payload))
    if outcome[0] == "ok":  # only a well-formed hello of a role that needs no token
        assert outcome[1] == "welcome"
        hello = json.loads(payload)  # type: ignore[arg-type]
        assert hello["type"] == "hello"
        assert hello["role"] in ("display", "audience")
    else:
        assert outcome[0] == "close"
        assert outcome[1] in CLOSE_OK or (how == "oversize" and outcome[1] == 1006)


def test_hub_survived_and_state_equals_replay(
    hub: LiveServer, loop: LoopThread, probers: dict[str, Prober]
) -> None:
    """Runs after the fuzzing: the host snapshot is a fold of the stored log, nothing else."""
    health = healthy(hub)
    tokens = hub.tokens()

    async def host_state() -> dict[str, Any]:
        async with HubClient(hub.base, "host", tokens["host"]) as host:
            return host.state

    state = loop.run(host_state())
    contest = load_contest(MINI)
    _epoch, events = read_log(Path(hub.store.removeprefix("sqlite:///")))
    assert events[-1]["seq"] == health["seq"]
    folded = replay(contest, events)
    public = json.loads(json.dumps(public_view(contest, folded), ensure_ascii=False))
    host = json.loads(json.dumps(host_view(contest, folded, {}), ensure_ascii=False))
    for name, value in public.items():
        assert state[name] == value, name
    for name in ("scores", "corrections"):
        assert state[name] == host[name], name
    assert not log_errors(hub.log_text())
