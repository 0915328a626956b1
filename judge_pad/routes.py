"""The judge pad's routes: the tablet page at ``/pad`` and its static files.

The page is a shell; everything it shows comes from the hub's judge view over ``/ws``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

if TYPE_CHECKING:
    from live.hub import Hub

HERE = Path(__file__).parent
STATIC_URL = "/static/judge_pad"
templates = Jinja2Templates(directory=HERE / "templates")


def routes(hub: Hub) -> list[BaseRoute]:
    async def pad(request: Request) -> Response:
        contest = getattr(hub, "contest", None)
        # no-cache: a judge's tablet must pick up a fixed pad at the next reload.
        return templates.TemplateResponse(
            request,
            "pad.html",
            {"title": contest.title if contest else "", "static": STATIC_URL},
            headers={"Cache-Control": "no-cache"},
        )

    return [
        Route("/pad", pad, name="judge_pad"),
        Mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="judge_pad-static"),
    ]
