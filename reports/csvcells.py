"""Spreadsheet-safe CSV cells: text that a spreadsheet would run as a formula is written as text.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula (or a DDE
call) by Excel, LibreOffice and Google Sheets; submission, model, task and condition names come from users, so
such a cell gets a leading apostrophe, which spreadsheets show as a text marker (OWASP, "CSV Injection").
Numbers are left as numbers: only strings are changed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is a string a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are spreadsheet-safe."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):  # object or string columns
            out[column] = out[column].map(safe_cell)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """The CSV text of ``frame`` with spreadsheet-safe cells."""
    return safe_frame(frame).to_csv(index=False)
