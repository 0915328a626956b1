"""Scoring rules (DESIGN §2) as pure functions: entry validation, aggregation, ranking, prizes.

No I/O and no clock: every result here can be recomputed by anyone from the raw scores.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from live.contest import Aggregation, Rubric

# \Z, not $: `$` also matches before a trailing newline, so "87.5\n" would pass.
DECIMAL_RE = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,6})?\Z")


class RuleError(Exception):
    """A refused input, with a stable machine code (sent to clients) and a human message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_value(value: object, where: str) -> Decimal:
    """A score value is a plain decimal string: digits, optionally a point and digits."""
    if not isinstance(value, str) or not DECIMAL_RE.fullmatch(value):
        raise RuleError("bad_value", f'{where}: a score must be a decimal string like "87.5"')
    return Decimal(value)


def validate_entry(rubric: Rubric, entry: Mapping[str, object]) -> dict[str, Decimal]:
    """Check one judge's entry against the rubric; return {criterion key: value}.

    ``entry`` is the score frame's body: ``{"criteria": {key: "v"}}`` or ``{"total": "v"}``.
    """
    if rubric.single:
        if "criteria" in entry or "total" not in entry:
            raise RuleError("wrong_shape", "this contest takes one total score: send 'total'")
        raw: Mapping[str, object] = {"total": entry["total"]}
    else:
        criteria = entry.get("criteria")
        if "total" in entry or not isinstance(criteria, dict):
            raise RuleError("wrong_shape", "this contest is scored per criterion: send 'criteria'")
        raw = criteria
    known = {c.key for c in rubric.criteria}
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise RuleError("unknown_criterion", f"unknown criterion: {', '.join(unknown)}")
    values: dict[str, Decimal] = {}
    for c in rubric.criteria:
        if c.key not in raw:
            raise RuleError("missing_criterion", f"missing criterion: {c.key} ({c.name})")
        v = parse_value(raw[c.key], c.key)
        if v > c.max:
            raise RuleError("out_of_range", f"{c.name}: {v} is above the maximum {c.max}")
        if v % c.step != 0:
            raise RuleError("bad_step", f"{c.name}: {v} is not a multiple of {c.step}")
        values[c.key] = v
    return values


def plain(value: Decimal) -> str:
    """A decimal as the wire writes it: no exponent, no trailing zeros ("80", "86.5")."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def entry_total(values: Mapping[str, Decimal]) -> Decimal:
    return sum(values.values(), Decimal(0))


def round_half_up(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _exact_mean(values: Sequence[Decimal]) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return sum(values, Decimal(0)) / len(values)


def _plain(value: Decimal) -> Decimal:
    """Drop trailing zeros without going to exponent form: 100, not 1E+2 (its str is shown)."""
    with localcontext() as ctx:
        ctx.prec = 40
        value = value.normalize()
        if value.as_tuple().exponent > 0:  # type: ignore[operator]
            value = value.quantize(Decimal(1))
    return value


@dataclass(frozen=True)
class Aggregate:
    """One case's result: the final score and how it was reached."""

    final: Decimal
    unrounded: Decimal
    totals: tuple[tuple[str, Decimal], ...]  # (judge, total) in panel order
    dropped_low: tuple[str, ...]
    dropped_high: tuple[str, ...]

    @property
    def dropped(self) -> tuple[str, ...]:
        return self.dropped_high + self.dropped_low


def min_scores(agg: Aggregation) -> int:
    return agg.min_scores


def aggregate(agg: Aggregation, totals: Sequence[tuple[str, Decimal]]) -> Aggregate:
    """Aggregate judges' totals, given in panel order.

    Equal values are dropped in panel order (the earliest judge on the panel first for the
    low end, the latest for the high end), so the choice is stable and explainable.
    """
    if len(totals) < agg.min_scores or not totals:
        raise RuleError("too_few_scores", f"{len(totals)} score(s); at least {agg.min_scores} needed")
    ordered = sorted(range(len(totals)), key=lambda i: (totals[i][1], i))
    low: list[int] = []
    high: list[int] = []
    if agg.method == "trimmed_mean" and agg.drop:
        low = ordered[: agg.drop]
        high = ordered[-agg.drop :]
        kept = [totals[i][1] for i in ordered[agg.drop : -agg.drop]]
        unrounded = _exact_mean(kept)
    elif agg.method == "median":
        values = [totals[i][1] for i in ordered]
        mid = len(values) // 2
        unrounded = values[mid] if len(values) % 2 else _exact_mean(values[mid - 1 : mid + 1])
    else:
        unrounded = _exact_mean([t for _, t in totals])
    return Aggregate(
        final=round_half_up(unrounded, agg.decimals),
        unrounded=_plain(unrounded),
        totals=tuple(totals),
        dropped_low=tuple(totals[i][0] for i in low),
        dropped_high=tuple(totals[i][0] for i in reversed(high)),
    )


# --- ranking and prizes ---


@dataclass(frozen=True)
class Entry:
    """What ranking needs of one revealed case."""

    case: str
    final: Decimal
    unrounded: Decimal
    criterion_means: Mapping[str, Decimal]


@dataclass(frozen=True)
class Placing:
    case: str
    rank: int
    prize: str | None
    tied: bool  # shares its rank after the whole tie-break chain
    boundary_tie: bool  # the tie straddles a prize boundary: the host must resolve it


def _sort_key(entry: Entry, chain: Sequence[str]) -> tuple[Decimal, ...]:
    key = [-entry.final]
    for rule in chain:
        if rule == "unrounded":
            key.append(-entry.unrounded)
        else:
            key.append(-entry.criterion_means.get(rule.removeprefix("criterion:"), Decimal(0)))
    return tuple(key)


def rank(
    entries: Iterable[Entry],
    chain: Sequence[str],
    prizes: Sequence[tuple[str, int]],
    resolved: Sequence[str] = (),
) -> list[Placing]:
    """Rank one group's revealed cases, best first, and hand out prizes by rank.

    ``resolved`` is a host-chosen order that breaks ties the chain could not; cases it
    names are ordered by it among those still tied. A tie that survives shares the rank
    (1, 2, 2, 4) and is flagged; when it straddles a prize boundary it is flagged for the host.
    """
    position = {case: i for i, case in enumerate(resolved)}
    # A host order separates two cases only when it names both, so a case it does not
    # name never inherits a place from the resolution.
    keyed = sorted(((_sort_key(e, chain), position.get(e.case, len(position)), e.case), e) for e in entries)
    items = [e for _, e in keyed]
    keys = [k[0] for k, _ in keyed]  # each case's tie-break key, computed once
    placings: list[Placing] = []
    boundaries: list[int] = []
    upto = 0
    for _, count in prizes:
        upto += count
        boundaries.append(upto)
    i = 0
    while i < len(items):
        j = i + 1
        while j < len(items) and keys[j] == keys[i]:
            j += 1
        # A block that the chain cannot split is split by the host's order only when that order
        # names every case in it: a case that joins a tie after it was resolved re-opens the
        # whole tie, rather than being placed below the resolved cases without anyone deciding.
        block = items[i:j]
        runs = [[e] for e in block] if all(e.case in position for e in block) else [block]
        for run in runs:
            rank_ = i + 1
            size = len(run)
            last = rank_ + size - 1
            straddles = size > 1 and any(rank_ <= b < last for b in boundaries)
            prize = _prize_for(rank_, prizes)
            for e in run:
                placings.append(Placing(e.case, rank_, prize, size > 1, straddles))
            i += size
    return placings


def tie_note(placing: Placing) -> str | None:
    """How a placing is flagged: "boundary_tie" (the host must resolve it), "tied", or None."""
    if placing.boundary_tie:
        return "boundary_tie"
    return "tied" if placing.tied else None


def _prize_for(rank_: int, prizes: Sequence[tuple[str, int]]) -> str | None:
    upto = 0
    for name, count in prizes:
        upto += count
        if rank_ <= upto:
            return name
    return None
