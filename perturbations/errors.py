"""Bad input for the perturbation library: one line naming the file and the field.

:class:`InputError` is the base every xrobust input error derives from (``harness.errors.XRobustError`` is
one), so a caller catches both with one ``except``; the perturbation library raises
:class:`PerturbationError` and imports nothing from ``harness``.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
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


class PerturbationError(InputError):
    """A suite, a perturbation's parameters or the examples given to it are not usable."""
