"""The store contract: an append-only, hash-chained event log with an expected-seq append,
idempotency keys committed with their events, and a small secret table for tokens."""

from __future__ import annotations

import asyncio
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from live import chain


class Conflict(Exception):
    """Another writer appended first: re-read, decide again, retry."""

    def __init__(self, head: int) -> None:
        super().__init__(f"log head is {head}")
        self.head = head


class Duplicate(Exception):
    """The idempotency key was committed before, with ``digest``, acked at ``seq``."""

    def __init__(self, seq: int, digest: str) -> None:
        super().__init__(f"already committed at {seq}")
        self.seq = seq
        self.digest = digest


class StoreUnavailable(Exception):
    """The backend cannot be reached; nothing was written."""


@dataclass(frozen=True)
class NewEvent:
    type: str
    data: dict[str, Any]
    actor: str
    at: int = field(default_factory=lambda: int(time.time() * 1000))
    cid: str | None = None


def chain_events(epoch_prev: str, start_seq: int, events: Sequence[NewEvent]) -> list[dict[str, Any]]:
    """Give new events their seq, prev and hash, continuing from ``epoch_prev``."""
    out: list[dict[str, Any]] = []
    prev = epoch_prev
    for i, ev in enumerate(events):
        row: dict[str, Any] = {
            "seq": start_seq + i,
            "type": ev.type,
            "data": ev.data,
            "actor": ev.actor,
            "at": ev.at,
            "cid": ev.cid,
            "prev": prev,
        }
        row["hash"] = chain.link(prev, row)
        prev = row["hash"]
        out.append(row)
    return out


def new_epoch() -> str:
    return secrets.token_hex(8)


@dataclass
class LogDump:
    """A whole log as stored, for moving a final between stores (``live copy``): events keep
    their seq, time, actor, cid and hashes, and the epoch stays, so the head hash is the same."""

    epoch: str
    events: list[dict[str, Any]]
    ids: dict[str, tuple[int, str]]  # idempotency key -> (seq, digest)
    secrets: dict[str, str]

    @property
    def head(self) -> str:
        return self.events[-1]["hash"] if self.events else chain.genesis(self.epoch)

    def check(self) -> None:
        """Refuse to import a log whose chain is broken (the copy would hide the break)."""
        _, broken = chain.check(self.epoch, self.events)
        if broken is not None:
            raise ValueError(f"the source log is broken at event {broken.seq}: {broken.reason}")


class Store(ABC):
    """An event log. Implementations must pass tests/test_store_contract.py."""

    epoch: str
    poll_interval = 0.2
    # Whether several processes can serve one final from this store at once (Redis), or the log
    # has one writer and each process would keep its own view (SQLite, memory).
    shared: ClassVar[bool] = False

    def missing(self) -> bool:
        """True when there is no log here and opening would create one (an absent SQLite file):
        readers such as ``live verify`` and ``live export`` must not create it."""
        return False

    @abstractmethod
    async def open(self) -> None:
        """Connect, creating the log (and its epoch) when it does not exist."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def head(self) -> tuple[int, str]:
        """The last seq (0 when empty) and its hash (the genesis hash when empty)."""

    @abstractmethod
    async def append(
        self, expected_seq: int, events: Sequence[NewEvent], idem: tuple[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Durably append after ``expected_seq``; raise Conflict if the head moved.

        ``idem`` is (key, digest): committed atomically with the events; if the key exists
        already, nothing is written and Duplicate is raised.
        """

    @abstractmethod
    async def read(self, since: int = 0) -> list[dict[str, Any]]:
        """Every event with seq > since, in order."""

    @abstractmethod
    async def lookup(self, key: str) -> tuple[int, str] | None:
        """(seq, digest) of an idempotency key, or None."""

    @abstractmethod
    async def secret(self, name: str, make: str | None = None) -> str | None:
        """Read a stored secret; when absent and ``make`` is given, store it atomically.

        Returns the value that is stored (the first writer wins)."""

    @abstractmethod
    async def set_secret(self, name: str, value: str) -> None: ...

    async def export_log(self) -> LogDump:
        """The whole log: epoch, events as stored, idempotency keys and secrets."""
        raise NotImplementedError(f"{type(self).__name__} cannot export a log")

    async def import_log(self, dump: LogDump) -> None:
        """Load a whole log into this empty store, keeping its epoch and hashes.

        Raises ValueError when the store already holds events or the dump's chain is broken."""
        raise NotImplementedError(f"{type(self).__name__} cannot import a log")

    async def follow(self, since: int) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield batches of new events after ``since``, forever (polling by default)."""
        while True:
            batch = await self.read(since)
            if batch:
                since = batch[-1]["seq"]
                yield batch
            else:
                await asyncio.sleep(self.poll_interval)
