"""`live demo --autopilot` plays the whole 45-case demo final to its awards on its own, and the
log it leaves passes `live verify`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from conftest import free_port, live_cmd
from hub_helpers import live_verify


def view(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/view/display", timeout=2) as r:
            return json.load(r)
    except OSError:
        return None


def test_demo_autopilot_plays_the_whole_final(tmp_path: Path) -> None:
    port, store = free_port(), f"sqlite:///{tmp_path / 'demo.db'}"
    log = (tmp_path / "demo.log").open("wb")
    proc = subprocess.Popen(
        live_cmd("demo", "--autopilot", "--pace", "0.05", "--port", str(port), "--store", store),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    began = time.monotonic()
    last = None
    try:
        while time.monotonic() - began < 180:
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            last = view(port)
            if last and all(g["shown"] == g["steps"] for g in last["state"]["awards"]["groups"].values()):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"the autopilot did not finish: {json.dumps(last)[:2000]}")
        took = time.monotonic() - began
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
    state = last["state"]
    assert state["run"]["finished"] is True
    assert len(state["run"]["order"]) == 45
    assert all(s == "revealed" for s in state["run"]["status"].values())
    for g in state["contest"]["groups"]:
        board = state[f"board/{g['key']}"]
        assert len(board["rows"]) == 15
        assert [r["prize"] for r in board["rows"]] == ["一等奖"] * 5 + ["二等奖"] * 5 + ["三等奖"] * 5
        assert not any(r["boundary_tie"] for r in board["rows"])
    printed = (tmp_path / "demo.log").read_text()
    assert f"http://127.0.0.1:{port}/console" in printed
    assert f"http://127.0.0.1:{port}/pad#t=" in printed
    assert "Traceback" not in printed
    assert "refused" not in printed  # simulated judges report refusals other than a closed case
    out = live_verify(store)
    assert out.returncode == 0, out.stderr
    assert "verified" in out.stdout
    print(f"\nautopilot final of 45 cases to its awards in {took:.1f} s at pace 0.05")
