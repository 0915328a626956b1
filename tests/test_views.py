"""The role views (live/views.py): secrecy before the reveal, the sections' shapes, the counts
pages show, ``run.next``, judges' standings; and the pure core's imports (stdlib and itself)."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest
from core_helpers import HOST_ONLY, Final, crit, mini_contest

from live.final import next_case
from live.views import (
    JUDGE_STANDINGS,
    Presence,
    host_view,
    judge_phase,
    judge_standing,
    judge_view,
    public_view,
    would_be,
)

ROOT = Path(__file__).resolve().parent.parent


def scored_c1(reveal: bool = False) -> Final:
    """c1 open, four distinct scores in (j5 missing), optionally closed and revealed."""
    f = Final(mini_contest())
    f.host("next")
    f.host("open")
    for j, (a, b) in {"j1": ("9.5", "17"), "j2": ("6", "11"), "j3": ("7", "13"), "j4": ("8", "19")}.items():
        f.score(j, "c1", a, b)
    if reveal:
        f.host("close")
        f.host("reveal")
    return f


# --- secrecy ---


def test_public_and_judge_views_hold_no_value_before_the_reveal() -> None:
    f = scored_c1()
    secrets = {"26.5", "27", "9.5", "19", "13", "11", "23.25"}  # totals, values, the would-be final
    for view in (public_view(f.contest, f.state), judge_view(f.contest, f.state, "j5")):
        text = json.dumps(view, ensure_ascii=False)
        leaked = sorted(s for s in secrets if f'"{s}"' in text)
        assert not leaked, leaked
        standing = view["progress"]["standing"]
        assert set(standing.values()) <= {"submitted", "waiting", "recused", "absent", "missing"}
    # A judge sees their own score, and only theirs.
    j1 = judge_view(f.contest, f.state, "j1")
    assert j1["me"]["scores"]["c1"]["total"] == "26.5"
    assert '"17"' not in json.dumps({k: v for k, v in j1.items() if k != "me"})


def test_public_standing_never_says_counted_or_dropped_even_after_the_reveal() -> None:
    f = scored_c1(reveal=True)
    standing = public_view(f.contest, f.state)["progress"]["standing"]
    assert standing == {
        "j1": "submitted",
        "j2": "submitted",
        "j3": "submitted",
        "j4": "submitted",
        "j5": "missing",
    }


def test_the_judge_view_has_only_the_shared_sections_and_me() -> None:
    f = scored_c1()
    assert set(judge_view(f.contest, f.state, "j2")) == {"contest", "run", "stage", "progress", "me"}


# --- shapes ---


def test_sections_of_each_role() -> None:
    f = scored_c1()
    public = public_view(f.contest, f.state)
    assert set(public) == {
        "contest",
        "run",
        "stage",
        "progress",
        "result",
        "screen",
        "awards",
        "board/g1",
        "board/g2",
    }
    host = host_view(f.contest, f.state, {"j1": Presence(connections=1, last_seen=5)}, public)
    assert set(host) == set(public) | HOST_ONLY
    assert host["judges"][0]["online"] is True
    assert all(host[name] is public[name] for name in public)  # shared, so encoded once
    json.dumps(host)  # everything on the wire is JSON


def test_before_anything_is_staged() -> None:
    f = Final(mini_contest())
    view = host_view(f.contest, f.state, {})
    assert view["progress"] == {"case": None}
    assert view["scores"] == {"case": None}
    assert view["result"] == {"case": None}
    assert view["run"]["next"] == "c1"
    assert all(row["standing"] is None for row in view["judges"])
    assert judge_view(f.contest, f.state, "j1")["me"]["phase"] == "waiting"


# --- counts ---


def test_progress_counts_expected_judges_who_submitted() -> None:
    f = Final(mini_contest())
    f.host("stage", case="c2")  # j5 is recused from c2
    f.host("open")
    f.score("j1", "c2", "5", "10")
    f.host("absent", judge="j2", reason="ill")
    progress = public_view(f.contest, f.state)["progress"]
    assert progress["done"] == 1
    assert progress["expected"] == ["j1", "j3", "j4"]
    assert progress["standing"] == {
        "j1": "submitted",
        "j2": "absent",
        "j3": "waiting",
        "j4": "waiting",
        "j5": "recused",
    }


def test_board_counts() -> None:
    f = scored_c1(reveal=True)
    f.host("skip", case="c2", reason="withdrawn")
    board = public_view(f.contest, f.state)["board/g1"]
    assert (board["revealed"], board["total"], board["waiting"], board["done"]) == (1, 3, 1, 2)
    assert board["boundary_tie"] is False
    assert board["rows"][0]["tie"] is None


def test_a_boundary_tie_is_noted_on_the_board() -> None:
    f = Final(mini_contest())
    for case in ("c1", "c2"):
        f.run_case(case, {"j1": ("5", "10"), "j2": ("6", "10"), "j3": ("7", "10"), "j4": ("8", "10")})
    board = public_view(f.contest, f.state)["board/g1"]
    assert [r["tie"] for r in board["rows"]] == ["boundary_tie", "boundary_tie"]
    assert board["boundary_tie"] is True
    f.host("resolve_tie", group="g1", order=["c2", "c1"], reason="vote")
    board = public_view(f.contest, f.state)["board/g1"]
    assert [(r["case"], r["tie"]) for r in board["rows"]] == [("c2", None), ("c1", None)]


# --- run.next ---


def test_run_next_wraps_round_to_a_waiting_case_before_the_current_one() -> None:
    f = Final(mini_contest())
    f.host("stage", case="c3")
    f.host("skip", case="c3", reason="late")
    assert public_view(f.contest, f.state)["run"]["next"] == "c4"
    f.run_case("c4", {"j1": ("5", "10"), "j2": ("6", "10"), "j3": ("7", "10")})
    # After the last case in the order: back to the start (c1), as the hub's `next` does.
    assert public_view(f.contest, f.state)["run"]["next"] == "c1"
    assert f.host("next")[0]["data"]["case"] == "c1"


@pytest.mark.parametrize("skipped", [(), ("c2",), ("c1", "c2", "c3", "c4")])
def test_run_next_is_what_next_stages(skipped: tuple[str, ...]) -> None:
    f = Final(mini_contest())
    for case in skipped:
        f.host("skip", case=case, reason="x")
    nxt = public_view(f.contest, f.state)["run"]["next"]
    assert nxt == next_case(f.state)
    if nxt is None:
        assert f.refused("host", "next") == "no_next_case"
    else:
        assert f.host("next")[0]["data"]["case"] == nxt


# --- judges' standings ---


def test_the_host_standing_follows_the_would_be_result() -> None:
    f = scored_c1()
    scores = host_view(f.contest, f.state, {})["scores"]
    # totals j1 26.5, j2 17, j3 20, j4 27: drop the highest (j4) and the lowest (j2)
    assert scores["standing"] == {
        "j1": "counted",
        "j2": "dropped_low",
        "j3": "counted",
        "j4": "dropped_high",
        "j5": "waiting",
    }
    assert scores["would_be"]["final"] == "23.25"


def test_standing_with_too_few_scores_is_submitted() -> None:
    f = Final(mini_contest())
    f.host("next")
    f.host("open")
    f.score("j1", "c1", "5", "10")
    scores = host_view(f.contest, f.state, {})["scores"]
    assert scores["would_be"]["error"] == "too_few_scores"
    assert scores["standing"]["j1"] == "submitted"
    f.host("close")
    assert host_view(f.contest, f.state, {})["scores"]["standing"]["j2"] == "missing"


def test_a_score_given_before_the_judge_was_marked_absent_still_counts() -> None:
    f = scored_c1()
    f.host("absent", judge="j1", reason="left")
    wb = would_be(f.contest, f.state.cases["c1"])
    assert [t["judge"] for t in wb["totals"]] == ["j1", "j2", "j3", "j4"]
    assert host_view(f.contest, f.state, {})["scores"]["standing"]["j1"] == "counted"
    assert judge_standing(f.contest, f.state, "c1", None)["j1"] == "submitted"


def test_every_standing_is_one_of_the_documented_ones() -> None:
    f = scored_c1(reveal=True)
    for case in ("c1", "c2", "c3", "c4"):
        for agg in (None, f.state.cases["c1"].result):
            assert set(judge_standing(f.contest, f.state, case, agg).values()) <= set(JUDGE_STANDINGS)


# --- a judge's phase ---


def test_judge_phase_through_a_case() -> None:
    f = Final(mini_contest())
    f.host("stage", case="c2")  # j5 is recused from c2
    assert judge_phase(f.contest, f.state, "j1") == "on_stage"
    assert judge_phase(f.contest, f.state, "j5") == "recused"
    f.host("open")
    f.host("absent", judge="j2", reason="ill")
    assert judge_phase(f.contest, f.state, "j2") == "absent"
    for j in ("j1", "j3", "j4"):
        f.do(j, "score", case="c2", **crit("5", "10"))
    f.host("close")
    f.host("reveal")
    assert judge_phase(f.contest, f.state, "j5") == "revealed"
    for case in ("c1", "c3", "c4"):
        f.host("skip", case=case, reason="x")
    assert judge_phase(f.contest, f.state, "j1") == "over"


# --- the pure core imports only the standard library and itself ---

PURE = ("live.scoring", "live.final", "live.chain", "live.views", "live.actions")
ALLOWED_OWN = {*PURE, "live.contest"}  # the contest model is pure core too (its loader moves out)


def imported(module: str) -> set[str]:
    return imports_of((ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"), module)


def imports_of(source: str, module: str) -> set[str]:
    """Every module a source file imports, at any depth (inside functions too)."""
    tree = ast.parse(source)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}: relative import"
            assert node.module is not None
            names.add(node.module)
            if node.module == "live":
                names.update(f"live.{alias.name}" for alias in node.names)
    return names


def outside_the_core(names: set[str]) -> list[str]:
    bad = []
    for name in sorted(names):
        top = name.split(".")[0]
        if top == "live":
            if name != "live" and name not in ALLOWED_OWN:
                bad.append(name)
        elif top not in sys.stdlib_module_names and top != "__future__":
            bad.append(name)
    return bad


@pytest.mark.parametrize("module", PURE)
def test_pure_core_imports_only_the_standard_library_and_itself(module: str) -> None:
    assert outside_the_core(imported(module)) == [], f"{module} imports outside the pure core"


def test_the_import_check_sees_foreign_and_shell_imports() -> None:
    source = (
        "import json\nfrom live import hub\ndef f():\n    import yaml\n    from live.final import apply\n"
    )
    assert outside_the_core(imports_of(source, "example")) == ["live.hub", "yaml"]
