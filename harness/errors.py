"""One error type for bad input: a single line naming the file (and line) and the field.

:class:`XRobustError` shares its base :class:`~perturbations.errors.InputError` with the perturbation
library's errors, so the CLI reports both the same way (one line, exit code 2). A position inside a file is
always given as ``FILE:LINE`` (``line=``), never as a byte offset or inside the message.
"""

from __future__ import annotations

from pathlib import Path

from perturbations.errors import InputError


class XRobustError(InputError):
    """Bad input or configuration in the harness (task specs, data, models, runs, reports)."""

    def __init__(self, message: str, *, file: str | Path | None = None, field: str | None = None,
                 line: int | None = None) -> None:
        self.line = line
        super().__init__(message, file=located(file, line) if file is not None else None, field=field)


def located(file: str | Path, line: int | None) -> str:
    """``FILE:LINE`` (just ``FILE`` when ``line`` is None): where an error points."""
    return f"{file}:{line}" if line is not None else str(file)


def line_of(data: bytes | str, offset: int) -> int:
    """The 1-based line holding position ``offset`` of ``data`` (lines end at newline characters)."""
    return data.count(b"\n" if isinstance(data, bytes) else "\n", 0, offset) + 1


def yaml_error(err: Exception, path: str | Path) -> XRobustError:
    """A YAML error (``yaml.YAMLError``) as ``FILE:LINE: malformed YAML (column C): problem``; a tag that
    would build a Python object (``!!python/object``, refused by ``safe_load``) is named as such."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    text = str(err).strip()
    problem = getattr(err, "problem", None) or (text.splitlines()[0] if text else "invalid YAML")
    column = f" (column {mark.column + 1})" if mark else ""
    what = "malformed YAML"
    if type(err).__name__ == "ConstructorError" and "constructor for the tag" in problem:
        what, problem = "refused YAML tag", problem.split("for the tag ", 1)[1] + " (only plain YAML values are read)"
    return XRobustError(f"{what}{column}: {problem}", file=path, line=mark.line + 1 if mark else None)


__all__ = ["InputError", "XRobustError", "line_of", "located", "yaml_error"]
