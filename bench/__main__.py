"""``python -m bench`` (run through bench/run.sh, which raises ``ulimit -n``): every scenario in
one run, then docs/benchmarks.md and its plots. ``--quick`` is a small smoke run."""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time

from bench import report, scenarios
from bench.procs import ROOT, Generator, loadavg, machine

OUT = ROOT / "bench" / "out"


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small N, for checking the harness")
    ap.add_argument(
        "--only",
        nargs="*",
        default=["s2", "s3", "s4", "s5"],
        help="scenarios to run (s2 s3 s4 s5); the report needs all of them",
    )
    ap.add_argument("--no-report", action="store_true")
    args = ap.parse_args()
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 19000:
        raise SystemExit(f"ulimit -n is {soft}: run bench/run.sh, which raises it")
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    q = args.quick
    ns = [0, 100, 300] if q else [0, 1000, 5000, 10000]
    started = time.monotonic()
    results: dict[str, object] = {
        "machine": machine(),
        "load_before": loadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "bench/run.sh" + (" --quick" if q else ""),
    }

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s load {loadavg()}] {msg}", flush=True)

    gen = Generator(OUT)  # audience sockets
    agen = Generator(OUT, "gen-actors")  # host, display, judges
    loads = []
    try:
        if "s2" in args.only:
            log("scenario 2: score-to-screen, 15 judges, 1 display, N audience (one hub, SQLite FULL)")
            results["s2"] = scenarios.score_to_screen(
                gen, agen, OUT, ns, cases=2 if q else 3, reps=3 if q else 6, log=log
            )
            loads.append(loadavg())
            payload = next(
                r["payload"]
                for row in results["s2"]["rows"]  # type: ignore[index]
                for r in row["reveals"]
                if r.get("payload")
            )
            (OUT / "payload.json").write_text(payload)
            results["payload_bytes"] = len(payload.encode())
        if "s3" in args.only:
            log("scenario 3: fan-out beside peers, same payload")
            peer_ns = [300] if q else [1000, 5000, 10000]
            results["s3_before"] = scenarios.hub_before(gen, agen, OUT, peer_ns, 3 if q else 6, log)
            results["s3"] = scenarios.peers(gen, OUT, OUT / "payload.json", peer_ns, 3 if q else 6, log)
            loads.append(loadavg())
        if "s4" in args.only:
            log("scenario 4: durable ack cost")
            results["s4"] = scenarios.durable(OUT, 1.5 if q else 4.0, log)
            results["s4_redis"] = scenarios.redis_fsync(log)
            loads.append(loadavg())
        if "s5" in args.only:
            log("scenario 5: scale-out on Redis")
            configs = [(1, 300), (2, 600)] if q else [(1, 10000), (2, 20000)]
            results["s5"] = scenarios.scale_out(gen, agen, OUT, configs, 2 if q else 3, log)
            loads.append(loadavg())
    finally:
        gen.stop()
        agen.stop()
    results["seconds"] = time.monotonic() - started
    results["loads"] = loads
    results["load_after"] = loadavg()
    (OUT / "results.json").write_text(json.dumps(results))
    log(f"done in {results['seconds']:.0f} s; raw numbers in bench/out/results.json")
    if not args.no_report:
        path = report.write(results, ROOT / "docs")
        log(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
