"""Small spreadsheet helpers shared by the importer, the xlsx export and ``live init``'s templates."""

from __future__ import annotations

from typing import Any


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_text(value: Any) -> str:
    """A cell as text: 3.0 from Excel is "3", not "3.0"; dates keep their ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: CJK characters are about two wide."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
