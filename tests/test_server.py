"""Running the server: several workers only over a shared store (asked of the store, not read
from its URL), and logging set up once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from live.logs import setup_logging
from live.server import NotShared, check_workers
from live.store import open_store


@pytest.mark.parametrize(
    ("url", "shared"),
    [("sqlite:///f.db", False), ("f.db", False), ("memory://", False), ("redis://127.0.0.1:6379/0", True)],
)
def test_the_store_says_whether_processes_can_share_it(url: str, shared: bool) -> None:
    assert open_store(url).shared is shared  # making a store connects to nothing


def test_several_workers_need_a_shared_store(tmp_path: Path) -> None:
    check_workers(str(tmp_path / "final.db"), 1)
    check_workers("redis://127.0.0.1:6379/0", 4)
    with pytest.raises(NotShared, match="--workers 2 needs a shared store"):
        check_workers(str(tmp_path / "final.db"), 2)
    with pytest.raises(NotShared):
        check_workers("memory://", 2)
    assert not (tmp_path / "final.db").exists()


def test_a_missing_sqlite_file_is_missing_and_not_created(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "absent.db"))
    assert store.missing()
    assert not (tmp_path / "absent.db").exists()
    assert not open_store("memory://").missing()


@pytest.fixture
def live_logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("live")
    saved = (log.handlers[:], log.level)
    log.handlers.clear()
    yield log
    log.handlers[:], log.level = saved[0], saved[1]


def test_logging_is_set_up_once(live_logger: logging.Logger) -> None:
    setup_logging("info")
    setup_logging("warning")
    assert len(live_logger.handlers) == 1
    assert live_logger.level == logging.WARNING
