"""Scoring rules (DESIGN §2): entry validation, aggregation with ROUND_HALF_UP, ranking, prizes."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from core_helpers import D
from hypothesis import given, settings
from hypothesis import strategies as st

from live.contest import Aggregation, Criterion, Rubric
from live.scoring import (
    Entry,
    RuleError,
    aggregate,
    entry_total,
    parse_value,
    rank,
    round_half_up,
    validate_entry,
)

CRITERIA = Rubric((Criterion("a", "A", D(10), D("0.5")), Criterion("b", "B", D(20), D(1))))
TOTAL = Rubric((Criterion("total", "总分", D(100), D("0.01")),), single=True)


def crit(**values: Any) -> dict[str, Any]:
    return {"criteria": values}


# --- one judge's entry ---

VALID = [
    (CRITERIA, crit(a="9.5", b="20"), {"a": D("9.5"), "b": D(20)}),
    (CRITERIA, crit(a="0", b="0"), {"a": D(0), "b": D(0)}),
    (CRITERIA, crit(a="10", b="7.0"), {"a": D(10), "b": D(7)}),
    (CRITERIA, {"case": "c1", "id": "x", **crit(a="1", b="2")}, {"a": D(1), "b": D(2)}),
    (TOTAL, {"total": "87.25"}, {"total": D("87.25")}),
    (TOTAL, {"total": "100"}, {"total": D(100)}),
]


@pytest.mark.parametrize(("rubric", "entry", "values"), VALID)
def test_valid_entries(rubric: Rubric, entry: dict[str, Any], values: dict[str, Decimal]) -> None:
    got = validate_entry(rubric, entry)
    assert got == values
    assert all(isinstance(v, Decimal) for v in got.values())
    assert entry_total(got) == sum(values.values())


REFUSED = [
    ("above-max", CRITERIA, crit(a="10.5", b="1"), "out_of_range"),
    ("above-max-second", CRITERIA, crit(a="1", b="21"), "out_of_range"),
    ("total-above-max", TOTAL, {"total": "100.01"}, "out_of_range"),
    ("off-step", CRITERIA, crit(a="9.3", b="1"), "bad_step"),
    ("off-step-integer-criterion", CRITERIA, crit(a="1", b="1.5"), "bad_step"),
    ("total-off-step", TOTAL, {"total": "87.255"}, "bad_step"),
    ("missing", CRITERIA, crit(a="1"), "missing_criterion"),
    ("missing-all", CRITERIA, crit(), "missing_criterion"),
    ("unknown", CRITERIA, crit(a="1", b="1", c="1"), "unknown_criterion"),
    ("exponent", CRITERIA, crit(a="1e1", b="1"), "bad_value"),
    ("exponent-total", TOTAL, {"total": "1e2"}, "bad_value"),
    ("negative", CRITERIA, crit(a="-1", b="1"), "bad_value"),
    ("plus-sign", CRITERIA, crit(a="+1", b="1"), "bad_value"),
    ("leading-space", CRITERIA, crit(a=" 8", b="1"), "bad_value"),
    ("trailing-space", CRITERIA, crit(a="8 ", b="1"), "bad_value"),
    ("trailing-newline", CRITERIA, crit(a="8\n", b="1"), "bad_value"),
    ("full-width-digit", CRITERIA, crit(a="８", b="1"), "bad_value"),
    ("arabic-indic-digit", CRITERIA, crit(a="٨", b="1"), "bad_value"),
    ("nan", CRITERIA, crit(a="NaN", b="1"), "bad_value"),
    ("infinity", TOTAL, {"total": "Infinity"}, "bad_value"),
    ("empty", CRITERIA, crit(a="", b="1"), "bad_value"),
    ("bare-point", CRITERIA, crit(a="8.", b="1"), "bad_value"),
    ("leading-point", CRITERIA, crit(a=".5", b="1"), "bad_value"),
    ("comma", CRITERIA, crit(a="8,5", b="1"), "bad_value"),
    ("float", CRITERIA, crit(a=8.5, b="1"), "bad_value"),
    ("int", CRITERIA, crit(a=8, b="1"), "bad_value"),
    ("bool", CRITERIA, crit(a=True, b="1"), "bad_value"),
    ("none", CRITERIA, crit(a=None, b="1"), "bad_value"),
    ("too-many-digits", TOTAL, {"total": "1234567"}, "bad_value"),
    ("too-many-decimals", TOTAL, {"total": "1.1234567"}, "bad_value"),
    ("total-to-criteria-rubric", CRITERIA, {"total": "8"}, "wrong_shape"),
    ("both-shapes", CRITERIA, {"total": "8", **crit(a="1", b="1")}, "wrong_shape"),
    ("criteria-not-a-mapping", CRITERIA, {"criteria": ["1", "1"]}, "wrong_shape"),
    ("criteria-to-total-rubric", TOTAL, crit(total="8"), "wrong_shape"),
    ("nothing", TOTAL, {}, "wrong_shape"),
]


@pytest.mark.parametrize(("rubric", "entry", "code"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_entries(rubric: Rubric, entry: dict[str, Any], code: str) -> None:
    with pytest.raises(RuleError) as info:
        validate_entry(rubric, entry)
    assert info.value.code == code
    assert info.value.message


def test_parse_value_names_where() -> None:
    assert parse_value("87.5", "x") == D("87.5")
    with pytest.raises(RuleError, match="innovation"):
        parse_value("8e1", "innovation")


# --- rounding and aggregation ---


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        ("86.125", 2, "86.13"),  # round() would give 86.12 (half to even)
        ("86.135", 2, "86.14"),
        ("86.1249999", 2, "86.12"),
        ("84.5", 0, "85"),  # round() would give 84
        ("85.5", 0, "86"),
        ("0.005", 2, "0.01"),
        ("99.9995", 3, "100.000"),
        ("7", 2, "7.00"),
    ],
)
def test_round_half_up(value: str, decimals: int, expected: str) -> None:
    got = round_half_up(D(value), decimals)
    assert str(got) == expected


TRIM1 = Aggregation("trimmed_mean", 1, 2)


def totals(*values: str | int) -> list[tuple[str, Decimal]]:
    return [(f"j{i}", D(v)) for i, v in enumerate(values, 1)]


# (id, aggregation, totals, final, unrounded, dropped low, dropped high)
AGGREGATES = [
    ("trimmed-exact-x.xx5", TRIM1, totals(70, 86, 86, 86, "86.5", 95), "86.13", "86.125", ("j1",), ("j6",)),
    ("trimmed-thirds-down", TRIM1, totals(80, 85, 85, 86, 99), "85.33", "85." + "3" * 38, ("j1",), ("j5",)),
    (
        "trimmed-thirds-up",
        TRIM1,
        totals(80, 85, 86, 86, 99),
        "85.67",
        "85." + "6" * 37 + "7",
        ("j1",),
        ("j5",),
    ),
    ("trimmed-order-free", TRIM1, totals(99, 85, 80, 86, 86), "85.67", None, ("j3",), ("j1",)),
    # equal values: the earliest judge is dropped at the low end, the latest at the high end
    ("trimmed-ties-in-panel-order", TRIM1, totals(80, 80, 90, 90, 85), "85.00", "85", ("j1",), ("j4",)),
    ("trimmed-all-equal", TRIM1, totals(100, 100, 100), "100.00", "100", ("j1",), ("j3",)),
    (
        "trimmed-drop-2",
        Aggregation("trimmed_mean", 2, 2),
        totals(1, 2, 50, 60, 70, 98, 99),
        "60.00",
        "60",
        ("j1", "j2"),
        ("j7", "j6"),
    ),
    ("trimmed-drop-0-is-mean", Aggregation("trimmed_mean", 0, 2), totals(80, 81), "80.50", "80.5", (), ()),
    ("mean", Aggregation("mean", 0, 2), totals(80, "85.5", 90), "85.17", None, (), ()),
    (
        "mean-one-decimal-half-up",
        Aggregation("mean", 0, 1),
        totals("80.1", "80.2", "80.3", "80.4"),
        "80.3",
        "80.25",
        (),
        (),
    ),
    ("median-odd", Aggregation("median", 0, 2), totals(90, 70, 80), "80.00", "80", (), ()),
    ("median-even", Aggregation("median", 0, 2), totals(90, 70, 80, 85), "82.50", "82.5", (), ()),
    (
        "median-even-half-up",
        Aggregation("median", 0, 0),
        totals("84", "85", "10", "99"),
        "85",
        "84.5",
        (),
        (),
    ),
    ("mean-zero", Aggregation("mean", 0, 2), totals(0, 0), "0.00", "0", (), ()),
]


@pytest.mark.parametrize(
    ("agg", "given", "final", "unrounded", "low", "high"),
    [r[1:] for r in AGGREGATES],
    ids=[r[0] for r in AGGREGATES],
)
def test_aggregate(
    agg: Aggregation,
    given: list[tuple[str, Decimal]],
    final: str,
    unrounded: str | None,
    low: tuple[str, ...],
    high: tuple[str, ...],
) -> None:
    result = aggregate(agg, given)
    assert str(result.final) == final
    if unrounded is not None:
        assert result.unrounded == D(unrounded)
    assert "E" not in str(result.unrounded)  # shown as a plain decimal
    assert result.dropped_low == low
    assert result.dropped_high == high
    assert set(result.dropped) == set(low) | set(high)
    assert result.totals == tuple(given)


def test_half_up_differs_from_python_round() -> None:
    result = aggregate(TRIM1, totals(70, 86, 86, 86, "86.5", 95))
    assert result.unrounded == D("86.125")
    assert str(result.final) == "86.13"
    assert round(result.unrounded, 2) == D("86.12")  # banker's rounding: the wrong answer here


@pytest.mark.parametrize(
    ("agg", "count"),
    [
        (TRIM1, 2),
        (TRIM1, 0),
        (Aggregation("trimmed_mean", 2, 2), 4),
        (Aggregation("mean", 0, 2), 0),
        (Aggregation("median", 0, 2), 0),
    ],
)
def test_too_few_scores(agg: Aggregation, count: int) -> None:
    with pytest.raises(RuleError) as info:
        aggregate(agg, totals(*[80] * count))
    assert info.value.code == "too_few_scores"


# --- ranking and prizes ---


def entry(case: str, final: str, unrounded: str | None = None, **crit_means: str) -> Entry:
    return Entry(case, D(final), D(unrounded or final), {k: D(v) for k, v in crit_means.items()})


CHAIN = ("unrounded", "criterion:a")
PRIZES_1_2 = (("first", 1), ("second", 2))


def placed(placings: list[Any]) -> list[tuple[str, int, str | None, bool, bool]]:
    return [(p.case, p.rank, p.prize, p.tied, p.boundary_tie) for p in placings]


def test_shared_ranks_1_2_2_4() -> None:
    entries = [entry("A", "90"), entry("B", "85", a="5"), entry("C", "85", a="5"), entry("D", "80")]
    got = placed(rank(entries, CHAIN, PRIZES_1_2))
    assert got == [
        ("A", 1, "first", False, False),
        ("B", 2, "second", True, False),
        ("C", 2, "second", True, False),
        ("D", 4, None, False, False),
    ]


def test_tie_broken_by_unrounded_then_criterion() -> None:
    entries = [
        entry("low-unrounded", "85.00", "84.996", a="9"),
        entry("high-unrounded", "85.00", "85.004", a="1"),
        entry("crit-low", "85.00", "85.000", a="4"),
        entry("crit-high", "85.00", "85.000", a="6"),
    ]
    got = [(p.case, p.rank, p.tied) for p in rank(entries, CHAIN, ())]
    assert got == [
        ("high-unrounded", 1, False),
        ("crit-high", 2, False),
        ("crit-low", 3, False),
        ("low-unrounded", 4, False),
    ]


def test_chain_order_matters() -> None:
    entries = [entry("X", "85.00", "84.996", a="9"), entry("Y", "85.00", "85.004", a="1")]
    assert [p.case for p in rank(entries, ("unrounded", "criterion:a"), ())] == ["Y", "X"]
    assert [p.case for p in rank(entries, ("criterion:a", "unrounded"), ())] == ["X", "Y"]
    # without a chain the tie on the final score stands
    assert [(p.rank, p.tied) for p in rank(entries, (), ())] == [(1, True), (1, True)]


def test_tie_within_a_prize_band_is_not_a_boundary_tie() -> None:
    entries = [entry("A", "90"), entry("B", "85"), entry("C", "85"), entry("D", "80")]
    got = placed(rank(entries, (), (("first", 1), ("second", 2), ("third", 1))))
    assert got == [
        ("A", 1, "first", False, False),
        ("B", 2, "second", True, False),
        ("C", 2, "second", True, False),
        ("D", 4, "third", False, False),
    ]


def test_tie_across_a_prize_boundary_is_flagged() -> None:
    entries = [entry("A", "90"), entry("B", "85"), entry("C", "85"), entry("D", "80")]
    got = placed(rank(entries, (), (("first", 2), ("second", 2))))
    assert got == [
        ("A", 1, "first", False, False),
        ("B", 2, "first", True, True),
        ("C", 2, "first", True, True),
        ("D", 4, "second", False, False),
    ]


def test_tie_across_the_last_prize_is_flagged() -> None:
    entries = [entry("A", "90"), entry("B", "85"), entry("C", "85")]
    got = placed(rank(entries, (), (("first", 2),)))
    assert got[1:] == [("B", 2, "first", True, True), ("C", 2, "first", True, True)]


def test_host_resolution_order_breaks_a_surviving_tie() -> None:
    entries = [entry("A", "90"), entry("B", "85"), entry("C", "85"), entry("D", "80")]
    got = placed(rank(entries, CHAIN, (("first", 2), ("second", 2)), resolved=["C", "B"]))
    assert got == [
        ("A", 1, "first", False, False),
        ("C", 2, "first", False, False),
        ("B", 3, "second", False, False),
        ("D", 4, "second", False, False),
    ]


def test_host_order_naming_one_case_does_not_break_the_tie() -> None:
    entries = [entry("B", "85"), entry("C", "85")]
    assert [(p.rank, p.tied) for p in rank(entries, (), (("first", 1),), resolved=["C"])] == [
        (1, True),
        (1, True),
    ]


def test_host_order_does_not_override_the_chain() -> None:
    entries = [entry("A", "90"), entry("B", "85")]
    assert [p.case for p in rank(entries, (), (), resolved=["B", "A"])] == ["A", "B"]


@pytest.mark.parametrize(
    ("prizes", "expected"),
    [
        (
            (("一等奖", 2), ("二等奖", 2), ("三等奖", 2)),
            ["一等奖", "一等奖", "二等奖", "二等奖", "三等奖", "三等奖", None],
        ),
        ((("一等奖", 1), ("二等奖", 0), ("三等奖", 1)), ["一等奖", "三等奖", None, None, None, None, None]),
        ((("一等奖", 5), ("二等奖", 5), ("三等奖", 5)), ["一等奖"] * 5 + ["二等奖"] * 2),
        ((), [None] * 7),
    ],
)
def test_prizes_by_counts(prizes: tuple[tuple[str, int], ...], expected: list[str | None]) -> None:
    entries = [entry(f"c{i}", str(90 - i)) for i in range(7)]
    got = rank(entries, CHAIN, prizes)
    assert [p.case for p in got] == [f"c{i}" for i in range(7)]
    assert [p.rank for p in got] == list(range(1, 8))
    assert [p.prize for p in got] == expected


# --- properties ---

score_values = st.decimals(min_value=0, max_value=100, places=1, allow_nan=False, allow_infinity=False)
aggregations = st.sampled_from(
    [
        Aggregation("trimmed_mean", 1, 2),
        Aggregation("trimmed_mean", 2, 2),
        Aggregation("trimmed_mean", 0, 2),
        Aggregation("mean", 0, 2),
        Aggregation("median", 0, 2),
        Aggregation("trimmed_mean", 1, 0),
    ]
)


@settings(max_examples=150, deadline=None)
@given(agg=aggregations, values=st.lists(score_values, min_size=5, max_size=15), data=st.data())
def test_judge_order_does_not_change_the_result(
    agg: Aggregation, values: list[Decimal], data: st.DataObject
) -> None:
    given_totals = [(f"j{i}", v) for i, v in enumerate(values)]
    shuffled = data.draw(st.permutations(given_totals))
    a, b = aggregate(agg, given_totals), aggregate(agg, shuffled)
    assert a.final == b.final
    assert a.unrounded == b.unrounded
    by_judge = dict(given_totals)
    # the dropped judges may differ among equal totals, but their values may not
    assert Counter(by_judge[j] for j in a.dropped_low) == Counter(by_judge[j] for j in b.dropped_low)
    assert Counter(by_judge[j] for j in a.dropped_high) == Counter(by_judge[j] for j in b.dropped_high)


@settings(max_examples=150, deadline=None)
@given(drop=st.integers(0, 3), values=st.lists(score_values, min_size=7, max_size=15))
def test_trimmed_mean_lies_between_the_kept_scores(drop: int, values: list[Decimal]) -> None:
    agg = Aggregation("trimmed_mean", drop, 2)
    given_totals = [(f"j{i}", v) for i, v in enumerate(values)]
    result = aggregate(agg, given_totals)
    assert len(result.dropped_low) == len(result.dropped_high) == drop
    assert len(set(result.dropped)) == 2 * drop
    kept = [v for j, v in given_totals if j not in result.dropped]
    assert len(kept) == len(values) - 2 * drop
    assert min(kept) <= result.unrounded <= max(kept)
    assert round_half_up(min(kept), 2) <= result.final <= round_half_up(max(kept), 2)
    by_judge = dict(given_totals)
    assert all(by_judge[j] <= min(kept) for j in result.dropped_low)
    assert all(by_judge[j] >= max(kept) for j in result.dropped_high)


entries_strategy = st.lists(
    st.tuples(st.sampled_from(["80", "85", "85.5", "90"]), st.sampled_from(["1", "2"])),
    min_size=1,
    max_size=12,
).map(lambda rows: [entry(f"c{i:02}", final, a=a) for i, (final, a) in enumerate(rows)])
prizes_strategy = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(
    lambda counts: tuple((f"p{i}", n) for i, n in enumerate(counts))
)


@settings(max_examples=200, deadline=None)
@given(
    entries=entries_strategy,
    prizes=prizes_strategy,
    chain=st.sampled_from([(), ("criterion:a",)]),
    data=st.data(),
)
def test_ranking_properties(
    entries: list[Entry], prizes: tuple[tuple[str, int], ...], chain: tuple[str, ...], data: st.DataObject
) -> None:
    placings = rank(entries, chain, prizes)
    by_case = {e.case: e for e in entries}

    def key(case: str) -> tuple[Decimal, ...]:
        e = by_case[case]
        return (e.final, *(e.criterion_means["a"] for _ in chain))

    assert sorted(p.case for p in placings) == sorted(by_case)
    for p in placings:
        better = sum(1 for q in placings if key(q.case) > key(p.case))
        same = sum(1 for q in placings if key(q.case) == key(p.case))
        assert p.rank == better + 1  # shared ranks: 1, 2, 2, 4
        assert p.tied == (same > 1)
    # the input order of the entries does not matter
    assert rank(data.draw(st.permutations(entries)), chain, prizes) == placings
    # prize counts hold unless a tie across a boundary is flagged for the host
    if not any(p.boundary_tie for p in placings):
        got = Counter(p.prize for p in placings if p.prize is not None)
        want: Counter[str] = Counter()
        position = 0
        for name, count in prizes:
            take = max(0, min(count, len(placings) - position))
            if take:
                want[name] = take
            position += count
        assert got == want


def test_a_case_joining_a_resolved_tie_reopens_it() -> None:
    # B and C were tied and the host put C first; then D is revealed with the very same result.
    entries = [entry("A", "90"), entry("B", "85"), entry("C", "85"), entry("D", "85")]
    got = placed(rank(entries, CHAIN, (("first", 2), ("second", 2)), resolved=["C", "B"]))
    assert got == [
        ("A", 1, "first", False, False),
        ("C", 2, "first", True, True),
        ("B", 2, "first", True, True),
        ("D", 2, "first", True, True),
    ]
    again = placed(rank(entries, CHAIN, (("first", 2), ("second", 2)), resolved=["C", "B", "D"]))
    assert [(case, r, tied) for case, r, _, tied, _ in again] == [
        ("A", 1, False),
        ("C", 2, False),
        ("B", 3, False),
        ("D", 4, False),
    ]
