"""live/protocol.py on its own: which frames are refused with which code (and whether the
connection closes), and the small helpers every frame passes through."""

from __future__ import annotations

import json
from typing import Any

import pytest

from live import protocol as P

REFUSED = [
    # text, code, close
    ("not json", "bad_json", P.CLOSE_BAD_FRAME),
    ("", "bad_json", P.CLOSE_BAD_FRAME),
    ('{"type": "score", "total": NaN}', "bad_json", P.CLOSE_BAD_FRAME),
    ('{"type": "score", "total": Infinity}', "bad_json", P.CLOSE_BAD_FRAME),
    ('{"type": "score", "total": -Infinity}', "bad_json", P.CLOSE_BAD_FRAME),
    ("[" * 100_000 + "]" * 100_000, "bad_json", P.CLOSE_BAD_FRAME),
    ('{"type": "hello", "role": "\\ud800"}', "bad_json", P.CLOSE_BAD_FRAME),
    ('{"type": "hello", "x": {"y": ["\\udfff"]}}', "bad_json", P.CLOSE_BAD_FRAME),
    ("[]", "bad_frame", P.CLOSE_BAD_FRAME),
    ('"hello"', "bad_frame", P.CLOSE_BAD_FRAME),
    ("42", "bad_frame", P.CLOSE_BAD_FRAME),
    ("{}", "bad_frame", P.CLOSE_BAD_FRAME),
    ('{"type": 1}', "bad_frame", P.CLOSE_BAD_FRAME),
    ('{"type": null}', "bad_frame", P.CLOSE_BAD_FRAME),
]


@pytest.mark.parametrize(("text", "code", "close"), REFUSED)
def test_parse_frame_refuses(text: str, code: str, close: int) -> None:
    with pytest.raises(P.FrameError) as caught:
        P.parse_frame(text)
    assert (caught.value.code, caught.value.close) == (code, close)
    assert caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "ping"}',
        '{"type": "hello", "role": "judge", "token": "ABCDE-FGHIJ", "since": 3}',
        '{"type": "score", "id": "s1", "criteria": {"a": "9.5"}, "total": 1e3}',
        '{"type": "hello", "name": "\\ud83d\\ude00 评委"}',  # a paired surrogate is a real character
    ],
)
def test_parse_frame_accepts(text: str) -> None:
    assert P.parse_frame(text) == json.loads(text)


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"id": "a"}, "a"),
        ({"id": "x" * P.MAX_ID}, "x" * P.MAX_ID),
        ({"id": "评分-1"}, "评分-1"),
    ],
)
def test_frame_id_accepts(frame: dict[str, Any], expected: str) -> None:
    assert P.frame_id(frame) == expected


@pytest.mark.parametrize(
    ("frame", "echoed"),
    [
        ({}, None),
        ({"id": ""}, ""),
        ({"id": "x" * (P.MAX_ID + 1)}, "x" * (P.MAX_ID + 1)),
        ({"id": 7}, 7),  # echoed so the client can match the refusal
        ({"id": None}, None),
        ({"id": ["a"]}, None),
        ({"id": 1.5}, None),
    ],
)
def test_frame_id_refuses_without_closing(frame: dict[str, Any], echoed: Any) -> None:
    with pytest.raises(P.FrameError) as caught:
        P.frame_id(frame)
    assert caught.value.code == "bad_id"
    assert caught.value.close is None
    assert caught.value.id == echoed


@pytest.mark.parametrize(
    ("frame", "since"), [({}, None), ({"since": None}, None), ({"since": 0}, 0), ({"since": 12}, 12)]
)
def test_since_of(frame: dict[str, Any], since: int | None) -> None:
    assert P.since_of(frame) == since


@pytest.mark.parametrize("value", [-1, True, False, 1.0, "3", [3], {"seq": 3}])
def test_since_of_refuses(value: Any) -> None:
    with pytest.raises(P.FrameError) as caught:
        P.since_of({"since": value})
    assert (caught.value.code, caught.value.close) == ("bad_frame", P.CLOSE_BAD_FRAME)


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        (1.5, False),
        (0, False),
        ("nan", False),  # a string, not a number: the scoring rules refuse it later
        (None, False),
        ({"a": {"b": [1, 2.5, "3"]}}, False),
        (float("nan"), True),
        (float("inf"), True),
        (float("-inf"), True),
        ({"criteria": {"a": float("nan")}}, True),
        ([1, [2, [float("inf")]]], True),
        (nested(20), False),
        (nested(22), True),  # absurdly deep
    ],
)
def test_has_bad_number(value: Any, bad: bool) -> None:
    assert P.has_bad_number(value) is bad


def test_body_digest_ignores_type_and_key_order() -> None:
    a = P.body_digest({"type": "score", "id": "s1", "case": "c1", "criteria": {"x": "1", "y": "2"}})
    b = P.body_digest({"criteria": {"y": "2", "x": "1"}, "case": "c1", "id": "s1", "type": "other"})
    assert a == b
    assert len(a) == 64
    assert int(a, 16) >= 0


@pytest.mark.parametrize(
    "other",
    [
        {"id": "s2", "case": "c1", "criteria": {"x": "1", "y": "2"}},
        {"id": "s1", "case": "c2", "criteria": {"x": "1", "y": "2"}},
        {"id": "s1", "case": "c1", "criteria": {"x": "1", "y": "3"}},
        {"id": "s1", "case": "c1", "criteria": {"x": "1", "y": "2"}, "total": "3"},
    ],
)
def test_body_digest_tells_bodies_apart(other: dict[str, Any]) -> None:
    base = {"id": "s1", "case": "c1", "criteria": {"x": "1", "y": "2"}}
    assert P.body_digest(base) != P.body_digest(other)


def test_body_digest_of_a_body_canonical_json_cannot_hold() -> None:
    digest = P.body_digest({"id": "s1", "total": float("nan")})
    assert digest == P.body_digest({"id": "s1", "total": float("nan")})


@pytest.mark.parametrize(
    ("frame", "text"),
    [
        ({"type": "ack", "id": "s1", "seq": 4}, '{"type":"ack","id":"s1","seq":4}'),
        ({"type": "welcome", "judge": {"name": "张老师"}}, '{"type":"welcome","judge":{"name":"张老师"}}'),
        ({}, "{}"),
    ],
)
def test_encode_is_compact_and_keeps_unicode(frame: dict[str, Any], text: str) -> None:
    assert P.encode(frame) == text


@pytest.mark.parametrize(
    ("args", "frame"),
    [
        (("bad_id", "no id"), {"type": "error", "code": "bad_id", "message": "no id"}),
        (
            ("closed", "scoring is closed", "s1"),
            {"type": "error", "code": "closed", "message": "scoring is closed", "id": "s1"},
        ),
        (("bad_id", "an id", 7), {"type": "error", "code": "bad_id", "message": "an id", "id": 7}),
        (("bad_id", "an id", ""), {"type": "error", "code": "bad_id", "message": "an id", "id": ""}),
    ],
)
def test_error_frame(args: tuple[Any, ...], frame: dict[str, Any]) -> None:
    assert json.loads(P.error_frame(*args)) == frame


def test_close_codes_are_distinct() -> None:
    codes = [v for k, v in vars(P).items() if k.startswith("CLOSE_")]
    assert len(codes) == len(set(codes))
