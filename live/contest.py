"""The contest (DESIGN §4): immutable typed objects, and a parser that lists every problem.

Validation never stops at the first problem: organisers fix a file faster when they see all of
them at once, each with its field path (``cases[7].group``) and a reason. Pure: reading the file
(YAML, spreadsheets) is ``live.contest_file``'s job.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

AGGREGATION_METHODS = ("trimmed_mean", "mean", "median")
RESERVED_ACTORS = ("host", "system")  # actors in the event log; a judge id must differ
ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class Criterion:
    key: str
    name: str
    max: Decimal
    step: Decimal


@dataclass(frozen=True)
class Rubric:
    """Either several criteria summed into a total, or one ``total`` score (``single``)."""

    criteria: tuple[Criterion, ...]
    single: bool = False

    @property
    def max_total(self) -> Decimal:
        return sum((c.max for c in self.criteria), Decimal(0))


@dataclass(frozen=True)
class Aggregation:
    method: str = "trimmed_mean"
    drop: int = 1
    decimals: int = 2

    @property
    def min_scores(self) -> int:
        return 2 * self.drop + 1 if self.method == "trimmed_mean" else 1


@dataclass(frozen=True)
class Timing:
    present_seconds: int = 300
    comment_seconds: int = 0


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    prizes: tuple[tuple[str, int], ...]  # best prize first


@dataclass(frozen=True)
class Judge:
    id: str
    name: str
    unit: str = ""


@dataclass(frozen=True)
class Case:
    id: str
    group: str
    title: str
    unit: str = ""
    presenter: str = ""


@dataclass(frozen=True)
class Contest:
    title: str
    rubric: Rubric
    aggregation: Aggregation
    tie_break: tuple[str, ...]
    timing: Timing
    groups: tuple[Group, ...]
    judges: tuple[Judge, ...]
    cases: tuple[Case, ...]
    recusals: frozenset[tuple[str, str]]  # (judge, case), explicit and by unit
    theme: str = ""
    auto_close: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def group(self, key: str) -> Group:
        return next(g for g in self.groups if g.key == key)

    def case(self, case_id: str) -> Case:
        return self._cases_by_id[case_id]

    def judge(self, judge_id: str) -> Judge:
        return self._judges_by_id[judge_id]

    @property
    def _cases_by_id(self) -> dict[str, Case]:
        cached = self.__dict__.get("_cases_cache")
        if cached is None:
            cached = {c.id: c for c in self.cases}
            object.__setattr__(self, "_cases_cache", cached)
        return cached

    @property
    def _judges_by_id(self) -> dict[str, Judge]:
        cached = self.__dict__.get("_judges_cache")
        if cached is None:
            cached = {j.id: j for j in self.judges}
            object.__setattr__(self, "_judges_cache", cached)
        return cached

    def has_case(self, case_id: object) -> bool:
        return isinstance(case_id, str) and case_id in self._cases_by_id

    def has_judge(self, judge_id: object) -> bool:
        return isinstance(judge_id, str) and judge_id in self._judges_by_id

    def is_recused(self, judge_id: str, case_id: str) -> bool:
        return (judge_id, case_id) in self.recusals

    def group_cases(self, group: str) -> tuple[Case, ...]:
        return tuple(c for c in self.cases if c.group == group)


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class ContestError(Exception):
    """A contest file that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = problems
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + f"{len(problems)} problem(s)\n" + "\n".join(map(str, problems)))


# --- a tiny schema checker: (type, required) per field, so the rules read as data ---

_SCALAR_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
    "number": "a number",
    (dict, list): "a mapping or a list",
}


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, reason: str) -> None:
        self.problems.append(Problem(path, reason))

    def has(self, path: str) -> bool:
        return any(p.path == path for p in self.problems)

    def fields(self, obj: Any, path: str, spec: dict[str, tuple[Any, bool]]) -> dict[str, Any]:
        """Check a mapping's keys and value types; return only the well-typed values."""
        if not isinstance(obj, dict):
            self.add(path or "(top)", "must be a mapping")
            return {}
        good: dict[str, Any] = {}
        for key in obj:
            if key not in spec:
                self.add(_join(path, str(key)), "unknown field")
        for key, (kind, required) in spec.items():
            where = _join(path, key)
            if key not in obj or obj[key] is None:
                if required:
                    self.add(where, "missing")
                continue
            value = obj[key]
            if _is_kind(value, kind):
                good[key] = value
            else:
                self.add(where, f"must be {_SCALAR_NAMES[kind]}, not {type(value).__name__}")
        return good

    def number(self, value: Any, path: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.add(path, "must be a number")
            return None
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            self.add(path, "must be a number")
            return None
        if not d.is_finite():
            self.add(path, "must be a finite number")
            return None
        return d


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_kind(value: Any, kind: Any) -> bool:
    if kind == "number":
        return isinstance(value, int | float | str) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is str:
        # YAML turns 01 or 2025 into numbers; a name or id that looks numeric is still fine.
        return isinstance(value, str | int) and not isinstance(value, bool)
    return isinstance(value, kind)


TOP_SPEC: dict[str, tuple[Any, bool]] = {
    "title": (str, True),
    "theme": (str, False),
    "rubric": (list, False),
    "total": (dict, False),
    "aggregation": (dict, False),
    "tie_break": (list, False),
    "timing": (dict, False),
    "auto_close": (bool, False),
    "groups": (list, True),
    "judges": (list, True),
    "cases": (list, True),
    "recusals": (list, False),
    "auto_recuse_same_unit": (bool, False),
}
CRITERION_SPEC = {"key": (str, True), "name": (str, True), "max": ("number", True), "step": ("number", True)}
TOTAL_SPEC = {"max": ("number", True), "step": ("number", True)}
AGG_SPEC = {"method": (str, False), "drop": (int, False), "decimals": (int, False)}
TIMING_SPEC = {"present_seconds": (int, False), "comment_seconds": (int, False)}
GROUP_SPEC = {"key": (str, True), "name": (str, True), "prizes": ((dict, list), True)}
JUDGE_SPEC = {"id": (str, True), "name": (str, True), "unit": (str, False)}
CASE_SPEC = {
    "id": (str, True),
    "group": (str, True),
    "title": (str, True),
    "unit": (str, False),
    "presenter": (str, False),
}
RECUSAL_SPEC = {"judge": (str, True), "case": (str, True)}


def _list_of(
    ck: _Checker, items: list[Any], path: str, spec: dict[str, tuple[Any, bool]]
) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{path}[{i}]", ck.fields(item, f"{path}[{i}]", spec)) for i, item in enumerate(items)]


def _unique_ids(ck: _Checker, rows: list[tuple[str, dict[str, Any]]], key: str, what: str) -> None:
    seen: dict[str, str] = {}
    for path, row in rows:
        if key not in row:
            continue
        ident = str(row[key])
        if not ID_RE.match(ident):
            ck.add(f"{path}.{key}", "must be 1-64 letters, digits, '-', '_' or '.'")
        if ident in seen:
            ck.add(f"{path}.{key}", f"duplicate {what} id {ident!r} (first at {seen[ident]})")
        else:
            seen[ident] = path


def _prize_pairs(ck: _Checker, prizes: Any, path: str) -> list[tuple[Any, Any]]:
    """Prizes come as a mapping (best first) or, as stored in the log, a list of
    ``{name, count}``: JSON with sorted keys must not reorder the prizes."""
    if isinstance(prizes, dict):
        return list(prizes.items())
    pairs = []
    for i, item in enumerate(prizes):
        if isinstance(item, dict) and set(item) == {"name", "count"}:
            pairs.append((item["name"], item["count"]))
        else:
            ck.add(f"{path}[{i}]", "must be {name, count}")
    return pairs


def contest_data(contest: Contest) -> dict[str, Any]:
    """The contest as plain JSON data whose meaning survives key sorting (prizes as a list)."""
    data = json.loads(json.dumps(contest.raw, ensure_ascii=False, default=str))
    for group in data.get("groups", []):
        if isinstance(group.get("prizes"), dict):
            group["prizes"] = [{"name": k, "count": v} for k, v in group["prizes"].items()]
    return data


def _step_divides(max_: Decimal, step: Decimal) -> bool:
    return step > 0 and (max_ % step) == 0


def _rubric(ck: _Checker, top: dict[str, Any]) -> Rubric | None:
    if "rubric" in top and "total" in top:
        ck.add("rubric", "give either rubric or total, not both")
        return None
    if "rubric" not in top and "total" not in top:
        if not any(ck.has(p) for p in ("rubric", "total")):  # not already refused for its type
            ck.add("rubric", "missing (give rubric criteria, or total: {max, step})")
        return None
    criteria: list[Criterion] = []
    if "total" in top:
        rows = [("total", ck.fields(top["total"], "total", TOTAL_SPEC))]
        single = True
    else:
        if not top["rubric"]:
            ck.add("rubric", "must list at least one criterion")
            return None
        rows = _list_of(ck, top["rubric"], "rubric", CRITERION_SPEC)
        _unique_ids(ck, rows, "key", "criterion")
        single = False
    ok = True
    for path, row in rows:
        mx = ck.number(row["max"], f"{path}.max") if "max" in row else None
        st = ck.number(row["step"], f"{path}.step") if "step" in row else None
        if mx is not None and mx <= 0:
            ck.add(f"{path}.max", "must be greater than 0")
            mx = None
        if st is not None and st <= 0:
            ck.add(f"{path}.step", "must be greater than 0")
            st = None
        if mx is not None and st is not None and not _step_divides(mx, st):
            ck.add(f"{path}.step", f"step {st} does not divide max {mx}")
            st = None
        if mx is None or st is None or (not single and ("key" not in row or "name" not in row)):
            ok = False
            continue
        key = "total" if single else str(row["key"])
        name = "总分" if single else str(row["name"])
        criteria.append(Criterion(key, name, mx, st))
    return Rubric(tuple(criteria), single) if ok else None


def parse_contest(data: Any, source: str = "") -> Contest:
    """Build a Contest from parsed YAML/JSON data, or raise ContestError listing every problem."""
    ck = _Checker()
    top = ck.fields(data, "", TOP_SPEC)
    if not isinstance(data, dict):
        raise ContestError(ck.problems, source)

    rubric = _rubric(ck, top)

    agg_raw = ck.fields(top.get("aggregation", {}), "aggregation", AGG_SPEC)
    method = str(agg_raw.get("method", "trimmed_mean"))
    if method not in AGGREGATION_METHODS:
        ck.add("aggregation.method", f"must be one of {', '.join(AGGREGATION_METHODS)}")
    drop = agg_raw.get("drop", 1 if method == "trimmed_mean" else 0)
    if drop < 0:
        ck.add("aggregation.drop", "must be 0 or more")
    decimals = agg_raw.get("decimals", 2)
    if not 0 <= decimals <= 6:
        ck.add("aggregation.decimals", "must be between 0 and 6")
    aggregation = Aggregation(method, drop, decimals)

    timing_raw = ck.fields(top.get("timing", {}), "timing", TIMING_SPEC)
    for key, value in timing_raw.items():
        if value < 0:
            ck.add(f"timing.{key}", "must be 0 or more")
    timing = Timing(**timing_raw)

    groups_rows = _list_of(ck, top.get("groups", []), "groups", GROUP_SPEC)
    judge_rows = _list_of(ck, top.get("judges", []), "judges", JUDGE_SPEC)
    case_rows = _list_of(ck, top.get("cases", []), "cases", CASE_SPEC)
    rec_rows = _list_of(ck, top.get("recusals", []), "recusals", RECUSAL_SPEC)
    _unique_ids(ck, groups_rows, "key", "group")
    _unique_ids(ck, judge_rows, "id", "judge")
    for path, row in judge_rows:
        if str(row.get("id", "")).lower() in RESERVED_ACTORS:
            ck.add(f"{path}.id", f"{row['id']!r} is reserved for the log's own actors")
    _unique_ids(ck, case_rows, "id", "case")
    if "groups" in top and not top["groups"]:
        ck.add("groups", "must list at least one group")
    if "judges" in top and not top["judges"]:
        ck.add("judges", "must list at least one judge")
    if "cases" in top and not top["cases"]:
        ck.add("cases", "must list at least one case")

    group_keys = {str(r["key"]) for _, r in groups_rows if "key" in r}
    unknown_groups = False
    for path, row in case_rows:
        if "group" in row and str(row["group"]) not in group_keys:
            ck.add(f"{path}.group", f"unknown group {row['group']!r}")
            unknown_groups = True

    case_paths = [
        (
            path,
            Case(
                str(r["id"]),
                str(r["group"]),
                str(r["title"]),
                str(r.get("unit", "")),
                str(r.get("presenter", "")),
            ),
        )
        for path, r in case_rows
        if {"id", "group", "title"} <= r.keys()
    ]
    cases = tuple(c for _, c in case_paths)
    judges = tuple(
        Judge(str(r["id"]), str(r["name"]), str(r.get("unit", "")))
        for _, r in judge_rows
        if {"id", "name"} <= r.keys()
    )
    # Counting a group's cases or looking up an id uses every row that gives the field, even
    # a row refused for another reason, and is skipped when some row does not give it:
    # otherwise one broken case would also show up as "too many prizes", "unknown case", ...
    case_ids_given = {str(r["id"]) for _, r in case_rows if "id" in r}
    judge_ids_given = {str(r["id"]) for _, r in judge_rows if "id" in r}
    cases_have_ids = bool(case_rows) and all("id" in r for _, r in case_rows)
    judges_have_ids = bool(judge_rows) and all("id" in r for _, r in judge_rows)
    groups_known = bool(case_rows) and all("group" in r for _, r in case_rows) and not unknown_groups

    groups: list[Group] = []
    for path, row in groups_rows:
        prizes: list[tuple[str, int]] = []
        for name, count in _prize_pairs(ck, row.get("prizes") or {}, f"{path}.prizes"):
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                ck.add(f"{path}.prizes.{name}", "must be a whole number, 0 or more")
                continue
            prizes.append((str(name), count))
        if "key" in row and "name" in row:
            size = sum(1 for _, r in case_rows if str(r.get("group")) == str(row["key"]))
            awarded = sum(n for _, n in prizes)
            if awarded > size and groups_known:
                ck.add(f"{path}.prizes", f"{awarded} prizes for a group of {size} case(s)")
            groups.append(Group(str(row["key"]), str(row["name"]), tuple(prizes)))

    recusals: set[tuple[str, str]] = set()
    for path, row in rec_rows:
        if "judge" in row and str(row["judge"]) not in judge_ids_given and judges_have_ids:
            ck.add(f"{path}.judge", f"unknown judge {row['judge']!r}")
        if "case" in row and str(row["case"]) not in case_ids_given and cases_have_ids:
            ck.add(f"{path}.case", f"unknown case {row['case']!r}")
        if "judge" in row and "case" in row:
            recusals.add((str(row["judge"]), str(row["case"])))
    if top.get("auto_recuse_same_unit", True):
        recusals |= {(j.id, c.id) for j in judges for c in cases if j.unit and j.unit == c.unit}

    if judges and aggregation.min_scores > len(judges):
        ck.add(
            "aggregation.drop",
            f"dropping {drop} highest and {drop} lowest needs at least "
            f"{aggregation.min_scores} judges; the panel has {len(judges)}",
        )
    for path, c in case_paths:  # the file's own index, even when an earlier case was refused
        panel = sum(1 for j in judges if (j.id, c.id) not in recusals)
        if judges and panel < aggregation.min_scores <= len(judges):
            ck.add(
                path,
                f"only {panel} judge(s) can score {c.id} after recusals; {aggregation.min_scores} needed",
            )

    tie_break: list[str] = []
    for i, rule in enumerate(top.get("tie_break", [])):
        rule = str(rule)
        crit = rule.removeprefix("criterion:")
        keys = {c.key for c in rubric.criteria} if rubric else set()
        if rule == "unrounded" or (rule.startswith("criterion:") and (crit in keys or not rubric)):
            tie_break.append(rule)
        else:
            ck.add(f"tie_break[{i}]", "must be 'unrounded' or 'criterion:<rubric key>'")

    if ck.problems:
        raise ContestError(ck.problems, source)
    assert rubric is not None
    return Contest(
        title=str(top["title"]),
        theme=str(top.get("theme", "")),
        rubric=rubric,
        aggregation=aggregation,
        tie_break=tuple(tie_break),
        timing=timing,
        groups=tuple(groups),
        judges=judges,
        cases=cases,
        recusals=frozenset(recusals),
        auto_close=bool(top.get("auto_close", False)),
        raw=data,
    )
