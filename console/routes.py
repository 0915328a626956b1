"""The host console: the page at /console, its static files, the printable judge cards, and
host-only JSON endpoints (audit log, correction preview) behind the host token."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from console.preview import preview
from live import chain
from live.final import CREATED
from live.http_auth import host_only
from live.hub import Hub, now_ms

log = logging.getLogger("live.console")
HERE = Path(__file__).parent
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
MAX_BODY = 64 * 1024


def _touches(event: dict[str, Any], case: str) -> bool:
    data = event.get("data") or {}
    return case in (data.get("case"), data.get("after")) or case in (data.get("order") or [])


def audit_rows(events: list[dict[str, Any]], case: str | None) -> list[dict[str, Any]]:
    rows = []
    for ev in events:
        if case and not _touches(ev, case):
            continue
        data = ev.get("data") or {}
        if ev["type"] == CREATED:  # the whole contest file: its title says enough here
            data = {"title": (data.get("contest") or {}).get("title"), "protocol": data.get("protocol")}
        rows.append(
            {
                "seq": ev["seq"],
                "time": ev.get("at"),
                "actor": ev.get("actor"),
                "type": ev["type"],
                "data": data,
                "case": data.get("case"),
                "reason": data.get("reason"),
                "hash": ev.get("hash"),
            }
        )
    return rows


def _public_base(request: Request) -> str:
    """Where tablets reach the hub: the console's own origin unless the organiser names one."""
    given = request.query_params.get("base", "").strip().rstrip("/")
    parts = urlsplit(given)
    if given and parts.scheme in ("http", "https") and parts.netloc:
        return given
    return str(request.base_url).rstrip("/")


def routes(hub: Hub) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        html = TEMPLATES.get_template("console.html").render()
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def cards_page(request: Request) -> Response:
        html = TEMPLATES.get_template("cards.html").render()
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def audit(request: Request) -> Response:
        events = await hub.store.read(0)
        seq, head = await hub.store.head()
        _, broken = chain.check(hub.store.epoch, events)
        case = request.query_params.get("case") or None
        return JSONResponse(
            {
                "epoch": hub.store.epoch,
                "head": {"seq": seq, "hash": head},
                "chain_ok": broken is None,
                "break": None if broken is None else {"seq": broken.seq, "reason": broken.reason},
                "case": case,
                "events": audit_rows(events, case),
            }
        )

    async def preview_endpoint(request: Request) -> Response:
        body = await request.body()
        try:
            if len(body) > MAX_BODY:
                raise ValueError("body too large")
            frame = json.loads(body)
            action, args = frame["action"], frame.get("args", {})
            if not isinstance(action, str) or not isinstance(args, dict):
                raise ValueError("action must be a string and args an object")
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": "bad_frame", "message": str(exc)}, 400)
        assert hub.state is not None
        # hub.state is an immutable snapshot: the pure functions cannot change the live final.
        return JSONResponse(preview(hub.contest, hub.state, action, args, now_ms()))

    async def cards(request: Request) -> Response:
        tokens = await hub.tokens()
        base = _public_base(request)
        out = []
        for j in hub.contest.judges:
            code = tokens.judges[j.id]
            url = f"{base}/pad#t={code}"
            qr = segno.make(url, error="m")
            out.append(
                {
                    "id": j.id,
                    "name": j.name,
                    "unit": j.unit,
                    "code": code,
                    "url": url,
                    "svg": qr.svg_inline(scale=4, border=2, omitsize=True),
                }
            )
        return JSONResponse(
            {"title": hub.contest.title, "base": base, "cards": out}, headers={"Cache-Control": "no-store"}
        )

    return [
        Route("/console", page),
        Route("/console/cards", cards_page),
        Route("/console/api/audit", host_only(hub, audit)),
        Route("/console/api/preview", host_only(hub, preview_endpoint), methods=["POST"]),
        Route("/console/api/cards", host_only(hub, cards)),
        Mount("/static/console", StaticFiles(directory=HERE / "static"), name="console-static"),
    ]
