"""The hash chain of the event log: canonical encoding and the link from one event to the next.

Each stored event carries ``prev`` (the hash of the event before it, or of the epoch for the
first) and ``hash``; any edit, deletion or reordering breaks a link that ``verify`` finds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Fields that the hash covers, in this order; `prev` and `hash` are the chain itself.
HASHED = ("seq", "type", "data", "actor", "at", "cid")


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def genesis(epoch: str) -> str:
    return hashlib.sha256(f"live-final:{epoch}".encode()).hexdigest()


def link(prev: str, event: Mapping[str, Any]) -> str:
    body = canonical({k: event.get(k) for k in HASHED})
    return hashlib.sha256((prev + "\n" + body).encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    seq: int  # the stored position where the chain breaks
    reason: str


def check(epoch: str, events: Iterable[Mapping[str, Any]]) -> tuple[str, Break | None]:
    """Walk the chain; return the head hash, and the first break if there is one."""
    prev = genesis(epoch)
    expected_seq = 1
    for event in events:
        seq = event.get("seq")
        if seq != expected_seq:
            return prev, Break(
                expected_seq, f"expected event {expected_seq}, found {seq} (an event was deleted or moved)"
            )
        if event.get("prev") != prev:
            return prev, Break(
                seq, "its link to the event before is wrong (an event before it was deleted, moved or edited)"
            )
        if link(prev, event) != event.get("hash"):
            return prev, Break(seq, "its content does not match its hash (it was edited)")
        prev = event["hash"]
        expected_seq += 1
    return prev, None
