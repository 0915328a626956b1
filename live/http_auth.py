"""Host-only HTTP: the host token travels as ``Authorization: Bearer``, never in a URL, and is
compared in constant time; one guard for every host-only endpoint (console API, results)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from live.hub import Hub

log = logging.getLogger("live.http")
Handler = Callable[[Request], Awaitable[Response]]
REFUSED = {"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"}


def bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def host_only(hub: Hub, handler: Handler) -> Handler:
    """Refuse with 401 unless the request carries the host token in its Authorization header."""

    async def guarded(request: Request) -> Response:
        if "token" in request.query_params:
            return JSONResponse(
                {
                    "error": "token_in_url",
                    "message": "send the host token as 'Authorization: Bearer …', never in the URL",
                },
                401,
                REFUSED,
            )
        if not (await hub.tokens()).is_host(bearer(request)):
            log.info(
                "refused %s from %s: bad token",
                request.url.path,
                request.client.host if request.client else "?",
            )
            return JSONResponse(
                {"error": "bad_token", "message": "wrong or missing host token"}, 401, REFUSED
            )
        return await handler(request)

    return guarded
