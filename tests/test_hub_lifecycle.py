"""The hub across its life: SIGKILL mid-scoring and restart on the same store (no acked score lost
or doubled, `since` resync), refusing a different contest, resuming without one, and tokens.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer, live_cmd
from hub_helpers import get_json, head_seq, live_verify, read_log
from websockets.exceptions import ConnectionClosed

from live.client import HubClient, Refused
from live.contest_file import DEMO_PATH

INNOVATION = ("20", "21.5", "23", "24.5", "26", "27")


def entry(n: int) -> dict[str, str]:
    return {
        "innovation": INNOVATION[n % len(INNOVATION)],
        "impact": "22",
        "value": "15",
        "delivery": str(10 + n % 10),
    }


class Judge:
    """A judge that scores over and over; remembers what was acked and what was in flight."""

    def __init__(
        self, srv: LiveServer, judge: str, token: str, enough: asyncio.Event, tally: list[int]
    ) -> None:
        self.srv, self.id, self.token = srv, judge, token
        self.enough, self.tally = enough, tally
        self.acked: dict[str, int] = {}
        self.sent: list[tuple[str, dict[str, str]]] = []
        self.pending: tuple[str, dict[str, str]] | None = None

    async def run(self) -> None:
        client = await HubClient(self.srv.base, "judge", self.token).connect()
        try:
            n = 0
            while True:
                fid, body = f"{self.id}-{n}", entry(n + int(self.id[1:]))
                self.pending = (fid, body)
                self.sent.append((fid, body))
                ack = await client.score("a1", body, id=fid)
                self.acked[fid] = ack["seq"]
                self.pending = None
                self.tally[0] += 1
                if self.tally[0] >= 30:
                    self.enough.set()
                n += 1
                await asyncio.sleep(0.06)  # under the per-connection rate limit
        except (ConnectionError, ConnectionClosed, OSError, TimeoutError, Refused):
            return
        finally:
            await client.close()


async def test_sigkill_mid_scoring_keeps_every_acked_score_once(tmp_path: Path) -> None:
    srv = LiveServer(f"sqlite:///{tmp_path / 'final.db'}").start()
    try:
        toks = srv.tokens()
        async with HubClient(srv.base, "host", toks["host"]) as host:
            await host.command("stage", case="a1")
            await host.command("open")
        display = await HubClient(srv.base, "display").connect()
        epoch = display.epoch
        enough, tally = asyncio.Event(), [0]
        judges = [Judge(srv, j, t, enough, tally) for j, t in toks["judges"].items()]
        tasks = [asyncio.create_task(j.run()) for j in judges]
        await asyncio.wait_for(enough.wait(), 30)
        await asyncio.to_thread(srv.kill)  # SIGKILL while every judge has a score in flight
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        last_seen = display.seq
        await display.close()
        acked = {fid: (j.id, seq) for j in judges for fid, seq in j.acked.items()}
        assert len(acked) >= 30

        await asyncio.to_thread(srv.start)
        log = await read_log(srv.store)
        by_id: dict[str, list[dict[str, Any]]] = {}
        for ev in log:
            if ev["cid"]:
                by_id.setdefault(ev["cid"], []).append(ev)
        for fid, (judge, seq) in acked.items():
            assert [(e["actor"], e["seq"], e["type"]) for e in by_id.get(fid, [])] == [
                (judge, seq, "scored")
            ], fid
        # the score each judge had in flight is sent again with its id: it counts once
        async with HubClient(srv.base, "host", toks["host"]) as host:
            for j in judges:
                assert j.pending is not None
                fid, body = j.pending
                async with HubClient(srv.base, "judge", j.token) as again:
                    ack = await again.score("a1", body, id=fid)
                    assert await again.score("a1", body, id=fid) == ack
            log = await read_log(srv.store)
            await host.wait_seq(len(log))
            assert host.seq == len(log)
            for j in judges:
                assert sum(e["cid"] == j.pending[0] for e in log) == 1  # type: ignore[index]
                latest = host.state["scores"]["entries"][j.id]["values"]
                assert latest == j.sent[-1][1]
            scored = [e for e in log if e["type"] == "scored"]
            assert len(scored) == len({e["cid"] for e in scored})
            assert len(scored) == len(acked) + 5  # the acked ones, and each judge's resent one

            # a display that was connected before the crash resyncs with since
            back = await HubClient(srv.base, "display").connect(since=last_seen)
            try:
                assert back.welcome["epoch"] == epoch
                assert back.welcome["since"] == last_seen
                assert back.seq == back.welcome["seq"] == len(log)
                view = await asyncio.to_thread(get_json, f"{srv.base}/api/view/display")
                assert view["seq"] == back.seq
                assert view["state"] == back.state
                assert back.state["progress"]["submitted"] == sorted(host.state["scores"]["entries"])
                assert back.state["progress"]["status"] == "scoring"
            finally:
                await back.close()
            await host.command("close")
            await host.command("reveal")
        out = await asyncio.to_thread(live_verify, srv.store)
        assert out.returncode == 0, out.stderr
        assert f"verified {len(log) + 2} events" in out.stdout
    finally:
        srv.stop()


async def test_restart_refuses_another_contest_and_resumes_without_one(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'final.db'}"
    srv = LiveServer(store).start()
    try:
        toks = srv.tokens()
        async with HubClient(srv.base, "host", toks["host"]) as host:
            await host.command("stage", case="a2")
            seq, epoch = host.seq, host.epoch
    finally:
        srv.stop()

    other = LiveServer(store, contest=DEMO_PATH, port=srv.port)
    with pytest.raises(RuntimeError) as info:
        other.start()
    assert other.proc is not None
    assert other.proc.wait(10) == 1
    other.stop()
    assert "live serve: this store holds a different final than the contest file given" in str(info.value)
    assert "Traceback" not in other.log_text()

    resumed = LiveServer(store, contest=None).start()
    try:
        assert await asyncio.to_thread(head_seq, resumed) == seq
        async with HubClient(resumed.base, "display") as display:
            assert display.epoch == epoch
            assert display.state["contest"]["title"] == "测试决赛"
            assert display.state["stage"]["case"] == "a2"
        assert resumed.tokens() == toks  # the same tokens: printed login cards stay valid
    finally:
        resumed.stop()


async def test_tokens_json_env_host_token_and_no_token_in_the_log(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'final.db'}"
    out = await asyncio.to_thread(
        subprocess.run,
        live_cmd(
            "tokens",
            "--json",
            "--store",
            store,
            "--contest",
            str(Path(__file__).with_name("data") / "mini.yaml"),
        ),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if k != "LIVE_HOST_TOKEN"},
    )
    stored = json.loads(out.stdout)
    assert set(stored) == {"host", "judges"}
    assert set(stored["judges"]) == {"j1", "j2", "j3", "j4", "j5"}
    assert len(stored["host"]) >= 24
    for code in stored["judges"].values():
        assert len(code) == 11
        assert code[5] == "-"
    assert len(set(stored["judges"].values())) == 5

    env_token = "venue-host-token-7f3a9c"
    srv = LiveServer(store, env={"LIVE_HOST_TOKEN": env_token}).start()
    try:
        toks = srv.tokens()
        assert toks == {"host": env_token, "judges": stored["judges"]}
        async with HubClient(srv.base, "host", env_token) as host:
            await host.command("stage", case="a1")
        with pytest.raises(Refused) as info:
            await HubClient(srv.base, "host", stored["host"]).connect()
        assert info.value.code == "bad_token"
        for judge, token in toks["judges"].items():
            async with HubClient(srv.base, "judge", token) as c:
                assert c.welcome["judge"]["id"] == judge
        with pytest.raises(Refused):
            await HubClient(srv.base, "judge", "ZZZZZ-ZZZZZ").connect()
        await asyncio.sleep(0.3)
    finally:
        srv.stop()
    text = srv.log_text()
    assert "hello from" in text  # the log does say who came in
    for secret in [env_token, stored["host"], *stored["judges"].values()]:
        assert secret not in text
        assert secret.replace("-", "") not in text
