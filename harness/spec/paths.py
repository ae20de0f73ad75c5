"""Names that become paths, and paths that must stay inside their folder.

Whatever becomes part of a file path passes here first: task names, language codes, split names, condition
names and submission suffixes are single path components (:func:`safe_name`); ``include:`` targets, local data
patterns, files found in an import folder and report pages are paths that must stay inside the folder they
belong to (:func:`confined`, :func:`relative_pattern`). Both raise :class:`~harness.errors.XRobustError` naming
the file and the field, so a hostile name is refused before anything is read or written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from harness.errors import XRobustError

#: One path component: starts with a letter or digit (so never ``.``, ``..`` or a hidden file), then letters,
#: digits and ``_ . - @ ~ + =`` (condition names use ``.``, ``~v<k>``, ``@worst`` and ``@from-<name>``).
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@~+=-]*")
MAX_NAME = 160


def is_safe_name(value: object) -> bool:
    """True if ``value`` can be used as one file-name component as it is."""
    return isinstance(value, str) and len(value) <= MAX_NAME and NAME.fullmatch(value) is not None


def safe_name(value: object, *, field: str, file: str | Path | None = None, what: str = "name") -> str:
    """``value`` if it is a safe single path component, else a one-line error naming ``file`` and ``field``."""
    if not is_safe_name(value):
        raise XRobustError(f"{what} {value!r} cannot be used in a file name (letters, digits and _ . - @ ~ + =, "
                           f"starting with a letter or digit, at most {MAX_NAME} characters)", file=file, field=field)
    return value  # type: ignore[return-value]


def relative_pattern(pattern: str, *, field: str, file: str | Path | None = None) -> str:
    """A relative path (pattern) that cannot leave the folder it is joined to: no absolute path, drive or
    ``..`` component, no NUL byte."""
    posix, windows = PurePosixPath(pattern), PureWindowsPath(pattern)
    if "\0" in pattern or not pattern.strip():
        raise XRobustError(f"{pattern!r} is not a usable relative path", file=file, field=field)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or pattern.startswith(("~", "\\")):
        raise XRobustError(f"{pattern!r} must be a path relative to its folder, not an absolute one", file=file,
                           field=field)
    if ".." in posix.parts or ".." in windows.parts:
        raise XRobustError(f"{pattern!r} must not contain '..' (it would lead outside its folder)", file=file,
                           field=field)
    return pattern


def inside(root: str | Path, path: str | Path, *, follow_links: bool = False) -> bool:
    """True if ``path`` (relative paths are taken from ``root``) lies in ``root``: by its normalised path, and
    with ``follow_links`` also after resolving symbolic links."""
    root_s = os.path.normpath(os.path.abspath(root))
    full = os.path.normpath(os.path.abspath(os.path.join(root, path)))
    if full != root_s and not full.startswith(root_s.rstrip(os.sep) + os.sep):
        return False
    if follow_links:
        real_root, real = Path(root_s).resolve(), Path(full).resolve()
        return real == real_root or real.is_relative_to(real_root)
    return True


def confined(root: str | Path, rel: str | Path, *, field: str, file: str | Path | None = None,
             follow_links: bool = False) -> Path:
    """``root / rel``, refused with a one-line error if ``rel`` leads outside ``root`` (an absolute ``rel`` must
    lie inside it; ``follow_links``: symbolic links are resolved before the check, for folders whose content is
    not ours)."""
    text = str(rel)
    if "\0" in text or not inside(root, text, follow_links=follow_links):
        raise XRobustError(f"{text!r} leads outside {root}", file=file, field=field)
    return Path(root) / rel
