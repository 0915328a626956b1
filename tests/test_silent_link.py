"""A silent (half-open) link, as when a tablet roams between access points: a TCP proxy between
Chromium and the real hub stops forwarding without closing anything, then lets new connections
through while the old ones stay frozen. Every page must notice within 10 s and say so; the pad
keeps a score entered meanwhile and delivers it on a fresh connection; the console says plainly
that a command was not applied."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

from live.client import HubClient
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

NOTICE_S = 10.0  # the bound for noticing a silent link
DELIVER_S = 30.0  # after the link comes back: reconnect backoff plus the snapshot


class FreezingProxy:
    """TCP proxy to the hub. freeze(): existing connections stop forwarding (nothing is closed)
    and new ones hang; thaw(): new connections go through, the frozen ones stay frozen."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.frozen = False
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.conns: list[dict[str, Any]] = []
        self.server = self.run(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = int(self.server.sockets[0].getsockname()[1])

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn: dict[str, Any] = {"frozen": self.frozen, "writers": [writer]}
        self.conns.append(conn)
        if conn["frozen"]:
            return  # accepted, never read, never answered: a dead path
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        conn["writers"].append(up_writer)
        await asyncio.gather(self._pump(reader, up_writer, conn), self._pump(up_reader, writer, conn))

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: dict[str, Any]
    ) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = await reader.read(65536)
                if conn["frozen"]:
                    await asyncio.Event().wait()  # hold the bytes forever, close nothing
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()

    def freeze(self) -> None:
        async def go() -> None:
            self.frozen = True
            for conn in self.conns:
                conn["frozen"] = True

        self.run(go())

    def thaw(self) -> None:
        async def go() -> None:
            self.frozen = False

        self.run(go())

    def close(self) -> None:
        async def go() -> None:
            self.server.close()
            for conn in self.conns:
                for w in conn["writers"]:
                    w.transport.abort()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            self.run(go())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class Host:
    """A protocol host on the hub's own port (not through the proxy): sets up and observes."""

    def __init__(self, base: str, token: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = self.run(HubClient(base, "host", token).connect())

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def state(self) -> dict[str, Any]:
        async def copy() -> dict[str, Any]:
            return dict(self.client.state)

        return self.run(copy())

    def close(self) -> None:
        self.run(self.client.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def hall(server: LiveServer, tokens: dict[str, Any]) -> Iterator[tuple[FreezingProxy, Host]]:
    proxy = FreezingProxy(server.port)
    host = Host(server.base, tokens["host"])
    try:
        yield proxy, host
    finally:
        host.close()
        proxy.close()


def seconds_until(page: Any, js: str, since: float, limit: float) -> float:
    """Seconds from `since` until the expression holds in the page (fails past `limit`)."""
    left = since + limit - time.monotonic()
    page.wait_for_function(js, timeout=max(0.1, left) * 1000, polling=100)
    return round(time.monotonic() - since, 1)


def test_every_page_notices_a_silent_link_and_the_pad_delivers_on_a_fresh_one(
    browser: Any, server: LiveServer, tokens: dict[str, Any], hall: tuple[FreezingProxy, Host], shots: Any
) -> None:
    proxy, host = hall
    base = f"http://127.0.0.1:{proxy.port}"
    host.run(host.client.command("next"))
    host.run(host.client.command("open"))

    pad = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    pad.goto(f"{base}/pad#t={tokens['judges']['j1']}")
    pad.wait_for_selector("#conn[data-status=online]")
    pad.wait_for_selector("#entry")
    console = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    console.goto(f"{base}/console")
    console.fill("#token", tokens["host"])
    console.click("#signin-form button[type=submit]")
    console.wait_for_selector(".conn.online")
    console.wait_for_selector('.judge[data-judge="j1"][data-presence="online"]')
    display = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    display.goto(f"{base}/display")
    display.wait_for_selector("#stage[data-status=online]")
    audience = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    audience.goto(f"{base}/live")
    audience.wait_for_selector("main[data-seq]")

    proxy.freeze()
    frozen_at = time.monotonic()
    # Pressed before the console can know: sent into the dead link, so no answer comes back.
    console.click('[data-act="close"]')
    console.click("#confirm-ok")
    # Each page within NOTICE_S of the freeze (waited for in turn: each figure is an upper bound).
    banner_up = "!document.querySelector('[data-el=reconnect]').hidden"
    took = {
        "pad": seconds_until(
            pad, "document.getElementById('conn').dataset.status !== 'online'", frozen_at, NOTICE_S
        ),
        "console": seconds_until(
            console, "!document.querySelector('.conn').classList.contains('online')", frozen_at, NOTICE_S
        ),
        "display": seconds_until(display, banner_up, frozen_at, NOTICE_S),
        "audience": seconds_until(audience, banner_up, frozen_at, NOTICE_S),
    }
    print(f"silent link noticed, seconds after the freeze: {took}")
    toast = console.locator("#toast")
    assert "未确认" in toast.inner_text(), toast.inner_text()

    # The pad says plainly that it is not online; the console does not vouch for the judges.
    assert pad.locator("#conn-text").inner_text() != "在线"
    assert console.locator(".conn").inner_text() != "已连接"
    console.wait_for_selector('.judge[data-judge="j1"][data-presence="unknown"]', timeout=2000)
    assert console.locator("#link-down").is_visible()

    # A score confirmed on the pad while silent waits on the device, not "sending".
    for key, value in (("innovation", "27"), ("impact", "24"), ("value", "16"), ("delivery", "16")):
        pad.locator(f'.btn.pick[data-key="{key}"][data-value="{value}"]').click()
    pad.locator("#submit").click()
    pad.locator("#review-confirm").click()
    pad.wait_for_selector("#pending")
    note = pad.locator("#pending .hint").inner_text()
    assert "正在发送" not in note
    assert "联网后自动发送" in note

    # Pressed once the console knows: refused at once, in words.
    console.click('[data-act="close"]')
    console.click("#confirm-ok")
    console.wait_for_function("document.getElementById('toast').textContent.includes('未执行')", timeout=1000)
    pad.screenshot(path=str(shots / "silent-pad.png"))
    console.screenshot(path=str(shots / "silent-console.png"))
    display.screenshot(path=str(shots / "silent-display.png"))

    # The display's banner stays up, without a gap, for as long as the link is down.
    gaps = display.evaluate(
        """() => new Promise((done) => {
          const banner = document.querySelector('[data-el=reconnect]');
          let hidden = 0;
          const t = setInterval(() => { if (banner.hidden) hidden += 1; }, 100);
          setTimeout(() => { clearInterval(t); done(hidden); }, 6000);
        })"""
    )
    assert gaps == 0

    assert host.state()["run"]["status"]["a1"] == "scoring"  # neither close reached the hub
    proxy.thaw()
    thawed_at = time.monotonic()
    deadline = thawed_at + DELIVER_S
    while "j1" not in (host.state().get("scores") or {}).get("entries", {}):
        assert time.monotonic() < deadline, "the pad's score was not delivered after the link came back"
        time.sleep(0.2)
    delivered = time.monotonic() - thawed_at
    print(f"score delivered {delivered:.1f} s after the link came back")
    assert host.state()["scores"]["entries"]["j1"]["total"] == "83"
    pad.wait_for_selector("#receipt", timeout=DELIVER_S * 1000)
    pad.wait_for_selector("#conn[data-status=online]", timeout=DELIVER_S * 1000)
    console.wait_for_selector(".conn.online", timeout=DELIVER_S * 1000)
    console.wait_for_selector('.judge[data-judge="j1"][data-presence="online"]', timeout=DELIVER_S * 1000)
    assert console.locator("#link-down").is_hidden()
    display.wait_for_selector("[data-el=reconnect][hidden]", state="attached", timeout=DELIVER_S * 1000)
    audience.wait_for_selector("[data-el=reconnect][hidden]", state="attached", timeout=DELIVER_S * 1000)
    assert host.state()["run"]["status"]["a1"] == "scoring"
    for page in (pad, console, display, audience):
        page.context.close()
