"""The export's files: JSON, a zip of CSV files, and an xlsx workbook (a sheet per group)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from live.export.labels import CASE_STATUS, SCORE_STATUS, TIE_NOTE
from live.export.tables import tables as flat_tables
from live.spreadsheet import column_letter, display_width

FORMATS = ("json", "csv", "xlsx")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def to_json(export: Mapping[str, Any]) -> bytes:
    return json.dumps(export, ensure_ascii=False, indent=1).encode("utf-8")


CSV_FILES = ("summary", "ranking", "scores", "corrections", "recusals", "audit")


def to_csv_zip(export: Mapping[str, Any]) -> bytes:
    """A zip of UTF-8 (with BOM, so Excel shows the Chinese) CSV files, one per table."""
    tables = flat_tables(export)
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
            note = TIE_NOTE.get(case["tie"] or "", "") if result else CASE_STATUS[case["status"]]
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

    tables = flat_tables(export)
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
