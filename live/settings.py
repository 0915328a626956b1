"""Every server setting, declared once as data: name, default, environment variable, CLI flag, help.

The ``live serve``/``live demo`` options take their defaults and help from here, docs/settings.md
holds the table ``python -m live.settings`` prints (a test keeps the two equal), and the limits
and timeouts are read from here by the hub, the app and the protocol.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting. ``env`` and ``flag`` are None for a built-in limit (changed in code only)."""

    name: str
    default: T
    parse: Callable[[str], T]
    help: str
    env: str | None = None
    flag: str | None = None  # the ``live serve`` option
    choices: tuple[str, ...] = field(default=())

    def value(self, environ: Mapping[str, str] | None = None) -> T:
        """The value from the environment variable when it is set (and not empty), else the default."""
        if self.env is None:
            return self.default
        raw = (os.environ if environ is None else environ).get(self.env, "")
        if not raw:
            return self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise ValueError(f"{self.env}={raw!r}: {exc}") from None


def _level(text: str) -> str:
    level = text.strip().lower()
    if level not in LOG_LEVELS:
        raise ValueError(f"not a log level (use one of {', '.join(LOG_LEVELS)})")
    return level


def _origins(text: str) -> tuple[str, ...]:
    return tuple(o.strip() for o in text.split(",") if o.strip())


def _optional(text: str) -> str | None:
    return text


STORE: Setting[str] = Setting(
    "store",
    "sqlite:///live-final.db",
    str,
    "where the final's event log is kept: sqlite:///final.db (or a plain path), redis://host:6379/0, "
    "memory://",
    env="LIVE_STORE",
    flag="--store",
)
CONTEST: Setting[str | None] = Setting(
    "contest",
    None,
    _optional,
    "contest YAML for the first start on an empty store; omit to resume the final in the store",
    env="LIVE_CONTEST",
    flag="--contest",
)
HOST: Setting[str] = Setting("host", "0.0.0.0", str, "address to listen on", flag="--host")
PORT: Setting[int] = Setting("port", 8000, int, "TCP port to listen on", env="PORT", flag="--port")
WORKERS: Setting[int] = Setting(
    "workers",
    1,
    int,
    "uvicorn worker processes on the one port; more than one needs a shared store (Redis)",
    flag="--workers",
)
ALLOW_ORIGIN: Setting[tuple[str, ...]] = Setting(
    "allow_origin",
    (),
    _origins,
    "another Origin allowed to open /ws (the flag is repeatable, the variable comma-separated; '*' for any)",
    env="LIVE_ALLOW_ORIGIN",
    flag="--allow-origin",
)
LOG_LEVEL: Setting[str] = Setting(
    "log_level",
    "info",
    _level,
    f"log level of the hub and uvicorn ({', '.join(LOG_LEVELS)})",
    env="LIVE_LOG_LEVEL",
    flag="--log-level",
    choices=LOG_LEVELS,
)
HOST_TOKEN: Setting[str | None] = Setting(
    "host_token",
    None,
    _optional,
    "the host's token; unset: generated once and kept in the store. Set the same one on every "
    "process of a scaled-out final, or none",
    env="LIVE_HOST_TOKEN",
)
# Built-in limits and timeouts (changed in code only): documented here so they are in one place.
RATE: Setting[float] = Setting(
    "rate", 20.0, float, "frames per second a judge or screen may sustain (token bucket refill)"
)
BURST: Setting[float] = Setting("burst", 60.0, float, "frames a judge or screen may send in one burst")
HOST_RATE: Setting[float] = Setting("host_rate", 100.0, float, "frames per second the host may sustain")
HOST_BURST: Setting[float] = Setting("host_burst", 200.0, float, "frames the host may send in one burst")
QUEUE_LIMIT: Setting[int] = Setting(
    "queue_limit", 256, int, "frames a client may fall behind before it is dropped to resync"
)
WRITE_CAP: Setting[int] = Setting(
    "write_cap",
    512 * 1024,
    int,
    "bytes buffered for a client written to directly before it is dropped to resync",
)
MAX_FRAME: Setting[int] = Setting("max_frame", 64 * 1024, int, "largest WebSocket frame accepted, in bytes")
HELLO_TIMEOUT: Setting[float] = Setting(
    "hello_timeout", 5.0, float, "seconds a new connection has to send its hello"
)
WS_PING_INTERVAL: Setting[float] = Setting(
    "ws_ping_interval", 20.0, float, "seconds between the server's WebSocket pings"
)
WS_PING_TIMEOUT: Setting[float] = Setting(
    "ws_ping_timeout", 20.0, float, "seconds to wait for a pong before the connection is closed"
)
FANOUT_CHUNK: Setting[int] = Setting(
    "fanout_chunk", 64, int, "audience writes per event-loop turn (judges' frames are served in between)"
)
STAGE_GC_DELAY: Setting[float] = Setting(
    "stage_gc_delay",
    1.0,
    float,
    "seconds after a case goes on stage before a full garbage collection (screens are served first)",
)
ACTIONS_DELAY: Setting[float] = Setting(
    "actions_delay",
    0.01,
    float,
    "seconds after an event before the host's action checks are recomputed and sent (off the judges' "
    "ack path; events within it share one recomputation)",
)

SETTINGS: tuple[Setting[Any], ...] = (
    STORE,
    CONTEST,
    HOST,
    PORT,
    WORKERS,
    ALLOW_ORIGIN,
    LOG_LEVEL,
    HOST_TOKEN,
    RATE,
    BURST,
    HOST_RATE,
    HOST_BURST,
    QUEUE_LIMIT,
    WRITE_CAP,
    MAX_FRAME,
    HELLO_TIMEOUT,
    WS_PING_INTERVAL,
    WS_PING_TIMEOUT,
    FANOUT_CHUNK,
    STAGE_GC_DELAY,
    ACTIONS_DELAY,
)


def shown(value: Any) -> str:
    """A default as the docs and the CLI help show it."""
    if value is None or value == ():
        return "(none)"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1024 and value % 1024 == 0:
        return f"{value} ({value // 1024} KiB)"
    return str(value)


def markdown_table() -> str:
    """The table docs/settings.md holds, one row per setting."""
    rows = [
        "| setting | `live serve` option | environment variable | default | what it is |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        flag = f"`{s.flag}`" if s.flag else "—"
        env = f"`{s.env}`" if s.env else "—"
        default = "—" if s.default in (None, ()) else f"`{shown(s.default)}`"
        rows.append(f"| `{s.name}` | {flag} | {env} | {default} | {s.help} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
