"""Command-line options made from ``live.settings``: the default (from the environment variable
when it is set) and the help come from the setting, so the CLI and docs/settings.md agree."""

from __future__ import annotations

import argparse
from typing import Any

from live.settings import Setting, shown

FROM_SETTING: Any = object()


def add_setting(
    parser: argparse.ArgumentParser,
    setting: Setting[Any],
    *,
    default: Any = FROM_SETTING,
    help: str | None = None,
) -> None:
    """Add ``setting.flag``. ``default`` and ``help`` replace the setting's own where a command
    means something else (``live demo``: a fresh store, this machine only)."""
    assert setting.flag is not None, f"{setting.name} has no command-line option"
    text = help or setting.help
    if default is FROM_SETTING:
        default = setting.value()
        text += f" ({f'env {setting.env}; ' if setting.env else ''}default {shown(setting.default)})"
    kwargs: dict[str, Any] = {"default": default, "help": text.replace("%", "%%")}
    if isinstance(setting.default, tuple):  # a list: the option is repeatable
        kwargs.update(action="append", default=list(default or ()))
    else:
        kwargs["type"] = setting.parse
    if setting.choices:
        kwargs["choices"] = setting.choices
    parser.add_argument(setting.flag, **kwargs)
