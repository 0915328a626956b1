"""Host and judge tokens: made once, kept in the store, compared in constant time.

Judge tokens double as the short code a judge types (10 letters and digits without look-alikes),
so a printed card needs only one secret. Tokens are never logged.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from live import settings
from live.contest import Contest
from live.store import Store

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_judge_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def new_host_token() -> str:
    return secrets.token_urlsafe(24)


def normalize(token: object) -> str:
    """Typed codes forgive case, spaces and dashes; a URL token passes through unchanged."""
    if not isinstance(token, str):
        return ""
    return token.strip().upper().replace(" ", "").replace("-", "")


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class Tokens:
    host: str
    judges: dict[str, str]

    def judge_for(self, token: object) -> str | None:
        """The judge a token belongs to; every judge is compared, so timing tells nothing."""
        given = normalize(token)
        found = None
        for judge, expected in self.judges.items():
            if same(given, normalize(expected)) and given:
                found = judge
        return found

    def is_host(self, token: object) -> bool:
        return isinstance(token, str) and bool(token) and same(token, self.host)


async def load_tokens(store: Store, contest: Contest) -> Tokens:
    """Read the tokens, making any that are missing (first start, or a judge added later)."""

    async def get(name: str, make: Callable[[], str]) -> str:
        # Read first: making (a write) is needed once per token, not at every hello.
        return await store.secret(name) or await store.secret(name, make()) or ""

    host = settings.HOST_TOKEN.value() or await get("host", new_host_token)
    judges = {j.id: await get(f"judge:{j.id}", new_judge_code) for j in contest.judges}
    return Tokens(host, judges)


async def rotate(store: Store, name: str) -> str:
    """Replace one token (``host`` or a judge id); the old one stops working at once."""
    value = new_host_token() if name == "host" else new_judge_code()
    await store.set_secret("host" if name == "host" else f"judge:{name}", value)
    return value
