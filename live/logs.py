"""Logging set-up for the server, done once per process: one handler on the ``live`` logger."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "info") -> None:
    """Log ``live.*`` at ``level`` (a settings.LOG_LEVELS name) to stderr; idempotent, so a
    worker that inherits nothing and a process that calls it twice both end with one handler."""
    log = logging.getLogger("live")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        log.addHandler(handler)
    log.setLevel(level.upper())
