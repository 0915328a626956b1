"""``live simulate``: simulated judges scoring against a running hub (rehearsals, load)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any


def cmd_simulate(args: argparse.Namespace) -> int:
    from live.simulate import simulate_judges

    tokens = json.loads(Path(args.tokens).read_text()) if args.tokens else None
    return asyncio.run(simulate_judges(args.url, tokens, args.judges, seed=args.seed))


def register(sub: Any) -> None:
    p = sub.add_parser("simulate", help="simulated judges scoring against a running hub")
    p.add_argument("--url", required=True, help="the hub's base URL, e.g. http://10.0.0.5:8000")
    p.add_argument("--tokens", help="JSON from `live tokens --json` (judge tokens)")
    p.add_argument("--judges", nargs="*", help="judge ids to simulate (default: all)")
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=cmd_simulate)
