"""`live serve` says where to point each screen, and never prints a token."""

from __future__ import annotations

from typing import Any

from conftest import LiveServer


def test_serve_prints_the_links_without_tokens(server: LiveServer, tokens: dict[str, Any]) -> None:
    out = server.log_text()
    for path in ("/console", "/display", "/live", "/pad"):
        assert f"http://127.0.0.1:{server.port}{path}" in out
    assert f"live tokens --store {server.store}" in out
    assert tokens["host"] not in out
    assert not any(code in out for code in tokens["judges"].values())
