"""Running the app under uvicorn: one process, or several workers on one port over a shared store.

``run_server`` is what ``live serve`` and ``live demo`` call (and the benchmarks' hub process).
"""

from __future__ import annotations

import asyncio
import os

from live import settings
from live.contest import Contest
from live.logs import setup_logging
from live.store import open_store


class NotShared(Exception):
    """Several workers were asked for over a store that only one process can serve."""


def check_workers(store: str, workers: int) -> None:
    """Several workers need a store they all see (Redis); SQLite has one writer."""
    if workers > 1 and not open_store(store).shared:
        raise NotShared(
            f"--workers {workers} needs a shared store: the SQLite log has one writer and "
            "each worker would keep its own view. Use --store redis://host:6379/0, "
            "or run one worker."
        )


async def prepare(contest: Contest | None, store: str) -> None:
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

    from live.uvicorn_direct import uvicorn_options

    asyncio.run(prepare(contest, store))
    os.environ.update(
        {
            str(settings.STORE.env): store,
            str(settings.ALLOW_ORIGIN.env): ",".join(allow_origin),
            str(settings.LOG_LEVEL.env): log_level,
        }
    )
    os.environ.pop(str(settings.CONTEST.env), None)  # the log holds the contest now
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

    from live.app import create_app
    from live.uvicorn_direct import uvicorn_options

    check_workers(store, workers)
    if workers > 1:
        _run_workers(contest, store, host, port, allow_origin, workers, log_level)
        return
    # Check the store against the contest here, so a mismatch is one clear line and exit 1,
    # not a traceback from inside uvicorn's lifespan (exit 3).
    asyncio.run(prepare(contest, store))
    setup_logging(log_level)
    app = create_app(contest, store, allow_origin)
    uvicorn.run(app, host=host, port=port, log_level=log_level, **uvicorn_options())
