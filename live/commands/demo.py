"""``live demo``: the demo final on a fresh SQLite file, with every link printed (and an autopilot)."""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from live import settings
from live.commands._options import add_setting
from live.commands.tokens import read_tokens
from live.contest_file import DEMO_PATH, load_contest


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def links(base: str, host_token: str, judges: dict[str, str]) -> list[str]:
    lines = [
        f"  host console : {base}/console   (host token: {host_token})",
        f"  big screen   : {base}/display",
        f"  audience     : {base}/live",
    ]
    for judge, token in judges.items():
        lines.append(f"  judge {judge:<6}: {base}/pad#t={token}")
    return lines


def cmd_demo(args: argparse.Namespace) -> int:
    from live.server import run_server

    contest = load_contest(args.contest or DEMO_PATH)
    store = args.store or f"sqlite:///{Path(tempfile.mkdtemp(prefix='live-demo-')) / 'demo.db'}"
    default_port = settings.PORT.default
    port = args.port or (default_port if _port_free(args.host, default_port) else free_port(args.host))
    tokens = asyncio.run(read_tokens(store, contest))
    base = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{port}"
    print(f"live demo: {contest.title}\n  store: {store}")
    print("\n".join(links(base, tokens["host"], tokens["judges"])))
    if args.autopilot:
        from live.simulate import autopilot

        def pilot() -> None:
            asyncio.run(autopilot(base, tokens, pace=args.pace, wait_ready=True))

        threading.Thread(target=pilot, daemon=True).start()
        print(f"  autopilot: playing the whole final at pace {args.pace} s per step")
    sys.stdout.flush()
    run_server(contest, store, args.host, port, args.allow_origin, log_level="warning")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the demo final on the embedded default and print links")
    add_setting(p, settings.CONTEST, default=None, help="contest YAML (default: the built-in demo final)")
    add_setting(p, settings.STORE, default=None, help="default: a new SQLite file in a temporary folder")
    add_setting(
        p, settings.HOST, default="127.0.0.1", help="address to listen on (default: this machine only)"
    )
    add_setting(
        p,
        settings.PORT,
        default=0,
        help=f"TCP port (default: {settings.PORT.default} when free, else any free port)",
    )
    p.add_argument(
        "--autopilot",
        action="store_true",
        help="simulated judges score and the host steps through the whole final",
    )
    p.add_argument("--pace", type=float, default=1.5, help="seconds per autopilot step")
    add_setting(p, settings.ALLOW_ORIGIN, default=[])
    p.set_defaults(func=cmd_demo)
