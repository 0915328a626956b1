"""Results (issue 7): spreadsheet import, ``live init``, exports (json/csv/xlsx) of a scripted
final, ``live verify`` on an exported JSON, and the printable pages rendered to PDF."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import csv
import io
import json
import shutil
import subprocess
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from conftest import MINI, LiveServer, need
from core_helpers import Final, demo_dict, run_cli

from live import protocol
from live.chain import canonical
from live.contest import ContestError, contest_data
from live.contest_file import demo_contest, load_contest
from live.export.build import build_export
from live.results_routes import publication_html, sheets_html
from live.store import NewEvent, open_store
from live.store.base import chain_events

# --- import ---


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_import_round_trip_demo_from_xlsx(tmp_path: Path) -> None:
    """The 45 demo cases and 9 judges from one workbook load to the same contest as the YAML."""
    data = demo_dict()
    names = {g["key"]: g["name"] for g in data["groups"]}
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "案例"
    ws.append(["2025年决赛名单"])  # a title row above the header, as organisers do
    ws.append(["序号", "组别", "案例名称", "申报单位", "展示人", "备注"])
    for i, c in enumerate(data["cases"], 1):
        # the group column may hold the group's name or its key; ids are derived
        ws.append(
            [i, names[c["group"]] if i % 2 else c["group"], c["title"], c["unit"], c["presenter"], "内部备注"]
        )
    judges = book.create_sheet("评委")
    judges.append(["评委", "单位"])
    for j in data["judges"]:
        judges.append([j["name"], j["unit"]])
    book.save(tmp_path / "名单.xlsx")
    path = write_yaml(
        tmp_path / "contest.yaml", {**data, "cases": "名单.xlsx#案例", "judges": "名单.xlsx#评委"}
    )

    got, demo = load_contest(path), demo_contest()
    assert len(got.cases) == 45
    assert got.cases == demo.cases
    assert got.judges == demo.judges
    assert got.recusals == demo.recusals
    # the log stores the rows inline, so a hub given either file sees the same final
    assert canonical(contest_data(got)) == canonical(contest_data(demo))
    assert isinstance(got.raw["cases"], list)


def test_import_csv_with_bom_and_english_headers(tmp_path: Path) -> None:
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(["Order", "Group", "Title", "Unit", "Presenter", "ID"])
    for i, c in reversed(list(enumerate(data["cases"], 1))):  # rows sorted by the order column
        w.writerow([i, c["group"], c["title"], c["unit"], c["presenter"], c["id"]])
    (tmp_path / "cases.csv").write_bytes(b"\xef\xbb\xbf" + text.getvalue().encode())
    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(["id", "name", "unit"])
    for j in data["judges"]:
        w.writerow([j["id"], j["name"], j["unit"]])
    (tmp_path / "judges.csv").write_text(text.getvalue(), encoding="utf-8")  # no BOM
    got = load_contest(
        write_yaml(tmp_path / "c.yaml", {**data, "cases": "cases.csv", "judges": "judges.csv"})
    )
    mini = load_contest(MINI)
    assert got.cases == mini.cases
    assert got.judges == mini.judges
    assert got.recusals == mini.recusals


def test_import_errors_name_file_sheet_row_and_column(tmp_path: Path) -> None:
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "案例"
    ws.append(["序号", "组别", "案例名称", "申报单位", "展示人", "编号"])
    ws.append([1, "甲组", "好案例", "单位A", "甲", "a1"])  # row 2: fine (group by name)
    ws.append([2, "丙组", "无组案例", "单位B", "乙", "a2"])  # row 3: unknown group
    ws.append([3, "a", None, "单位C", "丙", "a3"])  # row 4: empty title
    ws.append(["三", "b", "顺序错", "单位D", "丁", "b1"])  # row 5: order not a number
    ws.append([5, "b", "重复编号", "单位E", "戊", "a1"])  # row 6: duplicate id
    ws.append([6, "b", "坏编号", "单位F", "己", "b 2"])  # row 7: id with a space
    book.save(tmp_path / "cases.xlsx")
    (tmp_path / "judges.csv").write_text("姓名x,单位\n评委一,单位一\n", encoding="utf-8")
    path = write_yaml(
        tmp_path / "contest.yaml", {**data, "cases": "cases.xlsx", "judges": "judges.csv", "recusals": []}
    )

    with pytest.raises(ContestError) as err:
        load_contest(path)
    problems = {p.path: p.reason for p in err.value.problems}
    assert "unknown group '丙组'" in problems["cases.xlsx[案例]!B3 (组别)"]
    assert problems["cases.xlsx[案例]!C4 (案例名称)"] == "empty"
    assert "whole number" in problems["cases.xlsx[案例]!A5 (序号)"]
    assert (
        problems["cases.xlsx[案例]!F6 (编号)"] == "duplicate case id 'a1' (first at cases.xlsx[案例] row 2)"
    )
    assert "letters, digits" in problems["cases.xlsx[案例]!F7 (编号)"]
    assert "no 评委/name column" in problems["judges.csv!1:1"]

    # `live check` lists every one of them, not just the first
    out = run_cli("check", str(path))
    assert out.returncode == 1
    for where in problems:
        assert where in out.stderr


def test_import_unreadable_files(tmp_path: Path) -> None:
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    (tmp_path / "judges.xlsx").write_text("not a workbook", encoding="utf-8")
    path = write_yaml(
        tmp_path / "contest.yaml", {**data, "cases": "missing.xlsx", "judges": "judges.xlsx", "recusals": []}
    )
    with pytest.raises(ContestError) as err:
        load_contest(path)
    paths = [p.path for p in err.value.problems]
    assert paths == ["missing.xlsx", "judges.xlsx"]  # and no "must list at least one case"


def test_init_writes_files_that_pass_check(tmp_path: Path) -> None:
    target = tmp_path / "final"
    out = run_cli("init", str(target))
    assert out.returncode == 0, out.stderr
    assert {p.name for p in target.iterdir()} == {"contest.yaml", "cases.xlsx", "judges.xlsx"}
    check = run_cli("check", str(target / "contest.yaml"))
    assert check.returncode == 0, check.stderr
    contest = load_contest(target / "contest.yaml")
    assert [c.id for c in contest.cases] == ["dev-01", "dev-02", "conduct-01", "conduct-02"]
    assert len(contest.judges) == 5
    headers = [c.value for c in openpyxl.load_workbook(target / "cases.xlsx").active[1]]
    assert headers[:5] == ["序号", "组别", "案例名称", "申报单位", "展示人"]
    again = run_cli("init", str(target))
    assert again.returncode == 1
    assert "--force" in again.stderr


# --- a scripted final on the mini contest (tests/data/mini.yaml) ---

A_TOTALS = {
    "a1": {"j1": "80", "j2": "85", "j3": "90", "j4": "70", "j5": "95"},
    "a2": {"j1": "86.5", "j2": "88", "j3": "77", "j4": "91.5", "j5": "82"},  # j2 first gave 60
    "a3": {"j1": "90", "j2": "92", "j3": "93.5", "j4": "89", "j5": "91.5"},
    "b1": {"j1": "70", "j2": "75", "j3": "80", "j4": "85", "j5": "90"},
    "b2": {"j1": "84", "j2": "86", "j3": "85", "j5": "83"},  # j4 absent from here on
    "b3": {"j1": "78", "j2": "79.5", "j3": "81"},  # j5 recused, j4 absent
}
# computed by hand: drop one highest and one lowest, mean of the rest, half-up to 2 places
EXPECTED = {
    "a1": ("85.00", 3, "三等奖", ["j5"], ["j4"]),
    "a2": ("85.50", 2, "二等奖", ["j4"], ["j3"]),
    "a3": ("91.17", 1, "一等奖", ["j3"], ["j4"]),
    "b1": ("80.00", 2, "二等奖", ["j5"], ["j1"]),
    "b2": ("84.50", 1, "一等奖", ["j2"], ["j5"]),
    "b3": ("79.50", 3, None, ["j3"], ["j1"]),
}


def split(total: str) -> dict[str, str]:
    """A judge's total spread over the mini rubric (30/30/20/20, step 0.5)."""
    t = Decimal(total)

    def half(x: Decimal) -> Decimal:
        return (x * 2).to_integral_value(rounding=ROUND_FLOOR) / 2

    i, m, v = half(t * Decimal("0.3")), half(t * Decimal("0.3")), half(t * Decimal("0.2"))
    return {"innovation": f"{i:f}", "impact": f"{m:f}", "value": f"{v:f}", "delivery": f"{t - i - m - v:f}"}


def scripted_final() -> Final:
    f = Final(load_contest(MINI))

    def run(case: str, before_close: Any = None) -> None:
        f.host("stage", case=case)
        f.tick(300_000)
        f.host("open")
        for judge, total in A_TOTALS[case].items():
            f.tick(2_000)
            if case == "a2" and judge == "j2":
                f.do(judge, "score", case=case, criteria=split("60"))
                f.host("void", judge="j2", reason="误触")
            f.do(judge, "score", case=case, criteria=split(total))
        f.host("close")
        f.host("reveal")

    for case in ("a1", "a2", "a3", "b1"):
        run(case)
    f.host("absent", judge="j4", reason="身体不适")
    run("b2")
    run("b3")
    assert f.state.finished
    return f


async def _write_store(url: str, f: Final) -> tuple[str, list[dict[str, Any]]]:
    store = open_store(url)
    await store.open()
    try:
        created = NewEvent(
            "created",
            {"contest": contest_data(f.contest), "protocol": protocol.VERSION},
            "system",
            f.events[0]["at"],
        )
        new = [created, *(NewEvent(e["type"], e["data"], e["actor"], e["at"]) for e in f.events)]
        await store.append(0, new)
        return store.epoch, await store.read(0)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def final_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("results")
    db = tmp / "final.db"
    # In a thread: the session's sync Playwright keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        epoch, events = pool.submit(asyncio.run, _write_store(f"sqlite:///{db}", scripted_final())).result()
    return {"db": db, "dir": tmp, "epoch": epoch, "events": events, "head": events[-1]["hash"]}


@pytest.fixture(scope="module")
def exported(final_store: dict[str, Any]) -> dict[str, Path]:
    out = {}
    for fmt, name in (("json", "results.json"), ("xlsx", "results.xlsx"), ("csv", "results.zip")):
        path = final_store["dir"] / name
        res = run_cli("export", "--store", str(final_store["db"]), "--format", fmt, "-o", str(path))
        assert res.returncode == 0, res.stderr
        assert final_store["head"] in res.stdout
        out[fmt] = path
    return out


def test_export_json_holds_hand_computed_values(
    final_store: dict[str, Any], exported: dict[str, Path]
) -> None:
    data = json.loads(exported["json"].read_text(encoding="utf-8"))
    assert data["head"] == final_store["head"]
    assert data["events"] == len(final_store["events"])
    assert data["finished"] is True
    cases = {c["id"]: c for c in data["cases"]}
    for case, (final, rank_, prize, high, low) in EXPECTED.items():
        c = cases[case]
        assert (c["result"]["final"], c["rank"], c["prize"]) == (final, rank_, prize), case
        assert (c["result"]["dropped_high"], c["result"]["dropped_low"]) == (high, low), case
        totals = {s["judge"]: s["total"] for s in c["scores"] if "total" in s}
        assert totals == A_TOTALS[case]
    ranking = {
        g["key"]: [(r["id"], r["rank"], r["final"], r["prize"]) for r in g["ranking"]] for g in data["groups"]
    }
    assert ranking == {
        "a": [("a3", 1, "91.17", "一等奖"), ("a2", 2, "85.50", "二等奖"), ("a1", 3, "85.00", "三等奖")],
        "b": [("b2", 1, "84.50", "一等奖"), ("b1", 2, "80.00", "二等奖"), ("b3", 3, "79.50", None)],
    }
    status = {(c["id"], s["judge"]): s["status"] for c in data["cases"] for s in c["scores"]}
    assert status["a1", "j5"] == "dropped_high"
    assert status["a1", "j1"] == "counted"
    assert status["b3", "j5"] == "recused"
    assert status["b2", "j4"] == "absent"
    a1_j1 = next(s for s in cases["a1"]["scores"] if s["judge"] == "j1")
    assert a1_j1["values"] == split("80")
    assert [(v["judge"], v["reason"], v["total"]) for v in cases["a2"]["voids"]] == [("j2", "误触", "60")]
    assert {"judge": "j5", "case": "b3", "why": "explicit"} in data["recusals"]
    assert next(j for j in data["judges"] if j["id"] == "j4")["absent"] == "身体不适"
    assert [e["hash"] for e in data["audit"]] == [e["hash"] for e in final_store["events"]]


def _sheet_rows(ws: Any, header_row: int) -> tuple[list[Any], list[tuple[Any, ...]]]:
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[header_row - 1]), rows[header_row:]


def test_export_xlsx_holds_hand_computed_values(
    final_store: dict[str, Any], exported: dict[str, Path]
) -> None:
    book = openpyxl.load_workbook(exported["xlsx"])
    assert book.sheetnames == ["甲组", "乙组", "评分明细", "更正记录", "回避", "审计日志", "说明"]
    ws = book["甲组"]
    head, rows = _sheet_rows(ws, 3)
    assert head[:5] == ["名次", "编号", "案例名称", "申报单位", "展示人"]
    assert head[5:10] == ["评委一", "评委二", "评委三", "评委四", "评委五"]
    col = {name: i for i, name in enumerate(head)}
    by_case = {r[1]: r for r in rows if r[1] in EXPECTED}
    assert list(by_case) == ["a3", "a2", "a1"]  # rank order
    for case, row in by_case.items():
        final, rank_, prize, *_ = EXPECTED[case]
        assert row[col["名次"]] == rank_
        assert row[col["最终得分"]] == pytest.approx(float(final))
        assert row[col["奖项"]] == prize
        assert [row[5 + i] for i in range(5)] == pytest.approx(
            [float(A_TOTALS[case][f"j{i}"]) for i in range(1, 6)]
        )
    a3 = next(r for r in ws.iter_rows(min_row=4) if r[1].value == "a3")
    assert a3[col["最终得分"]].number_format == "0.00"
    assert a3[5 + 2].font.strike  # j3 dropped as highest
    assert not a3[5].font.strike
    assert ws.column_dimensions["C"].width > ws.column_dimensions["A"].width
    assert any(final_store["head"] in str(r[0]) for r in rows if r[0])

    b_head, b_rows = _sheet_rows(book["乙组"], 3)
    b3 = next(r for r in b_rows if r[1] == "b3")
    assert b3[b_head.index("评委五")] == "回避"
    assert b3[b_head.index("评委四")] == "缺席"
    assert b3[b_head.index("最终得分")] == pytest.approx(79.5)
    assert b3[b_head.index("奖项")] is None

    s_head, s_rows = _sheet_rows(book["评分明细"], 1)
    a2_j2 = next(r for r in s_rows if r[2] == "a2" and r[4] == "j2")
    assert a2_j2[s_head.index("总分")] == 88
    assert a2_j2[s_head.index("状态")] == "计入"
    assert a2_j2[s_head.index("创新性")] == pytest.approx(float(split("88")["innovation"]))
    assert len(s_rows) == 6 * 5

    _, c_rows = _sheet_rows(book["更正记录"], 1)
    void = next(r for r in c_rows if r[2] == "作废评分")
    assert (void[3], void[4], void[5], void[6]) == ("a2", "评委二", "误触", 60)
    assert any(r[2] == "评委缺席" and r[5] == "身体不适" for r in c_rows)

    a_head, a_rows = _sheet_rows(book["审计日志"], 1)
    assert len(a_rows) == len(final_store["events"])
    assert a_rows[-1][a_head.index("哈希")] == final_store["head"]
    summary = dict(r for r in book["说明"].iter_rows(min_row=2, values_only=True))
    assert summary["日志头哈希 (head)"] == final_store["head"]


def test_export_csv_zip(final_store: dict[str, Any], exported: dict[str, Path]) -> None:
    with zipfile.ZipFile(exported["csv"]) as zf:
        names = set(zf.namelist())
        assert {
            "summary.csv",
            "ranking.csv",
            "scores.csv",
            "corrections.csv",
            "recusals.csv",
            "audit.csv",
            "results.json",
        } <= names
        raw = zf.read("ranking.csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["组别", "名次", "编号"]
    assert [(r[2], r[6], r[8]) for r in rows[1:]] == [
        ("a3", "91.17", "一等奖"),
        ("a2", "85.50", "二等奖"),
        ("a1", "85.00", "三等奖"),
        ("b2", "84.50", "一等奖"),
        ("b1", "80.00", "二等奖"),
        ("b3", "79.50", ""),
    ]


def test_verify_export_recomputes_and_catches_an_edit(exported: dict[str, Path], tmp_path: Path) -> None:
    ok = run_cli("verify", str(exported["json"]))
    assert ok.returncode == 0, ok.stderr
    assert "91.17" in ok.stdout
    assert "every final, rank and prize matches" in ok.stdout

    data = json.loads(exported["json"].read_text(encoding="utf-8"))
    edited = copy.deepcopy(data)
    a3 = next(c for c in edited["cases"] if c["id"] == "a3")
    next(s for s in a3["scores"] if s["judge"] == "j1")["total"] = "99"  # counted: moves the mean
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    bad = run_cli("verify", str(path))
    assert bad.returncode == 1
    assert "a3: final 91.17 in the export, 92.33 recomputed" in bad.stderr
    assert "a3: judge j1's total 99 is not the sum of their criteria" in bad.stderr

    # a consistent forgery of the table (values, totals and results) still disagrees with the log
    forged = copy.deepcopy(data)
    a1 = next(c for c in forged["cases"] if c["id"] == "a1")
    s = next(s for s in a1["scores"] if s["judge"] == "j1")
    s["total"], s["values"] = "86", split("86")
    a1["result"]["final"] = "87.00"
    a1["result"]["unrounded"] = "87"
    for g in forged["groups"]:
        for r in g["ranking"]:
            if r["id"] == "a1":
                r["final"], r["unrounded"] = "87.00", "87"
    path.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    bad = run_cli("verify", str(path))
    assert bad.returncode == 1
    assert "a1: rank 3, 三等奖, final 87.00 in the export; recomputed rank 2" in bad.stderr
    assert "a1: judge j1's total is 86 in the score table but 80 in the audit log" in bad.stderr


# --- over HTTP (host only) and printed ---


@pytest.fixture(scope="module")
def results_server(final_store: dict[str, Any]) -> Iterator[LiveServer]:
    srv = LiveServer(f"sqlite:///{final_store['db']}", contest=None).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def host_token(results_server: LiveServer) -> str:
    return str(results_server.tokens()["host"])


def fetch(url: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def test_http_results_are_host_only(
    results_server: LiveServer, host_token: str, exported: dict[str, Path]
) -> None:
    base = results_server.base
    for path in (
        "/results/export.json",
        "/results/export.xlsx",
        "/results/export.csv",
        "/results/publication",
        "/results/sheets",
    ):
        assert fetch(base + path)[0] == 401
        assert fetch(base + path, "wrong")[0] == 401
        status, _, body = fetch(f"{base}{path}?token={host_token}")  # never in the URL
        assert status == 401
        assert json.loads(body)["error"] == "token_in_url"

    status, headers, body = fetch(base + "/results/export.json", host_token)
    assert status == 200
    assert headers["cache-control"] == "no-store"
    over_http = json.loads(body)
    from_cli = json.loads(exported["json"].read_text(encoding="utf-8"))
    over_http.pop("generated_at")
    from_cli.pop("generated_at")
    assert over_http == from_cli

    status, headers, body = fetch(base + "/results/export.xlsx", host_token)
    assert status == 200
    assert headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book["甲组"]["F3"].value == "评委一"
    status, headers, body = fetch(base + "/results/export.csv", host_token)
    assert status == 200
    assert headers["content-type"] == "application/zip"
    assert "ranking.csv" in zipfile.ZipFile(io.BytesIO(body)).namelist()


def pdf_pages(pdf: bytes, tmp: Path) -> list[str]:
    """The text of each page of a PDF, by poppler's pdftotext."""
    need(shutil.which("pdftotext") is not None, "pdftotext is not installed (apt-get install poppler-utils)")
    path = tmp / "page.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    pages = out.stdout.decode("utf-8").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def _print_page(browser: Any, base: str, path: str, token: str, shot: Path) -> tuple[str, bytes]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_extra_http_headers({"Authorization": f"Bearer {token}"})
        response = page.goto(base + path)
        assert response is not None
        assert response.status == 200
        page.screenshot(path=str(shot), full_page=False)
        text = page.inner_text("body")
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        return text, pdf
    finally:
        context.close()


@pytest.mark.browser
def test_publication_page_prints_every_case_judge_and_the_head(
    browser: Any,
    results_server: LiveServer,
    host_token: str,
    final_store: dict[str, Any],
    shots: Path,
    tmp_path: Path,
) -> None:
    contest = load_contest(MINI)
    text, pdf = _print_page(
        browser, results_server.base, "/results/publication", host_token, shots / "results-publication.png"
    )
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 20_000
    (shots / "results-publication.pdf").write_bytes(pdf)
    for case in contest.cases:
        assert case.title in text
    for judge in contest.judges:
        assert judge.name in text
    assert final_store["head"] in text

    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) == len(contest.groups)  # one A4 page per group
    for page_text, group in zip(pages, contest.groups, strict=True):
        assert f"成绩公示 · {group.name}" in page_text
        assert final_store["head"] in page_text
        for case in contest.group_cases(group.key):
            assert case.id in page_text
            assert case.title in page_text
        for judge in contest.judges:
            assert judge.name in page_text
    a_page = pages[0]
    for text in ("91.17", "85.50", "85.00", "一等奖", "三等奖"):
        assert text in a_page
    for text in ("84.50", "79.50", "回避", "缺席"):
        assert text in pages[1]


@pytest.mark.browser
def test_score_sheets_print_one_page_per_judge(
    browser: Any,
    results_server: LiveServer,
    host_token: str,
    final_store: dict[str, Any],
    shots: Path,
    tmp_path: Path,
) -> None:
    contest = load_contest(MINI)
    text, pdf = _print_page(
        browser, results_server.base, "/results/sheets", host_token, shots / "results-sheets.png"
    )
    (shots / "results-sheets.pdf").write_bytes(pdf)
    assert final_store["head"] in text
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) == len(contest.judges)  # one A4 page per judge
    for page_text, judge in zip(pages, contest.judges, strict=True):
        assert judge.name in page_text
        assert "评委签名" in page_text
        assert final_store["head"] in page_text
        for case in contest.cases:
            assert case.id in page_text
    j2 = pages[1]
    assert "作废 60（误触）" in j2
    assert "回避" in pages[4]  # j5 on b3
    assert "缺席" in pages[3]  # j4 on b2 and b3


def _demo_export() -> dict[str, Any]:
    """All 45 demo cases scored by 9 judges and revealed, as an export (no server)."""
    import random

    rnd = random.Random(7)
    f = Final(demo_contest())
    for case in f.contest.cases:
        f.host("stage", case=case.id)
        f.host("open")
        for judge in f.contest.judges:
            if not f.contest.is_recused(judge.id, case.id):
                total = str(Decimal(rnd.randrange(140, 188)) / 2)
                f.do(judge.id, "score", case=case.id, criteria=split(total))
        f.host("close")
        f.host("reveal")
    epoch = "demoepoch"
    from live import chain

    created = NewEvent("created", {"contest": contest_data(f.contest)}, "system", 1)
    news = [created, *(NewEvent(e["type"], e["data"], e["actor"], e["at"]) for e in f.events)]
    return build_export(epoch, chain_events(chain.genesis(epoch), 1, news), generated_at=0)


@pytest.mark.browser
def test_demo_sized_final_fits_one_a4_page_per_group_and_per_judge(
    browser: Any, shots: Path, tmp_path: Path
) -> None:
    export = _demo_export()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_content(publication_html(export))
        page.screenshot(path=str(shots / "results-publication-demo.png"))
        pub = pdf_pages(page.pdf(prefer_css_page_size=True, print_background=True), tmp_path)
        page.set_content(sheets_html(export))
        page.screenshot(path=str(shots / "results-sheets-demo.png"))
        sheets = page.pdf(prefer_css_page_size=True, print_background=True)
        (shots / "results-sheets-demo.pdf").write_bytes(sheets)
        sheet_pages = pdf_pages(sheets, tmp_path)
    finally:
        context.close()
    assert len(pub) == 3
    assert len(sheet_pages) == 9
    for text in sheet_pages:
        for needle in ("dev-01", "party-15", "评委签名"):
            assert needle in text
        assert export["head"] in text


def test_partial_final_exports_as_provisional(tmp_path: Path) -> None:
    """Mid-final (host only): unrevealed scores are listed as submitted, pages say provisional."""
    from live import chain
    from live.export.recheck import recompute

    f = Final(load_contest(MINI))
    f.host("stage", case="a1")
    f.host("open")
    for judge, total in A_TOTALS["a1"].items():
        f.do(judge, "score", case="a1", criteria=split(total))
    f.host("close")
    f.host("reveal")
    f.host("stage", case="a2")
    f.host("open")
    f.do("j1", "score", case="a2", criteria=split("71.5"))
    news = [
        NewEvent("created", {"contest": contest_data(f.contest)}, "system", 1),
        *(NewEvent(e["type"], e["data"], e["actor"], e["at"]) for e in f.events),
    ]
    export = build_export("e1", chain_events(chain.genesis("e1"), 1, news), generated_at=0)
    assert export["finished"] is False
    a = next(g for g in export["groups"] if g["key"] == "a")
    assert [r["id"] for r in a["ranking"]] == ["a1"]
    assert a["pending"] == ["a2", "a3"]
    a2 = next(c for c in export["cases"] if c["id"] == "a2")
    assert a2["result"] is None
    # a2 is open for scoring: the judges who have not scored yet are waited for, not missing
    assert [s["status"] for s in a2["scores"]] == ["submitted", *["waiting"] * 4]
    assert recompute(export)[1] == []
    page = publication_html(export)
    assert "结果未最终确定" in page
    assert "已提交（未亮分）" in page  # j1's 71.5 for a2 is not printed before the reveal
    assert "71.5" not in page
    assert ">80<" in page  # a1 is revealed
    assert "Provisional" in publication_html(export, "en")
    assert "Score sheet" in sheets_html(export, "en")


def test_import_csv_saved_as_gb18030(tmp_path: Path) -> None:
    """Excel on a Chinese Windows saves plain "CSV" in GB18030; that is read too."""
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    rows = ["评委,单位"] + [f"{j['name']},{j['unit']}" for j in data["judges"]]
    (tmp_path / "judges.csv").write_bytes("\r\n".join(rows).encode("gb18030"))
    got = load_contest(write_yaml(tmp_path / "c.yaml", {**data, "judges": "judges.csv"}))
    assert got.judges == load_contest(MINI).judges
