"""One error type for bad input: a single line naming the file and the field."""

from __future__ import annotations

from pathlib import Path


class XRobustError(Exception):
    """Bad input or configuration. The CLI prints ``str(err)`` on one line and exits with code 2."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | Path | None = None, field: str | None = None) -> None:
        self.file = str(file) if file is not None else None
        self.field = field
        self.message = message
        super().__init__(self._line())

    def _line(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ": ".join(where)
        text = f"{prefix}: {self.message}" if prefix else self.message
        return " ".join(text.split())  # always one line
