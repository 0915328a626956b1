"""Processes the benchmarks start (hubs, peer servers, redis-server, the Node generator) and
what they read from /proc about them: CPU seconds and resident memory."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CONTEST = BENCH / "contest15.yaml"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {proc.args}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class Server:
    """A server process on a loopback port; stop() ends exactly this process."""

    def __init__(
        self, name: str, args: list[str], port: int, log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name, self.port = name, port
        self.log = log.open("w")
        # Another checkout's code runs from its own directory: ``python -c`` puts the working
        # directory ahead of PYTHONPATH on sys.path.
        cwd = (env or {}).get("PYTHONPATH", ROOT)  # (hubproc.py is run by path, so this holds)
        self.proc = subprocess.Popen(
            args, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        wait_port(port, self.proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def tokens(store: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "live", "tokens", "--json", "--store", store, "--contest", str(CONTEST)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def start_hub(store: str, out: Path, name: str = "hub", code_dir: Path | None = None) -> Server:
    """The real server path (``live serve``'s run_server), with warning-level logs so that
    10,000 hellos do not write 10,000 log lines. ``code_dir``: run another checkout's ``live``."""
    port = free_port()
    env = {"LIVE_BENCH_GC": str(out / f"{name}-gc.jsonl")}
    if code_dir:
        env["PYTHONPATH"] = str(code_dir)
    server = Server(
        name,
        [sys.executable, str(BENCH / "hubproc.py"), str(CONTEST), store, str(port)],
        port,
        out / f"{name}-{port}.log",
        env,
    )
    server.gc_log = out / f"{name}-gc.jsonl"  # type: ignore[attr-defined]
    return server


def gc_pauses(server: Server, since: float = 0.0, until: float = float("inf")) -> list[float]:
    """Full-collection pauses (ms) the hub recorded between two wall-clock times."""
    path: Path = server.gc_log  # type: ignore[attr-defined]
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r["ms"] for r in rows if since <= r["at"] <= until]


BEFORE = "5e5da16~1"  # the hub before the fan-out change, measured beside it in every run


def checkout_before(out: Path) -> tuple[Path, str] | None:
    """The hub's packages as they were at BEFORE (the UI surfaces too: the hub imports them),
    extracted with git archive; None without git."""
    dest = out / "before"
    dest.mkdir()
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", BEFORE], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
        tar = subprocess.run(
            ["git", "archive", BEFORE, "live", "judge_pad", "display", "console"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=tar, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return dest, rev


PEERS = {
    "Node ws": ["node", "bench/peers/ws_peer.mjs"],
    "Node socket.io": ["node", "bench/peers/sio_peer.mjs"],
    "python-socketio (uvicorn)": [sys.executable, "bench/peers/sio_peer.py"],
    "Starlette per-client queue": [sys.executable, "bench/peers/starlette_queue.py"],
}
PEER_KIND = {
    "Node ws": "ws",
    "Node socket.io": "sio",
    "python-socketio (uvicorn)": "sio",
    "Starlette per-client queue": "ws",
}


def start_peer(name: str, payload: Path, out: Path) -> Server:
    port = free_port()
    slug = name.split()[0].lower().replace("-", "")
    return Server(name, [*PEERS[name], str(port), str(payload)], port, out / f"peer-{slug}-{port}.log")


class Generator:
    """The Node load generator: one JSON command in, one JSON reply out."""

    def __init__(self, out: Path, name: str = "gen") -> None:
        self.err = (out / f"{name}.log").open("w")
        self.proc = subprocess.Popen(
            ["node", "--max-old-space-size=4096", "bench/gen.mjs"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
            bufsize=1,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __call__(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin
        assert self.proc.stdout
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the generator exited; see bench/out/gen.log")
        reply = json.loads(line)
        if not reply.pop("ok"):
            raise RuntimeError(f"generator {op}: {reply['error']}")
        return reply

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self("exit")
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.err.close()


class Redis:
    """A private redis-server on a free port, in its own directory, no persistence to disk
    beyond what ``appendfsync`` asks for."""

    def __init__(self, dir: Path, appendfsync: str = "everysec") -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server is not installed")
        dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.server = Server(
            "redis",
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(dir),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                appendfsync,
                "--protected-mode",
                "no",
            ],
            self.port,
            dir / "redis.log",
        )

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.server.stop()


def machine() -> dict[str, Any]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "mem_gib": round(int(mem) / 2**20, 1),
        "python": platform.python_version(),
        "node": node,
        "kernel": platform.release(),
        "redis": redis.split()[2].removeprefix("v=") if redis else "not installed",
    }


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])
