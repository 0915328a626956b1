"""``live tokens``: print (or rotate) the host and judge tokens a store holds."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from live import settings
from live.contest import Contest
from live.contest_file import load_contest
from live.store import open_store


async def read_tokens(store_url: str, contest: Contest | None, rotate: str | None = None) -> dict[str, Any]:
    """The tokens as ``{"host": ..., "judges": {id: code}}``, creating the final if need be."""
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
    data = asyncio.run(read_tokens(args.store, contest, args.rotate))
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(f"host: {data['host']}")
        for judge, token in data["judges"].items():
            print(f"{judge}: {token}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("tokens", help="print the host and judge tokens of a store")
    p.add_argument("--store", default=settings.STORE.value(), help=settings.STORE.help)
    p.add_argument("--contest", help="needed only for a store that holds no final yet")
    p.add_argument("--json", action="store_true")
    p.add_argument("--rotate", metavar="WHO", help="replace the token of 'host' or a judge id")
    p.set_defaults(func=cmd_tokens)
