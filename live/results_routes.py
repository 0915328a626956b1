"""Host-only results over HTTP: exports (/results/export.json|xlsx|csv), the print-ready
publication page (成绩公示) and the judges' score sheets for signature (评分表).

Every route needs ``Authorization: Bearer <host token>``; a token in the URL is refused, since
URLs end up in logs and browser history. Pages and files are built from the log, not the views.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from live.export.build import ExportError, build_export
from live.export.labels import CASE_STATUS, SCORE_STATUS, iso
from live.export.writers import FORMATS, MEDIA_TYPES, render
from live.http_auth import Handler, host_only
from live.hub import Hub

log = logging.getLogger("live.results")
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=select_autoescape(["html"])
)
SUFFIX = {"json": "json", "xlsx": "xlsx", "csv": "zip"}
NO_STORE = {"Cache-Control": "no-store"}

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "publication": "成绩公示",
        "sheets": "评分表",
        "rank": "名次",
        "id": "编号",
        "case": "案例名称 / 申报单位",
        "presenter": "展示人",
        "final": "最终得分",
        "prize": "奖项",
        "note": "备注",
        "legend_high": "去掉的最高分",
        "legend_low": "去掉的最低分",
        "recompute": "各评委总分均列于表中，任何人可据此重算。",
        "head": "日志头哈希",
        "events": "事件数",
        "generated": "生成时间",
        "provisional": "结果未最终确定：仍有案例未亮分",
        "tied": "并列",
        "boundary_tie": "并列（跨奖项，待主持人裁定）",
        "order": "序号",
        "group": "组别",
        "title": "案例名称",
        "total": "总分",
        "judge": "评委",
        "unit": "单位",
        "confirm": "本人确认：以上为本人在现场提交的评分，与系统记录一致。",
        "signature": "评委签名",
        "date": "日期",
        "page": "页",
        "verify": "核验",
        "verify_how": "live verify 导出的 JSON，可由原始评分独立重算全部结果",
        "voided": "作废",
        "judges": "评委",
    },
    "en": {
        "publication": "Published results",
        "sheets": "Score sheet",
        "rank": "Rank",
        "id": "ID",
        "case": "Case / unit",
        "presenter": "Presenter",
        "final": "Final",
        "prize": "Prize",
        "note": "Note",
        "legend_high": "dropped highest",
        "legend_low": "dropped lowest",
        "recompute": "Every judge's total is listed, so anyone can recompute the results.",
        "head": "Log head hash",
        "events": "events",
        "generated": "Generated",
        "provisional": "Provisional: some cases are not revealed yet",
        "tied": "tie",
        "boundary_tie": "tie across a prize boundary (host to resolve)",
        "order": "No.",
        "group": "Group",
        "title": "Case",
        "total": "Total",
        "judge": "Judge",
        "unit": "Unit",
        "confirm": "I confirm these are the scores I submitted, as the system recorded them.",
        "signature": "Judge's signature",
        "date": "Date",
        "page": "page",
        "verify": "Verify",
        "verify_how": "export JSON and run `live verify results.json` to recompute every result "
        "from the raw scores",
        "voided": "voided",
        "judges": "Judges",
    },
}
STATUS_EN = {
    "recused": "recused",
    "absent": "absent",
    "missing": "—",
    "submitted": "submitted",
    "skipped": "not presented",
    "waiting": "waiting",
    "on_stage": "on stage",
    "scoring": "scoring",
    "closed": "closed",
}


def _status_text(status: str, lang: str, of_case: bool = False) -> str:
    """A judge's standing on a case, or (``of_case``) a case's status: both have a "waiting"."""
    if lang == "en":
        return STATUS_EN.get(status, status)
    if of_case:
        return CASE_STATUS.get(status, status)
    return "—" if status == "missing" else SCORE_STATUS.get(status, status)


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def _common(export: Mapping[str, Any], lang: str) -> dict[str, Any]:
    return {
        "x": export,
        "t": LABELS[lang],
        "lang": lang,
        "generated": iso(export["generated_at"]),
        "judges": export["judges"],
        "rubric": export["rubric"],
    }


def publication_html(export: Mapping[str, Any], lang: str = "zh") -> str:
    """成绩公示: one A4 landscape page per group with every judge's total per case."""
    by_id = {c["id"]: c for c in export["cases"]}
    groups = []
    for g in export["groups"]:
        rows = []
        for case in [by_id[r["id"]] for r in g["ranking"]] + [by_id[c] for c in g["skipped"] + g["pending"]]:
            cells = []
            for s in case["scores"]:
                mark = {"dropped_high": "↑", "dropped_low": "↓"}.get(s["status"], "")
                # A page meant for posting shows no score of a case not yet revealed.
                shown = s.get("total") if case["result"] else None
                cells.append(
                    {
                        "total": shown,
                        "mark": mark,
                        "text": "" if shown is not None else _status_text(s["status"], lang),
                    }
                )
            note = (
                LABELS[lang][case["tie"]]
                if case["tie"]
                else ""
                if case["result"]
                else _status_text(case["status"], lang, of_case=True)
            )
            rows.append({"case": case, "cells": cells, "note": note})
        groups.append({"g": g, "rows": rows})
    return TEMPLATES.get_template("results_publication.html").render(groups=groups, **_common(export, lang))


def sheets_html(export: Mapping[str, Any], lang: str = "zh") -> str:
    """评分表: one A4 portrait page per judge, every case in presentation order, to sign."""
    groups = {g["key"]: g["name"] for g in export["groups"]}
    cases = sorted(export["cases"], key=lambda c: c["position"])
    pages = []
    for i, judge in enumerate(export["judges"]):
        rows = []
        for case in cases:
            s = case["scores"][i]
            assert s["judge"] == judge["id"]
            voided = [v for v in case["voids"] if v["judge"] == judge["id"]]
            note = _status_text(s["status"], lang) if "total" not in s else ""
            if case["status"] == "skipped":
                note = _status_text("skipped", lang, of_case=True)
            if voided:
                note = (note + " " if note else "") + "、".join(
                    f"{LABELS[lang]['voided']} {v['total']}（{v['reason']}）" for v in voided
                )
            rows.append(
                {
                    "case": case,
                    "group": groups[case["group"]],
                    "values": s.get("values") or {},
                    "total": s.get("total"),
                    "note": note.strip(),
                }
            )
        pages.append({"judge": judge, "rows": rows})
    dense = len(cases) > 24
    return TEMPLATES.get_template("results_sheets.html").render(
        pages=pages, dense=dense, **_common(export, lang)
    )


async def _export(hub: Hub) -> dict[str, Any]:
    events = await hub.store.read(0)
    return await run_in_threadpool(build_export, hub.store.epoch, events)


def routes(hub: Hub) -> list[BaseRoute]:
    def download(fmt: str) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                export = await _export(hub)
            except ExportError as exc:
                return JSONResponse({"error": "log_invalid", "message": str(exc)}, 500, NO_STORE)
            body = await run_in_threadpool(render, export, fmt)
            name = f"live-results-{export['head'][:12]}.{SUFFIX[fmt]}"
            return Response(
                body,
                media_type=MEDIA_TYPES[fmt],
                headers={"Content-Disposition": f'attachment; filename="{name}"', **NO_STORE},
            )

        return endpoint

    def page(build: Callable[[Mapping[str, Any], str], str]) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                export = await _export(hub)
            except ExportError as exc:
                return JSONResponse({"error": "log_invalid", "message": str(exc)}, 500, NO_STORE)
            html = await run_in_threadpool(build, export, _lang(request))
            return HTMLResponse(html, headers=NO_STORE)

        return endpoint

    out: list[BaseRoute] = [Route(f"/results/export.{fmt}", host_only(hub, download(fmt))) for fmt in FORMATS]
    out.append(Route("/results/publication", host_only(hub, page(publication_html))))
    out.append(Route("/results/sheets", host_only(hub, page(sheets_html))))
    return out
