"""The results export as data: ``build_export`` is pure, events in, one plain dict out, so the
CLI, the host-only HTTP routes and the printable pages all show the same numbers."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from live.contest import contest_data
from live.final import group_placings
from live.scoring import plain, tie_note
from live.verify import verify_events
from live.views import board_section, judge_standing, score_json

FORMAT = "live-final-export"
VERSION = 1


class ExportError(Exception):
    """The log cannot be exported: it is empty or fails verification."""


def build_export(
    epoch: str, events: Sequence[Mapping[str, Any]], generated_at: int | None = None
) -> dict[str, Any]:
    """Everything a results auditor needs, from a log that passes ``verify_events``."""
    report = verify_events(epoch, events)
    if not report.ok or report.contest is None or report.state is None:
        raise ExportError(report.problem or "the log is empty")
    contest, state = report.contest, report.state
    position = {case: i + 1 for i, case in enumerate(state.order)}

    voids: dict[str, list[dict[str, Any]]] = {}
    last_score: dict[tuple[str, str], Mapping[str, Any]] = {}
    reopens: dict[str, list[dict[str, Any]]] = {}
    skips: dict[str, str] = {}
    for ev in events:
        data = ev.get("data") or {}
        if ev["type"] == "scored":
            last_score[(data["case"], data["judge"])] = data
        elif ev["type"] == "voided":
            was = last_score.get((data["case"], data["judge"]), {})
            voids.setdefault(data["case"], []).append(
                {
                    "judge": data["judge"],
                    "reason": data["reason"],
                    "seq": ev["seq"],
                    "at": ev["at"],
                    "total": was.get("total"),
                    "values": was.get("values"),
                }
            )
        elif ev["type"] == "reopened":
            reopens.setdefault(data["case"], []).append(
                {"reason": data["reason"], "seq": ev["seq"], "at": ev["at"]}
            )
        elif ev["type"] == "skipped":
            skips[data["case"]] = data["reason"]

    placing = {p.case: p for g in contest.groups for p in group_placings(contest, state, g.key)}
    cases: list[dict[str, Any]] = []
    for case in contest.cases:
        cs = state.cases[case.id]
        result = cs.result
        standing = judge_standing(contest, state, case.id, result)
        scores = []
        for j in contest.judges:
            score = cs.scores.get(j.id)
            row: dict[str, Any] = {"judge": j.id, "status": standing[j.id]}
            if score is not None:
                row.update(score_json(score))
            scores.append(row)
        p = placing.get(case.id)
        cases.append(
            {
                "id": case.id,
                "group": case.group,
                "title": case.title,
                "unit": case.unit,
                "presenter": case.presenter,
                "position": position[case.id],
                "status": cs.status,
                "scores": scores,
                "result": None
                if result is None
                else {
                    "final": str(result.final),
                    "unrounded": plain(result.unrounded),
                    "dropped_high": list(result.dropped_high),
                    "dropped_low": list(result.dropped_low),
                    "counted": len(result.totals) - len(result.dropped),
                },
                "rank": p.rank if p else None,
                "prize": p.prize if p else None,
                "tied": bool(p and p.tied),
                "boundary_tie": bool(p and p.boundary_tie),
                "tie": tie_note(p) if p else None,
                "voids": voids.get(case.id, []),
                "reopened": reopens.get(case.id, []),
                "skip_reason": skips.get(case.id),
            }
        )

    by_id: dict[str, dict[str, Any]] = {c["id"]: c for c in cases}
    groups = []
    for g in contest.groups:
        board = board_section(contest, state, g.key)
        groups.append(
            {
                "key": g.key,
                "name": g.name,
                "complete": board["final"],
                "prizes": [{"name": n, "count": k} for n, k in g.prizes],
                "ranking": [
                    {
                        k: by_id[row["case"]][k]
                        for k in (
                            "id",
                            "title",
                            "unit",
                            "presenter",
                            "rank",
                            "prize",
                            "tied",
                            "boundary_tie",
                            "tie",
                        )
                    }
                    | {"final": row["final"], "unrounded": by_id[row["case"]]["result"]["unrounded"]}
                    for row in board["rows"]
                ],
                "skipped": board["skipped"],
                "pending": [c for c in board["pending"] if c not in board["skipped"]],
                "tie_order": list(state.tie_orders.get(g.key, ())),
            }
        )

    recusals = sorted(contest.recusals, key=lambda r: (position[r[1]], r[0]))
    explicit = {
        (str(r.get("judge")), str(r.get("case")))
        for r in contest.raw.get("recusals") or []
        if isinstance(r, Mapping)
    }
    return {
        "format": FORMAT,
        "version": VERSION,
        "title": contest.title,
        "theme": contest.theme,
        "epoch": epoch,
        "head": report.head,
        "events": report.events,
        "generated_at": generated_at if generated_at is not None else int(time.time() * 1000),
        "finished": state.finished,
        "rule": rule_text(contest_data(contest)),
        "contest": contest_data(contest),
        "rubric": [
            {"key": c.key, "name": c.name, "max": plain(c.max), "step": plain(c.step)}
            for c in contest.rubric.criteria
        ],
        "judges": [
            {"id": j.id, "name": j.name, "unit": j.unit, "absent": state.absent.get(j.id)}
            for j in contest.judges
        ],
        "groups": groups,
        "cases": cases,
        "recusals": [
            {"judge": j, "case": c, "why": "explicit" if (j, c) in explicit else "same_unit"}
            for j, c in recusals
        ],
        "audit": [dict(ev) for ev in events],
    }


def rule_text(data: Mapping[str, Any]) -> str:
    agg = data.get("aggregation") or {}
    method, drop, decimals = (agg.get("method", "trimmed_mean"), agg.get("drop", 1), agg.get("decimals", 2))
    if method == "trimmed_mean" and drop:
        how = f"去掉{drop}个最高分和{drop}个最低分后取平均"
    elif method == "median":
        how = "取中位数"
    else:
        how = "取平均"
    return f"每个案例的最终得分：各评委总分{how}，四舍五入保留{decimals}位小数。"
