"""The import rules in pyproject.toml (import-linter contracts) hold for the tree as it is."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout and "harness layers" in proc.stdout


def test_perturbations_import_without_harness() -> None:
    code = "import sys, perturbations; assert not [m for m in sys.modules if m.split('.')[0] in ('harness', 'reports')]"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
