"""``live serve``: run the hub for a final, and say where to point each screen."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

from live import settings
from live.commands._options import add_setting
from live.contest_file import load_contest


def lan_address() -> str:
    """This machine's address on the venue network (no packet is sent: a UDP connect only
    picks the outgoing interface)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.254.254.254", 1))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def serve_banner(store: str, host: str, port: int) -> str:
    """Where to point each screen; tokens are not printed (a terminal is often a log file)."""
    shown = lan_address() if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    return "\n".join(
        [
            f"live serve: store {store}",
            f"  host console : {base}/console   (host token: live tokens --store {store})",
            f"  big screen   : {base}/display",
            f"  audience     : {base}/live",
            f"  judge pads   : {base}/pad   (judge cards: print them from the console)",
        ]
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from live.hub import ContestMismatch
    from live.server import NotShared, run_server
    from live.store import StoreUnavailable, open_store

    contest = load_contest(args.contest) if args.contest else None
    try:
        open_store(args.store)  # an unknown URL is one line, before anything starts
    except ValueError as exc:
        print(f"live serve: {exc}", file=sys.stderr)
        return 1
    print(serve_banner(args.store, args.host, args.port), flush=True)
    try:
        run_server(contest, args.store, args.host, args.port, args.allow_origin, args.workers, args.log_level)
    except (ContestMismatch, StoreUnavailable, NotShared) as exc:
        print(f"live serve: {exc}", file=sys.stderr)
        return 1
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the hub for a final")
    for setting in (
        settings.CONTEST,
        settings.STORE,
        settings.HOST,
        settings.PORT,
        settings.WORKERS,
        settings.ALLOW_ORIGIN,
        settings.LOG_LEVEL,
    ):
        add_setting(p, setting)
    p.set_defaults(func=cmd_serve)
