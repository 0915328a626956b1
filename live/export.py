"""Results export (JSON, CSV zip, xlsx) built from a verified log, and ``live verify FILE.json``,
which recomputes every result from the raw scores in an export, trusting none of its totals.

``build_export`` is pure: events in, one plain dict out. The writers turn that dict into bytes,
so the CLI, the host-only HTTP routes and the printable pages all show the same numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
import time
import zipfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from live import chain
from live.contest import ContestError, contest_data, parse_contest
from live.final import group_placings
from live.scoring import Entry, RuleError, aggregate, plain, rank
from live.verify import verify_events
from live.views import board_section

FORMAT = "live-final-export"
VERSION = 1
FORMATS = ("json", "csv", "xlsx")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# How a judge's entry for a case counts; the Chinese is what the spreadsheets and pages show.
SCORE_STATUS = {
    "counted": "计入",
    "dropped_high": "去掉最高",
    "dropped_low": "去掉最低",
    "submitted": "已提交（未亮分）",
    "recused": "回避",
    "absent": "缺席",
    "missing": "未评",
}
EVENT_NAMES = {
    "created": "创建决赛",
    "staged": "上台",
    "timer": "计时",
    "opened": "开始评分",
    "closed": "结束评分",
    "scored": "评分",
    "voided": "作废评分",
    "revealed": "亮分",
    "reveal_undone": "撤销亮分",
    "reopened": "重新评分",
    "judge_absent": "评委缺席",
    "judge_present": "评委恢复出席",
    "moved": "调整顺序",
    "skipped": "跳过",
    "tie_resolved": "裁定并列",
    "screen": "大屏切换",
    "award_step": "颁奖",
}
CORRECTIONS = (
    "voided",
    "reopened",
    "judge_absent",
    "judge_present",
    "skipped",
    "moved",
    "tie_resolved",
    "reveal_undone",
)
CASE_STATUS = {
    "waiting": "待展示",
    "on_stage": "展示中",
    "scoring": "评分中",
    "closed": "已结束评分",
    "revealed": "已亮分",
    "skipped": "未展示（跳过）",
}


class ExportError(Exception):
    """The log cannot be exported: it is empty or fails verification."""


def iso(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")


# --- the export as data ---


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
        dropped_high = set(result.dropped_high) if result else set()
        dropped_low = set(result.dropped_low) if result else set()
        scores = []
        for j in contest.judges:
            score = cs.scores.get(j.id)
            row: dict[str, Any] = {"judge": j.id}
            if score is not None:
                status = (
                    "dropped_high"
                    if j.id in dropped_high
                    else "dropped_low"
                    if j.id in dropped_low
                    else "counted"
                    if result
                    else "submitted"
                )
                row.update(
                    status=status,
                    values={k: plain(v) for k, v in score.values.items()},
                    total=plain(score.total),
                    at=score.at,
                )
            elif contest.is_recused(j.id, case.id):
                row["status"] = "recused"
            elif j.id in state.absent:
                row["status"] = "absent"
            else:
                row["status"] = "missing"
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
                        for k in ("id", "title", "unit", "presenter", "rank", "prize", "tied", "boundary_tie")
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


def summary_of(event: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One line of the audit log for people: what happened, to which case, by whom."""
    kind, data = event["type"], dict(event.get("data") or {})
    label = EVENT_NAMES.get(kind, kind)
    if kind == "created":
        return f"{label}：{data.get('contest', {}).get('title', '')}"
    parts = []
    for key in ("case", "judge", "group", "screen", "op", "seconds", "after", "order", "total", "reason"):
        if data.get(key) not in (None, "", []):
            value = data[key]
            value = names.get(value, value) if key == "judge" else value
            parts.append(f"{key}={value if not isinstance(value, list) else ','.join(value)}")
    return f"{label} " + " ".join(parts) if parts else label


# --- writers ---


def to_json(export: Mapping[str, Any]) -> bytes:
    return json.dumps(export, ensure_ascii=False, indent=1).encode("utf-8")


def _tables(export: Mapping[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The export as flat tables (header, rows): the CSV files and the xlsx sheets share them."""
    judges = {j["id"]: j for j in export["judges"]}
    names = {j: judges[j]["name"] for j in judges}
    groups = {g["key"]: g["name"] for g in export["groups"]}
    crit = [c["key"] for c in export["rubric"]]
    ranking_head = [
        "组别",
        "名次",
        "编号",
        "案例名称",
        "申报单位",
        "展示人",
        "最终得分",
        "未舍入均分",
        "奖项",
        "去掉最高",
        "去掉最低",
        "备注",
    ]
    ranking = []
    by_id = {c["id"]: c for c in export["cases"]}
    for g in export["groups"]:
        for r in g["ranking"]:
            case = by_id[r["id"]]
            note = "并列（跨奖项，待裁定）" if r["boundary_tie"] else "并列" if r["tied"] else ""
            ranking.append(
                [
                    g["name"],
                    r["rank"],
                    r["id"],
                    r["title"],
                    r["unit"],
                    r["presenter"],
                    Decimal(r["final"]),
                    Decimal(r["unrounded"]),
                    r["prize"] or "",
                    "、".join(names[j] for j in case["result"]["dropped_high"]),
                    "、".join(names[j] for j in case["result"]["dropped_low"]),
                    note,
                ]
            )
    scores_head = [
        "组别",
        "出场顺序",
        "编号",
        "案例名称",
        "评委编号",
        "评委",
        *[c["name"] for c in export["rubric"]],
        "总分",
        "状态",
        "提交时间",
    ]
    scores = []
    for case in sorted(export["cases"], key=lambda c: c["position"]):
        for s in case["scores"]:
            values = s.get("values") or {}
            scores.append(
                [
                    groups[case["group"]],
                    case["position"],
                    case["id"],
                    case["title"],
                    s["judge"],
                    names[s["judge"]],
                    *[Decimal(values[k]) if k in values else None for k in crit],
                    Decimal(s["total"]) if "total" in s else None,
                    SCORE_STATUS[s["status"]],
                    iso(s.get("at")) if s.get("at") else "",
                ]
            )
    corr_head = ["序号", "时间", "操作", "案例", "评委", "原因", "作废前总分"]
    corrections = []
    void_totals = {(v["seq"]): v.get("total") for c in export["cases"] for v in c["voids"]}
    for ev in export["audit"]:
        if ev["type"] not in CORRECTIONS:
            continue
        data = ev.get("data") or {}
        judge = data.get("judge")
        was = void_totals.get(ev["seq"])
        corrections.append(
            [
                ev["seq"],
                iso(ev["at"]),
                EVENT_NAMES[ev["type"]],
                data.get("case") or data.get("group") or "",
                names.get(judge, judge or ""),
                data.get("reason") or ("、".join(data.get("order", [])) or ""),
                Decimal(was) if was else None,
            ]
        )
    rec_head = ["评委编号", "评委", "案例", "案例名称", "原因"]
    recusals = [
        [
            r["judge"],
            names[r["judge"]],
            r["case"],
            by_id[r["case"]]["title"],
            "指定回避" if r["why"] == "explicit" else "同单位自动回避",
        ]
        for r in export["recusals"]
    ]
    audit_head = ["序号", "时间", "操作者", "事件", "摘要", "数据", "客户端ID", "前一哈希", "哈希"]
    audit = [
        [
            ev["seq"],
            iso(ev["at"]),
            names.get(ev["actor"], ev["actor"]),
            ev["type"],
            summary_of(ev, names),
            chain.canonical(ev.get("data"))[:30000],
            ev.get("cid") or "",
            ev["prev"],
            ev["hash"],
        ]
        for ev in export["audit"]
    ]
    summary_head = ["项目", "值"]
    summary = [
        ["标题", export["title"]],
        ["计分规则", export["rule"]],
        ["全部结束", "是" if export["finished"] else "否（结果未最终确定）"],
        ["日志头哈希 (head)", export["head"]],
        ["日志 epoch", export["epoch"]],
        ["事件数", export["events"]],
        ["导出时间", iso(export["generated_at"])],
        ["核验", "live verify 本文件的 JSON 导出，可由原始评分独立重算全部结果"],
    ]
    return {
        "ranking": (ranking_head, ranking),
        "scores": (scores_head, scores),
        "corrections": (corr_head, corrections),
        "recusals": (rec_head, recusals),
        "audit": (audit_head, audit),
        "summary": (summary_head, summary),
    }


CSV_FILES = ("summary", "ranking", "scores", "corrections", "recusals", "audit")


def to_csv_zip(export: Mapping[str, Any]) -> bytes:
    """A zip of UTF-8 (with BOM, so Excel shows the Chinese) CSV files, one per table."""
    tables = _tables(export)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in CSV_FILES:
            head, rows = tables[name]
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(head)
            writer.writerows([["" if v is None else v for v in row] for row in rows])
            zf.writestr(f"{name}.csv", "\ufeff" + text.getvalue())
        zf.writestr("results.json", to_json(export))
    return buf.getvalue()


def _decimals(step: str) -> int:
    return len(step.partition(".")[2])


def _number_format(decimals: int) -> str:
    return "0" if decimals == 0 else "0." + "0" * decimals


def to_xlsx(export: Mapping[str, Any]) -> bytes:
    """One sheet per group (ranking with every judge's total), then raw scores, corrections,
    recusals, the audit log and a summary with the head hash."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill

    from live.importer import column_letter, display_width

    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    bold, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    struck = Font(strike=True, color="808080")
    final_fmt = _number_format(int(export["contest"].get("aggregation", {}).get("decimals", 2)))
    score_fmt = _number_format(max((_decimals(c["step"]) for c in export["rubric"]), default=0))
    judges = export["judges"]
    by_id = {c["id"]: c for c in export["cases"]}
    used: set[str] = set()

    def sheet(title: str) -> Any:
        clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "sheet"
        while clean in used:
            clean = clean[:28] + f"_{len(used)}"
        used.add(clean)
        return book.create_sheet(clean)

    def header(ws: Any, row: int, values: Sequence[str]) -> None:
        for c, v in enumerate(values, 1):
            cell = ws.cell(row=row, column=c, value=v)
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def widths(ws: Any, first_row: int, limit: int = 60, last_row: int | None = None) -> None:
        best: dict[int, int] = {}
        for row in ws.iter_rows(min_row=first_row, max_row=last_row):
            for cell in row:
                if cell.value is None:
                    continue
                text = cell.value if isinstance(cell.value, str) else f"{cell.value}"[:14]
                best[cell.column] = max(best.get(cell.column, 0), display_width(text))
        for col, w in best.items():
            ws.column_dimensions[column_letter(col - 1)].width = max(6, min(limit, w + 2))

    for g in export["groups"]:
        ws = sheet(g["name"])
        ws.cell(row=1, column=1, value=f"{export['title']}　{g['name']}　成绩").font = Font(
            bold=True, size=14
        )
        ws.cell(row=2, column=1, value=export["rule"] + ("" if export["finished"] else "（结果未最终确定）"))
        cols = [
            "名次",
            "编号",
            "案例名称",
            "申报单位",
            "展示人",
            *[j["name"] for j in judges],
            "最终得分",
            "未舍入均分",
            "奖项",
            "备注",
        ]
        header(ws, 3, cols)
        nj = len(judges)
        rows = [by_id[r["id"]] for r in g["ranking"]]
        rows += [by_id[c] for c in g["skipped"] + g["pending"]]
        for i, case in enumerate(rows, 4):
            result = case["result"]
            ws.cell(row=i, column=1, value=case["rank"])
            for c, key in enumerate(("id", "title", "unit", "presenter"), 2):
                ws.cell(row=i, column=c, value=case[key])
            for c, s in enumerate(case["scores"], 6):
                if "total" in s:
                    cell = ws.cell(row=i, column=c, value=Decimal(s["total"]))
                    cell.number_format = score_fmt
                    if s["status"].startswith("dropped"):
                        cell.font = struck
                else:
                    ws.cell(row=i, column=c, value=SCORE_STATUS[s["status"]])
            if result:
                cell = ws.cell(row=i, column=6 + nj, value=Decimal(result["final"]))
                cell.number_format, cell.font = final_fmt, bold
                cell = ws.cell(row=i, column=7 + nj, value=Decimal(result["unrounded"]))
                cell.number_format = "0.0000"
            ws.cell(row=i, column=8 + nj, value=case["prize"])
            note = (
                "并列（跨奖项，待裁定）"
                if case["boundary_tie"]
                else "并列"
                if case["tied"]
                else ""
                if result
                else CASE_STATUS[case["status"]]
            )
            ws.cell(row=i, column=9 + nj, value=note or None)
        foot = 4 + len(rows) + 1
        ws.cell(row=foot, column=1, value="删除线：去掉的最高分、最低分")
        ws.cell(
            row=foot + 1, column=1, value=f"日志头哈希 head: {export['head']}（{export['events']} 个事件）"
        )
        widths(ws, 3, limit=40, last_row=3 + len(rows))  # not the title and footer lines
        ws.column_dimensions["C"].width = min(50, ws.column_dimensions["C"].width)
        ws.freeze_panes = "C4"
        ws.print_options.gridLines = True
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.sheet_properties.pageSetUpPr.fitToPage = True

    tables = _tables(export)
    formats = {
        "scores": {len(tables["scores"][0]) - 3 - k: score_fmt for k in range(len(export["rubric"]) + 1)},
        "corrections": {6: score_fmt},
    }
    titles = {
        "scores": "评分明细",
        "corrections": "更正记录",
        "recusals": "回避",
        "audit": "审计日志",
        "summary": "说明",
    }
    for name, title in titles.items():
        head, rows = tables[name]
        ws = sheet(title)
        header(ws, 1, head)
        for r, row in enumerate(rows, 2):
            for c, value in enumerate(row):
                cell = ws.cell(row=r, column=c + 1, value=value)
                fmt = formats.get(name, {}).get(c)
                if fmt and isinstance(value, Decimal):
                    cell.number_format = fmt
        widths(ws, 1, limit=70 if name == "summary" else 48)
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def render(export: Mapping[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        return to_json(export)
    if fmt == "csv":
        return to_csv_zip(export)
    if fmt == "xlsx":
        return to_xlsx(export)
    raise ValueError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")


# --- live verify FILE.json: recompute from the raw scores ---


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


# --- live export ---


def cmd_export(args: argparse.Namespace) -> int:
    from live.cli import store_url

    out = Path(args.output)
    fmt = args.format or {".xlsx": "xlsx", ".zip": "csv", ".csv": "csv"}.get(out.suffix.lower(), "json")
    if fmt == "csv" and out.suffix.lower() != ".zip":
        print("live export: the csv export is a zip of several CSV files: use -o NAME.zip", file=sys.stderr)
        return 2
    url = store_url(args.store)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        print(f"live export: no store at {url}", file=sys.stderr)
        return 1
    from live.store import read_log

    epoch, events = asyncio.run(read_log(url))
    try:
        export = build_export(epoch, events)
    except ExportError as exc:
        print(f"live export: the log does not verify: {exc}", file=sys.stderr)
        return 1
    out.write_bytes(render(export, fmt))
    state = "final" if export["finished"] else "NOT final: some cases are not revealed yet"
    print(
        f"wrote {out} ({fmt}, {out.stat().st_size} bytes): {export['title']}; {state}; head {export['head']}"
    )
    return 0


def add_export_command(sub: Any) -> None:
    p = sub.add_parser("export", help="export results, raw scores and the audit log (xlsx, csv zip or json)")
    p.add_argument("--store", required=True, help="store URL or SQLite file of the final")
    p.add_argument(
        "--format", choices=FORMATS, help="default: from the -o suffix (.xlsx, .zip/.csv, else json)"
    )
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.set_defaults(func=cmd_export)
