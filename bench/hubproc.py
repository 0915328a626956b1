"""Runs one hub the way ``live serve`` does (``run_server``), and records every full (gen 2)
garbage collection's pause to the JSON-lines file named by LIVE_BENCH_GC: with 10,000
connections those pauses are long enough to matter."""

import gc
import json
import os
import sys
import time

from live.contest_file import load_contest
from live.server import run_server

_log = open(os.environ["LIVE_BENCH_GC"], "a", buffering=1)  # noqa: SIM115 - open for the process's life
_start = [0.0]


def _watch(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _start[0] = time.perf_counter()
    elif info["generation"] == 2:
        pause = (time.perf_counter() - _start[0]) * 1000
        _log.write(json.dumps({"at": time.time(), "ms": pause, "collected": info["collected"]}) + "\n")


gc.callbacks.append(_watch)
run_server(load_contest(sys.argv[1]), sys.argv[2], "127.0.0.1", int(sys.argv[3]), [], log_level="warning")
