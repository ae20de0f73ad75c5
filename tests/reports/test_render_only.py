"""The report renders numbers computed in harness.stats: no module of reports/ resamples or computes them."""

from __future__ import annotations

import ast
from pathlib import Path

import reports

STATISTICS = ("numpy", "scipy", "harness.stats.engine", "harness.stats.bootstrap",
              "harness.stats.significance")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_reports_import_no_resampling_or_numerics() -> None:
    files = sorted(Path(reports.__file__).parent.rglob("*.py"))
    assert len(files) >= 4
    for path in files:
        bad = {m for m in imported_modules(path) if any(m == s or m.startswith(s + ".") for s in STATISTICS)}
        assert not bad, f"{path.name} imports {sorted(bad)}"
