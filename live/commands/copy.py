"""``live copy SRC DST``: move a whole final between stores (a rehearsal on a laptop to the
cluster, and back), verified by its head hash."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from live import chain
from live.store import StoreUnavailable, open_store, store_url


async def copy_log(src_url: str, dst_url: str) -> tuple[int, str]:
    """Copy the log; (events copied, head hash), after checking the copy's chain and head."""
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
    src, dst = store_url(args.src), store_url(args.dst)
    if open_store(src).missing():  # opening would create it
        print(f"live copy: {args.src}: no such file", file=sys.stderr)
        return 1
    try:
        count, head = asyncio.run(copy_log(src, dst))
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


def register(sub: Any) -> None:
    p = sub.add_parser("copy", help="copy a whole final from one store to another, verified")
    p.add_argument("src", help="store URL or SQLite file holding the final")
    p.add_argument("dst", help="an empty store: URL or SQLite file")
    p.set_defaults(func=cmd_copy)
