"""The contest file (DESIGN §4): the demo loads, and every bad file is refused with all its
problems listed at once, each with its field path, never a traceback."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from core_helpers import demo_dict, mini_dict, run_cli

from live.contest import ContestError, parse_contest
from live.contest_file import DEMO_PATH, demo_contest, load_contest

# --- the demo final ---


def test_demo_final_shape() -> None:
    c = demo_contest()
    assert len(c.cases) == 45
    assert [g.key for g in c.groups] == ["dev", "conduct", "party"]
    assert [g.name for g in c.groups] == ["发展提质组", "正风增效组", "党建赋能组"]
    for g in c.groups:
        assert len(c.group_cases(g.key)) == 15
        assert g.prizes == (("一等奖", 5), ("二等奖", 5), ("三等奖", 5))
    assert len(c.judges) == 9
    assert [(k.key, k.max, k.step) for k in c.rubric.criteria] == [
        ("innovation", 30, Decimal("0.5")),
        ("impact", 30, Decimal("0.5")),
        ("value", 20, Decimal("0.5")),
        ("delivery", 20, Decimal("0.5")),
    ]
    assert not c.rubric.single
    assert c.rubric.max_total == 100
    assert (c.aggregation.method, c.aggregation.drop, c.aggregation.decimals) == ("trimmed_mean", 1, 2)
    assert c.aggregation.min_scores == 3
    assert c.tie_break == ("unrounded", "criterion:innovation")
    assert c.timing.present_seconds == 300


def test_demo_recusals_explicit_and_by_unit() -> None:
    c = demo_contest()
    # j1 is recused from party-01 explicitly; j3 shares a unit with dev-06.
    assert c.is_recused("j1", "party-01")
    assert c.judge("j3").unit == c.case("dev-06").unit
    assert c.is_recused("j3", "dev-06")
    assert not c.is_recused("j1", "dev-06")


def test_demo_names_the_three_real_first_prize_cases_and_marks_the_rest_as_samples() -> None:
    c = demo_contest()
    real = [case for case in c.cases if "【示例】" not in case.title]
    assert len(real) == 3
    assert sorted(case.group for case in real) == ["conduct", "dev", "party"]
    assert all(case.unit and case.presenter for case in real)
    assert any("科技产业" in case.title for case in real)


def test_demo_contest_is_immutable() -> None:
    c = demo_contest()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.title = "x"  # type: ignore[misc]
    assert isinstance(c.cases, tuple)
    assert isinstance(c.recusals, frozenset)


def test_single_total_rubric_and_defaults() -> None:
    data = mini_dict(total={"max": 100, "step": 0.01}, aggregation={"method": "median"})
    del data["rubric"]
    data["tie_break"] = ["unrounded"]
    c = parse_contest(data)
    assert c.rubric.single
    assert [(k.key, k.max, k.step) for k in c.rubric.criteria] == [("total", 100, Decimal("0.01"))]
    assert c.aggregation.method == "median"
    assert c.aggregation.min_scores == 1


def test_auto_recusal_by_unit_can_be_turned_off() -> None:
    assert parse_contest(mini_dict()).is_recused("j4", "c3")
    off = parse_contest(mini_dict(auto_recuse_same_unit=False))
    assert not off.is_recused("j4", "c3")
    assert off.is_recused("j5", "c2")  # explicit recusals stay


def test_yaml_numbers_as_ids_are_accepted_as_strings() -> None:
    data = mini_dict()
    data["judges"][0]["id"] = 7
    c = parse_contest(data)
    assert c.has_judge("7")


# --- bad files: each kind names its exact field path ---

Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[Any], value: Any) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        for key in path[:-1]:
            d = d[key]
        d[path[-1]] = value

    return mutate


def _delete(path: list[Any]) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        for key in path[:-1]:
            d = d[key]
        del d[path[-1]]

    return mutate


def _dup_case(d: dict[str, Any]) -> None:
    d["cases"][3]["id"] = d["cases"][1]["id"]


def _dup_judge(d: dict[str, Any]) -> None:
    d["judges"][2]["id"] = d["judges"][0]["id"]


def _recuse_all_from_dev04(d: dict[str, Any]) -> None:
    d["recusals"] = [{"judge": j["id"], "case": "dev-04"} for j in d["judges"][:7]]


def _both_rubrics(d: dict[str, Any]) -> None:
    d["total"] = {"max": 100, "step": 1}


# (id, mutation of the demo file, [(path, words in the reason)])
BAD: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("missing-title", _delete(["title"]), [("title", "missing")]),
    ("missing-judges", _delete(["judges"]), [("judges", "missing")]),
    ("unknown-top-field", _set(["titel"], "x"), [("titel", "unknown field")]),
    ("unknown-case-field", _set(["cases", 0, "speaker"], "x"), [("cases[0].speaker", "unknown field")]),
    ("missing-case-title", _delete(["cases", 2, "title"]), [("cases[2].title", "missing")]),
    ("wrong-type-judge-name", _set(["judges", 1, "name"], ["x"]), [("judges[1].name", "must be a string")]),
    ("wrong-type-cases", _set(["cases"], {"a": 1}), [("cases", "must be a list")]),
    ("wrong-type-drop", _set(["aggregation", "drop"], "1"), [("aggregation.drop", "must be an integer")]),
    ("wrong-type-auto-close", _set(["auto_close"], "yes"), [("auto_close", "true or false")]),
    ("case-not-a-mapping", _set(["cases", 4], "dev-05"), [("cases[4]", "must be a mapping")]),
    ("duplicate-case-id", _dup_case, [("cases[3].id", "duplicate case id 'dev-02'")]),
    ("duplicate-judge-id", _dup_judge, [("judges[2].id", "duplicate judge id 'j1'")]),
    ("reserved-judge-id", _set(["judges", 3, "id"], "host"), [("judges[3].id", "reserved")]),
    ("bad-id-characters", _set(["cases", 0, "id"], "dev 01"), [("cases[0].id", "letters, digits")]),
    ("unknown-group", _set(["cases", 7, "group"], "nope"), [("cases[7].group", "unknown group 'nope'")]),
    ("rubric-max-zero", _set(["rubric", 1, "max"], 0), [("rubric[1].max", "greater than 0")]),
    ("rubric-max-negative", _set(["rubric", 0, "max"], -5), [("rubric[0].max", "greater than 0")]),
    ("rubric-step-zero", _set(["rubric", 0, "step"], 0), [("rubric[0].step", "greater than 0")]),
    (
        "rubric-step-not-dividing",
        _set(["rubric", 2, "step"], 0.3),
        [("rubric[2].step", "does not divide max 20")],
    ),
    ("rubric-max-not-a-number", _set(["rubric", 3, "max"], "lots"), [("rubric[3].max", "a number")]),
    ("rubric-and-total", _both_rubrics, [("rubric", "not both")]),
    ("rubric-empty", _set(["rubric"], []), [("rubric", "at least one criterion")]),
    (
        "prizes-larger-than-group",
        _set(["groups", 0, "prizes", "一等奖"], 10),
        [("groups[0].prizes", "20 prizes for a group of 15")],
    ),
    (
        "prize-count-negative",
        _set(["groups", 2, "prizes", "三等奖"], -1),
        [("groups[2].prizes.三等奖", "whole number")],
    ),
    (
        "recusal-unknown-judge",
        _set(["recusals", 0, "judge"], "j99"),
        [("recusals[0].judge", "unknown judge 'j99'")],
    ),
    (
        "recusal-unknown-case",
        _set(["recusals", 0, "case"], "nope-1"),
        [("recusals[0].case", "unknown case 'nope-1'")],
    ),
    (
        "drop-too-large",
        _set(["aggregation", "drop"], 5),
        [("aggregation.drop", "needs at least 11 judges; the panel has 9")],
    ),
    ("recusals-leave-too-few", _recuse_all_from_dev04, [("cases[3]", "only 2 judge(s) can score dev-04")]),
    (
        "unknown-method",
        _set(["aggregation", "method"], "best_of"),
        [("aggregation.method", "must be one of")],
    ),
    (
        "decimals-too-many",
        _set(["aggregation", "decimals"], 9),
        [("aggregation.decimals", "between 0 and 6")],
    ),
    ("negative-timing", _set(["timing", "present_seconds"], -1), [("timing.present_seconds", "0 or more")]),
    (
        "tie-break-unknown-criterion",
        _set(["tie_break", 1], "criterion:beauty"),
        [("tie_break[1]", "criterion:<rubric key>")],
    ),
    ("no-cases", _set(["cases"], []), [("cases", "at least one case")]),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in BAD], ids=[i for i, _, _ in BAD])
def test_bad_contest_names_the_field(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    data = demo_dict()
    mutate(data)
    with pytest.raises(ContestError) as info:
        parse_contest(data)
    problems = info.value.problems
    for path, words in expected:
        matching = [p for p in problems if p.path == path]
        assert matching, f"no problem at {path}: {problems}"
        assert any(words in p.reason for p in matching), matching
    # one broken thing gives exactly the problems it causes, and no spurious ones
    assert len(problems) == len(expected), problems


def test_wrongly_typed_rubric_is_not_also_reported_missing() -> None:
    data = demo_dict()
    data["rubric"] = {"innovation": 30}
    with pytest.raises(ContestError) as info:
        parse_contest(data)
    assert [(p.path, p.reason) for p in info.value.problems] == [("rubric", "must be a list, not dict")]


def test_single_total_rubric_problems() -> None:
    data = mini_dict(total={"max": 0, "step": 1, "min": 0})
    del data["rubric"]
    data["tie_break"] = []
    with pytest.raises(ContestError) as info:
        parse_contest(data)
    assert {p.path for p in info.value.problems} == {"total.max", "total.min"}


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ContestError) as info:
        parse_contest(["title", "x"])
    assert [p.path for p in info.value.problems] == ["(top)"]


def test_every_problem_is_listed_at_once() -> None:
    data = demo_dict()
    for kind, mutate, _ in BAD:
        if kind in (
            "wrong-type-cases",
            "no-cases",
            "missing-judges",
            "rubric-and-total",
            "rubric-empty",
            "case-not-a-mapping",
            "drop-too-large",
            "recusals-leave-too-few",
            "unknown-method",
        ):
            continue  # these hide or replace the other problems' fields
        mutate(data)
    with pytest.raises(ContestError) as info:
        parse_contest(data, "bad.yaml")
    paths = {p.path for p in info.value.problems}
    wanted = {
        "title",
        "titel",
        "cases[0].speaker",
        "cases[2].title",
        "judges[1].name",
        "aggregation.drop",
        "auto_close",
        "cases[3].id",
        "judges[2].id",
        "cases[0].id",
        "cases[7].group",
        "rubric[1].max",
        "rubric[0].max",
        "rubric[0].step",
        "rubric[2].step",
        "rubric[3].max",
        "groups[2].prizes.三等奖",
        "recusals[0].judge",
        "recusals[0].case",
        "aggregation.decimals",
        "timing.present_seconds",
    }
    assert wanted <= paths, wanted - paths
    text = str(info.value)
    assert text.startswith(f"bad.yaml: {len(info.value.problems)} problem(s)")
    assert "cases[7].group: unknown group 'nope'" in text


def test_load_contest_reports_invalid_yaml_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("title: [unclosed\ncases: 1\n", encoding="utf-8")
    with pytest.raises(ContestError) as info:
        load_contest(path)
    [problem] = info.value.problems
    assert problem.path.startswith("line 2, column")
    assert "not valid YAML" in problem.reason


def test_load_contest_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(ContestError) as info:
        load_contest(tmp_path / "absent.yaml")
    assert [p.path for p in info.value.problems] == ["(file)"]
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ContestError) as info:
        load_contest(latin)
    assert [p.path for p in info.value.problems] == ["(file)"]
    assert "UTF-8" in info.value.problems[0].reason


# --- `live check` as an organiser runs it ---


def test_live_check_accepts_the_demo() -> None:
    proc = run_cli("check", str(DEMO_PATH))
    assert proc.returncode == 0, proc.stderr
    assert "45 cases" in proc.stdout
    assert "9 judges" in proc.stdout
    assert proc.stderr == ""


CLI_KINDS = [
    "missing-title",
    "unknown-top-field",
    "wrong-type-judge-name",
    "duplicate-case-id",
    "duplicate-judge-id",
    "unknown-group",
    "rubric-max-zero",
    "rubric-step-not-dividing",
    "prizes-larger-than-group",
    "recusal-unknown-judge",
    "recusal-unknown-case",
    "drop-too-large",
]


@pytest.mark.parametrize("kind", CLI_KINDS)
def test_live_check_refuses_each_kind(kind: str, tmp_path: Path) -> None:
    _, mutate, expected = next(row for row in BAD if row[0] == kind)
    data = demo_dict()
    mutate(data)
    path = tmp_path / "contest.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = run_cli("check", str(path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    for field_path, words in expected:
        assert f"{field_path}: " in proc.stderr
        assert words in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"title: [unclosed\ncases: 1\n", "line 2, column"),
        (b"", "(top): must be a mapping"),
        (b"title: caf\xe9\n", "(file): not UTF-8"),
    ],
)
def test_live_check_refuses_unreadable_files(content: bytes, where: str, tmp_path: Path) -> None:
    path = tmp_path / "contest.yaml"
    path.write_bytes(content)
    proc = run_cli("check", str(path))
    assert proc.returncode == 1
    assert where in proc.stderr
    assert "Traceback" not in proc.stderr


def test_live_check_missing_file(tmp_path: Path) -> None:
    proc = run_cli("check", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 1
    assert "(file)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_broken_case_row_does_not_hide_or_invent_other_problems() -> None:
    data = demo_dict()
    del data["cases"][2]["title"]  # dev-03 is refused, but still counts in group dev
    data["groups"][0]["prizes"]["一等奖"] = 10
    data["recusals"][0]["case"] = "nope-1"
    data["recusals"].append({"judge": "j2", "case": "dev-03"})  # names the refused case: fine
    with pytest.raises(ContestError) as info:
        parse_contest(data)
    assert [(p.path, p.reason) for p in info.value.problems] == [
        ("cases[2].title", "missing"),
        ("groups[0].prizes", "20 prizes for a group of 15 case(s)"),
        ("recusals[0].case", "unknown case 'nope-1'"),
    ]
