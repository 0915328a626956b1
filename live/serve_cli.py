"""CLI commands that need the hub: ``serve``, ``demo``, ``tokens``, ``simulate``, ``copy``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from live.contest import DEMO_PATH, Contest, load_contest
from live.store import open_store


def _store_default() -> str:
    return os.environ.get("LIVE_STORE", "sqlite:///live-final.db")


def _check_workers(store: str, workers: int) -> None:
    if workers > 1 and ("://" not in store or store.startswith(("sqlite", "memory"))):
        raise SystemExit(
            f"live serve: --workers {workers} needs a shared store: the SQLite log has one writer and "
            "each worker would keep its own view. Use --store redis://host:6379/0, "
            "or run one worker."
        )


async def _prepare(contest: Contest | None, store: str) -> None:
    """Create (or check) the final once, before the workers start and race to do it."""
    from live.hub import Hub

    hub = Hub(open_store(store), contest)
    await hub.start()
    await hub.stop()


def _run_workers(
    contest: Contest | None,
    store: str,
    host: str,
    port: int,
    allow_origin: list[str],
    workers: int,
    log_level: str,
) -> None:
    """uvicorn needs an import string to start workers: each one builds the app from env."""
    import uvicorn

    from live.app import uvicorn_options

    asyncio.run(_prepare(contest, store))
    os.environ.update(
        {"LIVE_STORE": store, "LIVE_ALLOW_ORIGIN": ",".join(allow_origin), "LIVE_LOG_LEVEL": log_level}
    )
    os.environ.pop("LIVE_CONTEST", None)  # the log holds the contest now
    uvicorn.run(
        "live.app:app_from_env",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=log_level,
        **uvicorn_options(),
    )


def run_server(
    contest: Contest | None,
    store: str,
    host: str,
    port: int,
    allow_origin: list[str],
    workers: int = 1,
    log_level: str = "info",
) -> None:
    import uvicorn

    from live.app import create_app, uvicorn_options

    _check_workers(store, workers)
    if workers > 1:
        _run_workers(contest, store, host, port, allow_origin, workers, log_level)
        return
    # Check the store against the contest here, so a mismatch is one clear line and exit 1,
    # not a traceback from inside uvicorn's lifespan (exit 3).
    asyncio.run(_prepare(contest, store))
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("live").addHandler(handler)
    logging.getLogger("live").setLevel(logging.INFO if log_level == "info" else logging.WARNING)
    app = create_app(contest, store, allow_origin)
    uvicorn.run(app, host=host, port=port, log_level=log_level, **uvicorn_options())


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
    from live.store import StoreUnavailable

    contest = load_contest(args.contest) if args.contest else None
    print(serve_banner(args.store, args.host, args.port), flush=True)
    try:
        run_server(contest, args.store, args.host, args.port, args.allow_origin, args.workers)
    except (ContestMismatch, StoreUnavailable) as exc:
        print(f"live serve: {exc}", file=sys.stderr)
        return 1
    return 0


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


async def _tokens(store_url: str, contest: Contest | None, rotate: str | None) -> dict[str, Any]:
    from live import tokens
    from live.hub import Hub

    hub = Hub(open_store(store_url), contest)
    await hub.start()
    try:
        if rotate:
            if rotate != "host" and not hub.contest.has_judge(rotate):
                raise SystemExit(f"unknown judge {rotate!r}")
            await tokens.rotate(hub.store, rotate)
        t = await hub.tokens()
        return {"host": t.host, "judges": t.judges}
    finally:
        await hub.stop()


def cmd_tokens(args: argparse.Namespace) -> int:
    contest = load_contest(args.contest) if args.contest else None
    data = asyncio.run(_tokens(args.store, contest, args.rotate))
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(f"host: {data['host']}")
        for judge, token in data["judges"].items():
            print(f"{judge}: {token}")
    return 0


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
    import threading

    contest = load_contest(args.contest or DEMO_PATH)
    store = args.store or f"sqlite:///{Path(tempfile.mkdtemp(prefix='live-demo-')) / 'demo.db'}"
    port = args.port or (8000 if _port_free(args.host, 8000) else free_port(args.host))
    tokens = asyncio.run(_tokens(store, contest, None))
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


def cmd_simulate(args: argparse.Namespace) -> int:
    from live.simulate import simulate_judges

    tokens = json.loads(Path(args.tokens).read_text()) if args.tokens else None
    return asyncio.run(simulate_judges(args.url, tokens, args.judges, seed=args.seed))


async def _copy(src_url: str, dst_url: str) -> tuple[int, str]:
    from live import chain

    src = open_store(src_url)
    await src.open()
    try:
        dump = await src.export_log()
    finally:
        await src.close()
    if not dump.events:
        raise ValueError(f"{src_url} holds no final")
    dst = open_store(dst_url)
    await dst.open()
    try:
        await dst.import_log(dump)
        epoch, events = dst.epoch, await dst.read(0)
    finally:
        await dst.close()
    head, broken = chain.check(epoch, events)
    if broken is not None or head != dump.head or len(events) != len(dump.events):
        raise ValueError(f"the copy does not verify: head {head}, expected {dump.head}")
    return len(events), head


def cmd_copy(args: argparse.Namespace) -> int:
    """Move a final between stores (a rehearsal on a laptop to the cluster, and back)."""
    from live.cli import store_url
    from live.store import StoreUnavailable
    from live.store.sqlite import SQLiteStore

    src, dst = store_url(args.src), store_url(args.dst)
    source = open_store(src)
    if isinstance(source, SQLiteStore) and not source.path.is_file():  # opening would create it
        print(f"live copy: {args.src}: no such file", file=sys.stderr)
        return 1
    try:
        count, head = asyncio.run(_copy(src, dst))
    except (ValueError, StoreUnavailable) as exc:
        print(
            f"live copy: {exc}; nothing was copied to {args.dst}"
            if "not empty" in str(exc)
            else f"live copy: {exc}",
            file=sys.stderr,
        )
        return 1
    print(f"copied {count} events from {args.src} to {args.dst}; head hash {head} (verified)")
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the hub for a final")
    p.add_argument(
        "--contest",
        default=os.environ.get("LIVE_CONTEST"),
        help="contest YAML (env LIVE_CONTEST; omit to resume the final in the store)",
    )
    p.add_argument("--store", default=_store_default(), help="sqlite:///final.db or redis://...")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        help="another Origin allowed to open /ws (repeatable; '*' for any)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="run the demo final on the embedded default and print links")
    p.add_argument("--contest", help="contest YAML (default: the built-in demo final)")
    p.add_argument("--store", help="default: a new SQLite file in a temporary folder")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument(
        "--autopilot",
        action="store_true",
        help="simulated judges score and the host steps through the whole final",
    )
    p.add_argument("--pace", type=float, default=1.5, help="seconds per autopilot step")
    p.add_argument("--allow-origin", action="append", default=[])
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("tokens", help="print the host and judge tokens of a store")
    p.add_argument("--store", default=_store_default())
    p.add_argument("--contest", help="needed only for a store that holds no final yet")
    p.add_argument("--json", action="store_true")
    p.add_argument("--rotate", metavar="WHO", help="replace the token of 'host' or a judge id")
    p.set_defaults(func=cmd_tokens)

    p = sub.add_parser("simulate", help="simulated judges scoring against a running hub")
    p.add_argument("--url", required=True, help="the hub's base URL, e.g. http://10.0.0.5:8000")
    p.add_argument("--tokens", help="JSON from `live tokens --json` (judge tokens)")
    p.add_argument("--judges", nargs="*", help="judge ids to simulate (default: all)")
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("copy", help="copy a whole final from one store to another, verified")
    p.add_argument("src", help="store URL or SQLite file holding the final")
    p.add_argument("dst", help="an empty store: URL or SQLite file")
    p.set_defaults(func=cmd_copy)

    from live.export import add_export_command
    from live.importer import add_init_command

    add_init_command(sub)
    add_export_command(sub)
