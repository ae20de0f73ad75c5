"""Submission files (import) that are not UTF-8 are named with the line of the bad byte, not its offset."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import XRobustError
from harness.tasktypes.submission import read_lines


def test_non_utf8_submission_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "test-de.tsv"
    path.write_bytes(b"\xef\xbb\xbfentailment\nneutral\ncontra\xe9diction\nneutral\n")
    with pytest.raises(XRobustError) as info:
        read_lines(path)
    assert str(info.value) == f"{path}:3: field 'line': not UTF-8 text (byte 0xe9)"
    path.write_bytes(b"\xef\xbb\xbfentailment\nneutral\n\n")  # a BOM is not a bad byte
    assert read_lines(path) == ["entailment", "neutral"]
