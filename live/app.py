"""The Starlette app for one final: routes ``/ws`` (``live.connection``), health and public-view
JSON, and the UI surfaces; ``create_app`` is the factory, ``app_from_env`` the one for workers.

``live serve`` (live/server.py) runs it under uvicorn with the settings the protocol needs
(``live.uvicorn_direct.uvicorn_options``).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from live import settings
from live.connection import Connection, origin_ok
from live.contest import Contest
from live.hub import Hub
from live.logs import setup_logging
from live.store import open_store
from live.uvicorn_direct import KeepServerSend

log = logging.getLogger("live.app")
STATIC = Path(__file__).with_name("static")
SURFACES = ("judge_pad", "display", "console")


def _surface_routes(hub: Hub) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for name in SURFACES:
        try:
            module = importlib.import_module(f"{name}.routes")
        except ModuleNotFoundError:
            continue
        routes.extend(module.routes(hub))
    # Host-only results: exports, 成绩公示 and 评分表 (live/results_routes.py).
    routes.extend(importlib.import_module("live.results_routes").routes(hub))
    return routes


def create_app(
    contest: Contest | None,
    store_url: str = settings.STORE.default,
    allow_origins: Iterable[str] = (),
    follow: bool | None = None,
) -> Starlette:
    """Build the app for one final. The hub starts (and resumes the log) in the lifespan."""
    store = open_store(store_url)
    hub = Hub(store, contest)
    allowed = tuple(allow_origins)
    shared = follow if follow is not None else store.shared

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start(follow=shared)
        try:
            yield
        finally:
            await hub.stop()

    async def ws_endpoint(ws: WebSocket) -> None:
        if not origin_ok(ws, allowed):
            log.info("refused upgrade from origin %r", ws.headers.get("origin"))
            await ws.close(1008)  # before accept: the server answers 403
            return
        await ws.accept()
        await Connection(hub, ws).run()

    async def healthz(request: Request) -> Response:
        return JSONResponse(
            {
                "ok": hub.started,
                "seq": hub.seq if hub.started else None,
                "epoch": store.epoch,
                "clients": len(hub.clients),
                # clients on the direct fan-out path (the rest use a queue)
                "direct": sum(c.write is not None for c in hub.clients),
                "pid": os.getpid(),
            }
        )  # which worker answered

    async def public(request: Request) -> Response:
        return JSONResponse(hub.view_json("public"))

    async def index(request: Request) -> Response:
        return RedirectResponse("/display")

    routes: list[BaseRoute] = [
        WebSocketRoute("/ws", ws_endpoint),
        Route("/healthz", healthz),
        Route("/api/view/display", public),
        Route("/api/view/audience", public),
        Route("/", index),
        Mount("/static/live", StaticFiles(directory=STATIC), name="live-static"),
        *_surface_routes(hub),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(KeepServerSend)])
    app.state.hub = hub
    return app


def app_from_env() -> Starlette:
    """The app as a factory for ``uvicorn --factory live.app:app_from_env`` and for each worker of
    ``live serve --workers N``: store from LIVE_STORE, contest (first start only) from
    LIVE_CONTEST, extra origins from LIVE_ALLOW_ORIGIN (comma-separated)."""
    from live.contest_file import load_contest

    setup_logging(settings.LOG_LEVEL.value())  # a spawned worker does not inherit the parent's handlers
    path = settings.CONTEST.value()
    return create_app(
        load_contest(path) if path else None, settings.STORE.value(), settings.ALLOW_ORIGIN.value()
    )
