"""The hub runs its full garbage collection just after a case goes on stage (while the presenter
walks on), not at a moment Python picks, which could fall in the middle of scoring."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from conftest import MINI

from live.contest_file import load_contest
from live.hub import STAGE_GC_DELAY, Hub
from live.store.memory import MemoryStore


async def test_a_full_collection_follows_staging() -> None:
    hub = Hub(MemoryStore(), load_contest(MINI))
    await hub.start()
    full: list[float] = []
    loop = asyncio.get_running_loop()

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(loop.time())

    gc.callbacks.append(watch)
    try:
        staged_at = loop.time()
        outcome = await hub.submit("host", "next", {}, "n1", "d2")
        assert outcome.code == "ack"
        await asyncio.sleep(STAGE_GC_DELAY + 1.0)
        assert any(t >= staged_at + STAGE_GC_DELAY * 0.9 for t in full)
    finally:
        gc.callbacks.remove(watch)
        await hub.stop()
