"""Wire protocol v1 (DESIGN §5): frame kinds, close codes, error codes and frame checks.

Named constants, in the manner of ``starlette.status``, so that code and tests never spell
a bare 4401.
"""

from __future__ import annotations

import json
import math
from typing import Any

from live import settings
from live.chain import canonical

VERSION = 1
ROLES = ("judge", "host", "display", "audience")
READ_ONLY_ROLES = ("display", "audience")
MAX_FRAME = settings.MAX_FRAME.default  # limits are declared in live/settings.py
HELLO_TIMEOUT = settings.HELLO_TIMEOUT.default
MAX_ID = 64

# close codes
CLOSE_BAD_FRAME = 4400
CLOSE_BAD_TOKEN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_TOO_MANY = 4429
CLOSE_TOO_BIG = 1009
CLOSE_LAGGING = 1013  # "try again later": the client fell behind; it reconnects and resyncs
CLOSE_GOING_AWAY = 1001


class FrameError(Exception):
    """A frame the hub refuses; ``close`` says whether the connection ends, and with what."""

    def __init__(self, code: str, message: str, close: int | None = None, id_: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close = close
        self.id = id_


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def parse_frame(text: str) -> dict[str, Any]:
    """Decode a client frame: a JSON object with a string ``type``; NaN/Infinity are refused."""
    try:
        frame = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise FrameError("bad_json", "frame is not valid JSON", CLOSE_BAD_FRAME) from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise FrameError("bad_frame", "a frame is a JSON object with a string 'type'", CLOSE_BAD_FRAME)
    if "\\u" in text and _lone_surrogate(frame):
        # "\ud800" is valid JSON but not Unicode: it could be neither hashed, stored nor echoed.
        raise FrameError("bad_json", "frame holds an unpaired \\u surrogate escape", CLOSE_BAD_FRAME)
    return frame


def _lone_surrogate(frame: dict[str, Any]) -> bool:
    try:
        encode(frame).encode()
    except UnicodeEncodeError:
        return True
    except (ValueError, RecursionError):
        return False
    return False


def frame_id(frame: dict[str, Any]) -> str:
    fid = frame.get("id")
    if not isinstance(fid, str) or not 1 <= len(fid) <= MAX_ID:
        raise FrameError(
            "bad_id",
            f"'id' must be a string of 1 to {MAX_ID} characters",
            id_=fid if isinstance(fid, str | int) else None,
        )
    return fid


def since_of(frame: dict[str, Any]) -> int | None:
    since = frame.get("since")
    if since is None:
        return None
    if isinstance(since, bool) or not isinstance(since, int) or since < 0:
        raise FrameError("bad_frame", "'since' must be a seq (a whole number) or null", CLOSE_BAD_FRAME)
    return since


def body_digest(body: dict[str, Any]) -> str:
    """What the idempotency check compares: the frame without its type, canonically encoded."""
    import hashlib

    clean = {k: v for k, v in body.items() if k not in ("type",)}
    try:
        text = canonical(clean)
    except (TypeError, ValueError):
        text = repr(clean)
    return hashlib.sha256(text.encode()).hexdigest()


def has_bad_number(value: Any, depth: int = 0) -> bool:
    """True for floats that are not finite, or structures nested absurdly deep."""
    if depth > 20:
        return True
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(has_bad_number(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(has_bad_number(v, depth + 1) for v in value)
    return False


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def error_frame(code: str, message: str, id_: Any = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if id_ is not None:
        frame["id"] = id_
    return encode(frame)
