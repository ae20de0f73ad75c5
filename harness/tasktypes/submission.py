"""Reading XTREME leaderboard prediction files (google-research/xtreme README "Submissions", ``evaluate.py``):
the line and sentence readers and the checks the task types' submission readers share.

Files are UTF-8 (a BOM is dropped); lines are stripped, as XTREME's readers do. Every error names the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.errors import XRobustError, line_of


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as err:
        raise XRobustError(f"cannot read predictions ({err.strerror})", file=path) from None
    except UnicodeDecodeError as err:
        raise XRobustError(f"not UTF-8 text (byte 0x{err.object[err.start]:02x})", file=path,
                           line=line_of(err.object, err.start), field="line") from None


def read_lines(path: Path) -> list[str]:
    """Stripped lines, trailing blank lines dropped."""
    lines = [line.strip() for line in read_text(path).split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def read_sentences(path: Path) -> list[tuple[int, list[str]]]:
    """(1-based line of the first tag, tags) per blank-line separated sentence; ``word<TAB>tag`` → tag."""
    sentences: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for lineno, line in enumerate(read_lines(path), 1):
        if not line:
            if current:
                sentences.append((start, current))
            current = []
            continue
        if not current:
            start = lineno
        current.append(line.rsplit("\t", 1)[-1].strip())
    if current:
        sentences.append((start, current))
    return sentences


def check_count(path: Path, n_pred: int, examples: list[dict], unit: Any, what: str) -> None:
    """One prediction per gold example of ``unit`` (task, lang, split)."""
    if n_pred != len(examples):
        raise XRobustError(f"{n_pred} {what} but the gold {unit.task}/{unit.lang} {unit.split} data has "
                           f"{len(examples)} (one per example, in test-set order)", file=path, field=what)


def label_of(lookup: dict[str, str], raw: str, labels: tuple[str, ...], path: Path, line: int) -> str:
    """The label name ``raw`` on ``line`` of ``path`` stands for (name, alias or 0-based index)."""
    name = lookup.get(raw.casefold())
    if name is None:
        shown = ", ".join(labels) if len(labels) <= 20 else f"{len(labels)} labels"
        raise XRobustError(f"line {line}: label {raw!r} is not one of {shown} (or a 0-based label index)",
                           file=path, field="label")
    return name


def index_of(raw: str, size: int, path: Path, lineno: int, what: str) -> int:
    """A 0-based index below ``size``."""
    if not re.fullmatch(r"[0-9]+", raw) or int(raw) >= size:
        raise XRobustError(f"line {lineno}: {raw!r} is not a {what} (0..{size - 1})", file=path, field=what)
    return int(raw)
