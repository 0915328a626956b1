"""``live verify FILE.json``: recompute every result of an export from its raw scores, trusting
none of its totals, and check its audit log's hash chain."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from live.contest import ContestError, parse_contest
from live.export.build import FORMAT
from live.scoring import Entry, RuleError, aggregate, plain, rank
from live.verify import verify_events


def recompute(data: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Recompute every final, rank and prize of an export from its raw scores.

    Returns (lines of results, differences); no difference means the export holds up."""
    contest = parse_contest(data["contest"], "export contest")
    diffs: list[str] = []
    lines: list[str] = []
    cases = {c["id"]: c for c in data["cases"]}
    order = [j.id for j in contest.judges]
    finals: dict[str, tuple[Decimal, Decimal, dict[str, Decimal]]] = {}
    for case in data["cases"]:
        given = {s["judge"]: s for s in case["scores"] if "total" in s}
        for judge, s in given.items():
            values = sum((Decimal(v) for v in (s.get("values") or {}).values()), Decimal(0))
            if s.get("values") and values != Decimal(s["total"]):
                diffs.append(
                    f"{case['id']}: judge {judge}'s total {s['total']} is not the sum "
                    f"of their criteria ({plain(values)})"
                )
        if case.get("result") is None:
            continue
        totals = [(j, Decimal(given[j]["total"])) for j in order if j in given]
        try:
            agg = aggregate(contest.aggregation, totals)
        except RuleError as exc:
            diffs.append(f"{case['id']}: cannot recompute: {exc.message}")
            continue
        result = case["result"]
        if str(agg.final) != result["final"]:
            diffs.append(
                f"{case['id']}: final {result['final']} in the export, "
                f"{agg.final} recomputed from the judges' totals"
            )
        if list(agg.dropped_high) != result["dropped_high"] or list(agg.dropped_low) != result["dropped_low"]:
            diffs.append(
                f"{case['id']}: dropped {result['dropped_high']}+{result['dropped_low']}"
                f" in the export, {list(agg.dropped_high)}+{list(agg.dropped_low)} "
                "recomputed"
            )
        n = len(given)
        keys = [c.key for c in contest.rubric.criteria]
        means = (
            {
                k: sum((Decimal((s.get("values") or {}).get(k, "0")) for s in given.values()), Decimal(0)) / n
                for k in keys
            }
            if n
            else {}
        )
        finals[case["id"]] = (agg.final, agg.unrounded, means)

    for g in contest.groups:
        gdata = next((x for x in data["groups"] if x["key"] == g.key), None)
        if gdata is None:
            diffs.append(f"group {g.key}: missing from the export")
            continue
        entries = [Entry(c.id, *finals[c.id]) for c in contest.group_cases(g.key) if c.id in finals]
        placings = rank(entries, contest.tie_break, g.prizes, gdata.get("tie_order", ()))
        lines.append(f"\n{g.name} ({g.key})")
        exported = {r["id"]: r for r in gdata["ranking"]}
        for p in placings:
            final = finals[p.case][0]
            lines.append(f"  {p.rank:>3}  {final:>7}  {p.prize or '-':<6} {p.case}  {cases[p.case]['title']}")
            row = exported.get(p.case)
            if row is None:
                diffs.append(f"{p.case}: revealed but missing from the {g.key} ranking")
                continue
            if row["rank"] != p.rank or (row["prize"] or None) != p.prize or row["final"] != str(final):
                diffs.append(
                    f"{p.case}: rank {row['rank']}, {row['prize'] or 'no prize'}, final "
                    f"{row['final']} in the export; recomputed rank {p.rank}, "
                    f"{p.prize or 'no prize'}, final {final}"
                )
        for case_id in set(exported) - {p.case for p in placings}:
            diffs.append(f"{case_id}: ranked in the export but has no result to recompute")
    return lines, diffs


def check_log(data: Mapping[str, Any]) -> list[str]:
    """The audit log in the export: an intact chain up to the stated head, and the same scores."""
    events = data.get("audit") or []
    report = verify_events(str(data.get("epoch")), events, data.get("head"))
    if not report.ok or report.state is None:
        return [f"audit log: {report.problem}"]
    diffs = []
    for case in data["cases"]:
        logged = report.state.cases.get(case["id"])
        if logged is None:
            diffs.append(f"{case['id']}: not in the audit log")
            continue
        table = {s["judge"]: s["total"] for s in case["scores"] if "total" in s}
        from_log = {j: plain(s.total) for j, s in logged.scores.items()}
        for judge in sorted(set(table) | set(from_log)):
            if table.get(judge) != from_log.get(judge):
                diffs.append(
                    f"{case['id']}: judge {judge}'s total is {table.get(judge)} in the "
                    f"score table but {from_log.get(judge)} in the audit log"
                )
    return diffs


def verify_export(path: Path) -> int:
    """``live verify results.json``: 0 when every result recomputes to what the export says."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{path}: cannot read: {exc}", file=sys.stderr)
        return 1
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        print(f"{path}: not a live-final results export", file=sys.stderr)
        return 1
    try:
        lines, diffs = recompute(data)
    except (ContestError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
        print(f"{path}: malformed export: {exc!r}", file=sys.stderr)
        return 1
    log_diffs = check_log(data)
    print(data.get("title", ""))
    print("\n".join(lines))
    if diffs or log_diffs:
        print(f"\nFAILED: {len(diffs) + len(log_diffs)} difference(s)", file=sys.stderr)
        for d in diffs + log_diffs:
            print(f"  {d}", file=sys.stderr)
        return 1
    revealed = sum(1 for c in data["cases"] if c.get("result"))
    print(
        f"\nrecomputed {revealed} case result(s) from the raw scores: every final, rank and "
        f"prize matches; audit log of {data.get('events')} events intact, head {data.get('head')}"
    )
    return 0
