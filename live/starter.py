"""The starter files ``live init`` writes: a ready-to-edit contest.yaml and template spreadsheets
for cases and judges, in the columns the importer reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from live.spreadsheet import cell_text, column_letter, display_width

CASES_TEMPLATE = (
    ("序号", "组别", "案例名称", "申报单位", "展示人", "编号（可不填）"),
    [
        (1, "发展提质组", "示例案例：某项工作创新做法", "示例单位一", "张三", None),
        (2, "发展提质组", "示例案例：另一项工作创新", "示例单位二", "李四", None),
        (3, "正风增效组", "示例案例：作风建设新机制", "示例单位三", "王五", None),
        (4, "正风增效组", "示例案例：服务提质增效", "示例单位四", "赵六", None),
    ],
)
JUDGES_TEMPLATE = (
    ("序号", "评委", "单位", "编号（可不填）"),
    [(i, f"评委{n}", f"评审单位{i}", None) for i, n in enumerate("一二三四五", 1)],
)
CONTEST_TEMPLATE = """\
# 现场决赛配置文件：修改后运行 `live check contest.yaml` 检查。
# The contest file: edit it, then run `live check contest.yaml`.
title: 2025年工作创新大赛现场决赛
theme: 创新赋能提质效
rubric:
  - {key: innovation, name: 创新性, max: 30, step: 0.5}
  - {key: impact, name: 实效性, max: 30, step: 0.5}
  - {key: value, name: 推广价值, max: 20, step: 0.5}
  - {key: delivery, name: 展示效果, max: 20, step: 0.5}
aggregation: {method: trimmed_mean, drop: 1, decimals: 2}   # 去掉一个最高分和一个最低分后取平均
tie_break: [unrounded, "criterion:innovation"]
timing: {present_seconds: 300, comment_seconds: 180}
groups:   # 案例表的“组别”列可填 key 或组名
  - {key: dev, name: 发展提质组, prizes: {一等奖: 1, 二等奖: 1}}
  - {key: conduct, name: 正风增效组, prizes: {一等奖: 1, 二等奖: 1}}
# 列：序号、组别、案例名称、申报单位、展示人、编号（可不填：按组别+组内顺序生成，如 dev-01）
cases: cases.xlsx
# 列：序号、评委、单位、编号（可不填：j1, j2, …）；评委与案例同单位时自动回避
judges: judges.xlsx
recusals: []   # 例：[{judge: j1, case: dev-01}]
"""


def _write_template(path: Path, sheet: str, table: tuple[tuple[str, ...], list[tuple[Any, ...]]]) -> None:
    import openpyxl
    from openpyxl.styles import Font, PatternFill

    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    headers, rows = table
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
    for c, header in enumerate(headers):
        longest = max([display_width(header)] + [display_width(cell_text(r[c])) for r in rows])
        ws.column_dimensions[column_letter(c)].width = min(60, longest + 4)
    ws.freeze_panes = "A2"
    book.save(path)


def init_dir(target: Path, force: bool = False) -> list[Path]:
    """Write contest.yaml, cases.xlsx and judges.xlsx into ``target``; never overwrite unasked."""
    files = [target / "contest.yaml", target / "cases.xlsx", target / "judges.xlsx"]
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise FileExistsError(", ".join(str(p) for p in existing))
    target.mkdir(parents=True, exist_ok=True)
    files[0].write_text(CONTEST_TEMPLATE, encoding="utf-8")
    _write_template(files[1], "案例", CASES_TEMPLATE)
    _write_template(files[2], "评委", JUDGES_TEMPLATE)
    return files
