"""Event stores, chosen by URL scheme: ``sqlite:///path`` (default), ``memory://``, ``redis://``."""

from __future__ import annotations

from typing import Any

from live.store.base import Conflict, Duplicate, LogDump, NewEvent, Store, StoreUnavailable

__all__ = [
    "Conflict",
    "Duplicate",
    "LogDump",
    "NewEvent",
    "Store",
    "StoreUnavailable",
    "open_store",
    "read_log",
    "store_url",
]


def store_url(value: str) -> str:
    """Accept a store URL or a plain path to an SQLite file."""
    return value if "://" in value else f"sqlite:///{value}"


def open_store(url: str) -> Store:
    """Make (not yet open) the store a URL names; backends are imported lazily.

    A plain path (no scheme) means an SQLite file."""
    url = store_url(url)
    if url.startswith("sqlite://"):
        from live.store.sqlite import SQLiteStore

        return SQLiteStore.from_url(url)
    if url.startswith("memory://"):
        from live.store.memory import MemoryStore

        return MemoryStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from live.store.redis import RedisStore  # type: ignore[import-not-found,unused-ignore]

        return RedisStore.from_url(url)
    raise ValueError(f"unknown store URL {url!r}: use sqlite:///path.db, memory:// or redis://")


async def read_log(store: Store | str) -> tuple[str, list[dict[str, Any]]]:
    """A whole log and its epoch, for readers (verify, export): an SQLite file is opened
    read-only, so reading it never changes it."""
    if isinstance(store, str):
        store = open_store(store)
    if hasattr(store, "readonly"):
        store.readonly = True
    await store.open()
    try:
        return store.epoch, await store.read(0)
    finally:
        await store.close()
