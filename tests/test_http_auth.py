"""live/http_auth.py: the one guard in front of every host-only endpoint. The host token is accepted
only as ``Authorization: Bearer`` (never in the URL, never a judge's token) against a real hub."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import MINI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from live.contest_file import load_contest
from live.http_auth import bearer, host_only
from live.hub import Hub
from live.store.memory import MemoryStore
from live.tokens import rotate


def request(authorization: str | None = None, query: str = "") -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization is not None else []
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/api/console/state",
            "query_string": query.encode(),
            "headers": headers,
            "client": ("192.0.2.7", 50000),
        }
    )


async def ok(request: Request) -> Response:
    return JSONResponse({"served": True})


@pytest.fixture
async def hub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    monkeypatch.delenv("LIVE_HOST_TOKEN", raising=False)
    hub = Hub(MemoryStore(), load_contest(MINI))
    await hub.start()
    yield hub
    await hub.stop()


def body(response: Response) -> Any:
    return json.loads(bytes(response.body))


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer    ", None),
        ("Basic abc", None),
        ("Token abc", None),
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER  abc ", "abc"),
    ],
)
def test_bearer(header: str | None, token: str | None) -> None:
    assert bearer(request(header)) == token


async def test_the_host_token_as_bearer_is_served(hub: Hub) -> None:
    host = (await hub.tokens()).host
    guarded = host_only(hub, ok)
    for header in (f"Bearer {host}", f"bearer {host}", f"Bearer  {host} "):
        response = await guarded(request(header))
        assert response.status_code == 200
        assert body(response) == {"served": True}


async def refused(hub: Hub, req: Request) -> dict[str, Any]:
    response = await host_only(hub, ok)(req)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["cache-control"] == "no-store"
    return dict(body(response))


async def test_missing_or_wrong_tokens_are_refused(hub: Hub) -> None:
    tokens = await hub.tokens()
    judge = next(iter(tokens.judges.values()))
    for header in (
        None,
        "",
        "Bearer",
        "Bearer wrong",
        f"Bearer {tokens.host}x",
        f"Bearer {tokens.host[:-1]}",
        f"Bearer {judge}",  # a judge is not the host
        f"Basic {tokens.host}",  # the right secret under the wrong scheme
        tokens.host,  # no scheme at all
    ):
        assert (await refused(hub, request(header)))["error"] == "bad_token", header


async def test_a_token_in_the_url_is_refused_even_with_the_right_header(hub: Hub) -> None:
    host = (await hub.tokens()).host
    for query, header in ((f"token={host}", None), (f"token={host}", f"Bearer {host}"), ("token=", None)):
        answer = await refused(hub, request(header, query))
        assert answer["error"] == "token_in_url"
        assert host not in answer["message"]


async def test_a_rotated_host_token_stops_at_once(hub: Hub) -> None:
    old = (await hub.tokens()).host
    new = await rotate(hub.store, "host")
    assert (await refused(hub, request(f"Bearer {old}")))["error"] == "bad_token"
    assert (await host_only(hub, ok)(request(f"Bearer {new}"))).status_code == 200
