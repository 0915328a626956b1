"""Shared fixtures: a real hub in its own process on a free port, and headless Chromium.

Set LIVE_REQUIRE_ALL=1 (as .ci/run does) to turn a skipped browser or Redis test into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis  # noqa: F401  (imported early: see below)
import pytest

# hypothesis's pytest plugin imports hypothesis lazily at the very end of a session, deep in
# pluggy's stack, where CPython 3.11.7's compiler can fail ("AST constructor recursion depth
# mismatch") while pytest rewrites it. Importing it here, at a shallow depth, avoids that.

DATA = Path(__file__).with_name("data")
MINI = DATA / "mini.yaml"
OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
REQUIRE_ALL = os.environ.get("LIVE_REQUIRE_ALL") == "1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def need(condition: bool, reason: str) -> None:
    """Skip when a required part is missing, or fail when LIVE_REQUIRE_ALL=1."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required test part missing: {reason}")
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Under LIVE_REQUIRE_ALL=1 no test may skip, whatever made it skip."""
    report = yield
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but LIVE_REQUIRE_ALL=1 requires every test: {report.longrepr}"
    return report


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def live_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "live", *args]


class LiveServer:
    """``live serve`` in a subprocess; can be SIGKILLed and restarted on the same store."""

    def __init__(
        self,
        store: str,
        contest: Path | None = MINI,
        port: int | None = None,
        extra: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.store = store
        self.contest = contest
        self.port = port or free_port()
        self.extra = extra
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        # A fresh file per server object: a reused port must not show an earlier run's output.
        fd, name = tempfile.mkstemp(prefix=f"live-{self.port}-", suffix=".log")
        os.close(fd)
        self.log_path = Path(name)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> LiveServer:
        args = ["serve", "--store", self.store, "--host", "127.0.0.1", "--port", str(self.port), *self.extra]
        if self.contest is not None:
            args += ["--contest", str(self.contest)]
        self._close_log()
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(live_cmd(*args), stdout=self.log, stderr=self.log, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"live serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as r:
                    if json.load(r).get("ok"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"live serve did not start: {self.log_path.read_text()[-2000:]}")

    def _close_log(self) -> None:
        # An unclosed handle is a ResourceWarning, an error under filterwarnings=error.
        log = getattr(self, "log", None)
        if log is not None and (self.proc is None or self.proc.poll() is not None):
            log.close()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._close_log()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def restart(self) -> LiveServer:
        self.kill()
        return self.start()

    def tokens(self) -> dict[str, Any]:
        out = subprocess.run(
            live_cmd("tokens", "--json", "--store", self.store),
            capture_output=True,
            check=True,
            env=self.env,
            timeout=30,
        )
        return json.loads(out.stdout)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """The mini-final served by a real uvicorn on a free port, SQLite store in tmp_path."""
    srv = LiveServer(f"sqlite:///{tmp_path / 'final.db'}").start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def tokens(server: LiveServer) -> dict[str, Any]:
    return server.tokens()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright (never `playwright install`).

    Module scope: Playwright's sync API marks an event loop as running in the main thread for
    as long as it is open, which would break every asyncio test that runs after it."""
    need(Path(CHROMIUM).exists(), "Debian chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "the playwright Python package is not installed")
        raise
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    """Where a test saves its screenshots (looked at by people, kept by CI)."""
    path = OUTPUT / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")
