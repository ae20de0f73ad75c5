"""One error type for bad input: a single line naming the file and the field.

:class:`XRobustError` shares its base :class:`~perturbations.errors.InputError` with the perturbation
library's errors, so the CLI reports both the same way (one line, exit code 2).
"""

from __future__ import annotations

from perturbations.errors import InputError


class XRobustError(InputError):
    """Bad input or configuration in the harness (task specs, data, models, runs, reports)."""


__all__ = ["InputError", "XRobustError"]
