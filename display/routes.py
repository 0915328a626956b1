"""The big screen (/display) and the audience's phone page (/live): two server-rendered shells
whose ES modules draw the public view the hub pushes; static files at /static/display.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from live.hub import Hub

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def _title(hub: Hub) -> str:
    # Only for the first paint and the tab title; the page redraws from the snapshot.
    contest = getattr(hub, "contest", None)
    return contest.title if contest is not None else ""


def routes(hub: Hub) -> list[BaseRoute]:
    async def display(request: Request) -> Response:
        return templates.TemplateResponse(request, "display.html", {"title": _title(hub)})

    async def audience(request: Request) -> Response:
        return templates.TemplateResponse(request, "live.html", {"title": _title(hub)})

    return [
        Route("/display", display),
        Route("/live", audience),
        Mount("/static/display", StaticFiles(directory=HERE / "static"), name="display-static"),
    ]
