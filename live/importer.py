"""Case and judge lists from spreadsheets (``cases: cases.xlsx``).

Organisers keep these lists in Excel: a contest file may name an .xlsx or .csv file (optionally
``file.xlsx#Sheet``) instead of a list. Rows are read into the plain lists the contest file would
hold, so the log stores the rows themselves, and every problem names file, sheet, row and column.
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from live.contest import Contest, ContestError, Problem, parse_contest
from live.spreadsheet import cell_text, column_letter

# Column headers, Chinese or English (compared without spaces, case-insensitively).
CASE_COLUMNS: dict[str, tuple[str, ...]] = {
    "order": ("序号", "顺序", "出场顺序", "order", "no", "no."),
    "group": ("组别", "分组", "group"),
    "title": ("案例名称", "案例", "名称", "title"),
    "unit": ("申报单位", "单位", "unit"),
    "presenter": ("展示人", "汇报人", "presenter"),
    "id": ("编号", "id"),
}
JUDGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "order": ("序号", "order", "no", "no."),
    "name": ("评委", "评委姓名", "姓名", "name"),
    "unit": ("单位", "工作单位", "unit"),
    "id": ("编号", "id"),
}
REQUIRED = {"cases": ("group", "title"), "judges": ("name",)}
HEADER_SCAN_ROWS = 10  # a title row or two above the header is common in organisers' sheets
SUFFIXES = (".xlsx", ".xlsm", ".csv")


@dataclass(frozen=True)
class Origin:
    """Where one imported row came from, to name the cell when the contest refuses a value."""

    label: str  # "cases.xlsx[案例]" or "cases.csv"
    row: int
    columns: dict[str, tuple[str, str]]  # field -> (column letter, header as written)

    def cell(self, field_: str | None) -> str:
        if field_ in self.columns:
            letter, header = self.columns[field_]
            return f"{self.label}!{letter}{self.row} ({header})"
        return f"{self.label} row {self.row}"


@dataclass
class Imported:
    data: Any
    problems: list[Problem] = field(default_factory=list)
    origins: dict[str, tuple[str, list[Origin]]] = field(default_factory=dict)

    def locate(self, problem: Problem) -> Problem:
        """Rewrite ``cases[3].group`` into the spreadsheet cell it came from."""
        m = re.match(r"^(cases|judges)(?:\[(\d+)\])?(?:\.(\w+))?", problem.path)
        if not m or m.group(1) not in self.origins:
            return problem
        label, rows = self.origins[m.group(1)]
        reason = re.sub(rf"\b{m.group(1)}\[(\d+)\]", lambda r: self._row(m.group(1), r), problem.reason)
        if m.group(2) is None:
            return Problem(label, reason)
        index = int(m.group(2))
        if index >= len(rows):
            return problem
        return Problem(rows[index].cell(m.group(3)), reason)

    def _row(self, kind: str, ref: re.Match[str]) -> str:
        """``cases[0]`` in a reason ("first at cases[0]") as the sheet row it came from."""
        label, rows = self.origins[kind]
        index = int(ref.group(1))
        return f"{label} row {rows[index].row}" if index < len(rows) else ref.group(0)


def _norm(header: str) -> str:
    return re.sub(r"\s+", "", header).lower()


class _SheetError(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem


def _read_rows(path: Path, sheet: str | None, shown: str) -> tuple[str, list[list[str]]]:
    """The sheet's rows as text (1-based row n is rows[n-1]) and its label for messages."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _SheetError(Problem(shown, f"unsupported file type {path.suffix!r}: use .xlsx or .csv"))
    if not path.is_file():
        raise _SheetError(Problem(shown, f"no such file (looked for {path})"))
    if suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Excel on a Chinese Windows saves "CSV" as GB18030 unless told UTF-8.
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise _SheetError(
                    Problem(shown, 'not UTF-8 (or GB18030) text: save it as "CSV UTF-8"')
                ) from None
        return shown, [[c.strip() for c in row] for row in csv.reader(text.splitlines())]
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise _SheetError(Problem(shown, f"not a readable .xlsx workbook ({exc})")) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise _SheetError(Problem(shown, f"no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})"))
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        rows = [[cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        return f"{shown}[{ws.title}]", rows
    finally:
        book.close()


def _header(
    rows: list[list[str]], columns: dict[str, tuple[str, ...]], required: tuple[str, ...], label: str
) -> tuple[int, dict[str, int], list[Problem]]:
    """Find the header row: the first of the top rows that names a required column."""
    aliases = {_norm(a): key for key, names in columns.items() for a in names}
    found = [{aliases.get(_norm(c)) for c in row} - {None} for row in rows[:HEADER_SCAN_ROWS]]
    # The header names a required column; failing that, any known column (then say what's missing).
    candidates = [r for r, f in enumerate(found) if f & set(required)] or [
        r for r, f in enumerate(found) if f
    ]
    for r in candidates[:1]:
        row = rows[r]
        index: dict[str, int] = {}
        problems = []
        for c, text in enumerate(row):
            key = aliases.get(_norm(text))
            if key is None:
                continue  # other columns (备注, ...) are the organisers' own
            if key in index:
                problems.append(
                    Problem(
                        f"{label}!{column_letter(c)}{r + 1}",
                        f"a second {text!r} column (first in column {column_letter(index[key])})",
                    )
                )
                continue
            index[key] = c
        for key in required:
            if key not in index:
                problems.append(
                    Problem(
                        f"{label}!{r + 1}:{r + 1}",
                        f"no {'/'.join((*columns[key][:1], key))} column "
                        f"(found: {', '.join(c for c in row if c) or 'nothing'})",
                    )
                )
        return r, index, problems
    names = " / ".join(f"{columns[k][0]} ({k})" for k in required)
    return -1, {}, [Problem(label, f"no header row with {names} in the first {HEADER_SCAN_ROWS} rows")]


def _group_keys(data: dict[str, Any]) -> dict[str, str]:
    """Group key or name (as written in the contest file) -> key."""
    keys: dict[str, str] = {}
    groups = data.get("groups")
    for g in groups if isinstance(groups, list) else []:
        if isinstance(g, dict) and g.get("key") is not None:
            key = str(g["key"])
            keys[key] = key
            if g.get("name") is not None:
                keys.setdefault(str(g["name"]).strip(), key)
    return keys


def read_table(
    kind: str, spec: str, base: Path, data: dict[str, Any]
) -> tuple[list[dict[str, str]], list[Origin], str, list[Problem]]:
    """Read the ``cases`` or ``judges`` named by ``spec`` (``file`` or ``file#Sheet``)."""
    name, _, sheet = spec.partition("#")
    shown = Path(name).name if not Path(name).is_absolute() else name
    columns = CASE_COLUMNS if kind == "cases" else JUDGE_COLUMNS
    try:
        label, rows = _read_rows(base / name, sheet or None, shown)
    except _SheetError as exc:
        return [], [], shown, [exc.problem]
    head, index, problems = _header(rows, columns, REQUIRED[kind], label)
    if head < 0 or any(k not in index for k in REQUIRED[kind]):
        return [], [], label, problems
    width = {k: (column_letter(c), rows[head][c]) for k, c in index.items()}
    groups = _group_keys(data) if kind == "cases" else {}

    # Rows with a problem are kept, so the contest's own checks still see every row; a cell
    # that both find wrong is reported once, by the importer (see parse_with_tables).
    entries: list[tuple[int, int, dict[str, str], Origin]] = []  # (order, row, fields, origin)
    orders: dict[int, int] = {}
    for r in range(head + 1, len(rows)):
        row = rows[r]
        values = {k: (row[c] if c < len(row) else "") for k, c in index.items()}
        if not any(values.values()):
            continue  # blank lines between blocks are fine
        origin = Origin(label, r + 1, width)
        for key in REQUIRED[kind]:
            if not values[key]:
                problems.append(Problem(origin.cell(key), "empty"))
        order = len(entries) + 1
        if "order" in index:
            text = values["order"]
            if not re.fullmatch(r"[0-9]{1,5}", text) or int(text) == 0:
                problems.append(Problem(origin.cell("order"), f"must be a whole number from 1, not {text!r}"))
            elif int(text) in orders:
                problems.append(
                    Problem(origin.cell("order"), f"order {text} repeats row {orders[int(text)]}")
                )
            else:
                order = int(text)
                orders[order] = r + 1
        if kind == "cases" and values["group"]:
            if values["group"] in groups:
                values["group"] = groups[values["group"]]
            elif groups:
                problems.append(
                    Problem(
                        origin.cell("group"),
                        f"unknown group {values['group']!r} (groups: {', '.join(groups)})",
                    )
                )
        entries.append((order, r + 1, values, origin))
    entries.sort(key=lambda e: (e[0], e[1]))  # presentation order, then sheet order

    out: list[dict[str, str]] = []
    origins: list[Origin] = []
    per_group: dict[str, int] = {}
    for _, row_no, values, origin in entries:
        item: dict[str, str] = {}
        if kind == "cases":
            group = values["group"]
            if values.get("id"):
                item["id"] = values["id"]
            elif group in groups.values():
                per_group[group] = per_group.get(group, 0) + 1
                item["id"] = f"{group}-{per_group[group]:02d}"
            else:
                item["id"] = f"row-{row_no}"  # the row is refused anyway; no second complaint
            for key in ("group", "title", "unit", "presenter"):
                if values.get(key):
                    item[key] = values[key]
        else:
            item["id"] = values.get("id") or f"j{len(out) + 1}"
            for key in ("name", "unit"):
                if values.get(key):
                    item[key] = values[key]
        out.append(item)
        origins.append(origin)
    if not out and not problems:
        problems.append(Problem(label, f"no {kind} rows below the header (row {head + 1})"))
    return out, origins, label, problems


def import_tables(data: Any, base: Path) -> Imported:
    """Replace ``cases``/``judges`` that name a spreadsheet by the rows read from it."""
    if not isinstance(data, dict):
        return Imported(data)
    out = Imported(dict(data))
    for kind in ("cases", "judges"):
        spec = data.get(kind)
        if not isinstance(spec, str):
            continue
        rows, origins, label, problems = read_table(kind, spec, base, data)
        out.data[kind] = rows
        out.origins[kind] = (label, origins)
        out.problems.extend(problems)
    return out


def parse_with_tables(data: Any, path: Path) -> Contest:
    """parse_contest, after reading any spreadsheets the file names (relative to the file)."""
    imported = import_tables(data, path.parent)
    failed = {kind for kind, (_, origins) in imported.origins.items() if not origins}
    try:
        contest = parse_contest(imported.data, str(path))
    except ContestError as exc:
        # "cases: must list at least one case" only repeats why the file could not be read.
        seen = {p.path for p in imported.problems}
        rest = [
            q
            for q in (imported.locate(p) for p in exc.problems if p.path not in failed)
            if q.path not in seen
        ]
        raise ContestError(imported.problems + rest, str(path)) from None
    if imported.problems:
        raise ContestError(imported.problems, str(path))
    return contest
