"""Benchmark: what a report pays per unit to get its per-example columns — read from the unit's columns file
(``<stem>.columns.arrow``, both checksums checked) against parsing its JSONL records, side by side.

    python benchmarks/digest_read.py [--examples 1000] [--repeats 3]

One synthetic unit per task type and condition (``harness.store.synthetic``), read with the report's own reader
(``DigestCache(None).load``); the parsed path is what units without a columns file (older run dirs) take.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.stats.digest import DigestCache  # noqa: E402
from harness.store.rundir import RunStore  # noqa: E402
from harness.store.synthetic import TASKS, write_submission  # noqa: E402

ATTRS = ["fertility", "n_words", "rare_rate"]


def per_unit_ms(store: RunStore, units: list, repeats: int) -> float:
    t0 = time.perf_counter()
    for _ in range(repeats):
        for unit, meta in units:
            DigestCache(None).load(store, unit, meta, meta["metrics"], ATTRS)
    return (time.perf_counter() - t0) / repeats / len(units) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digest-read-") as tmp:
        store = write_submission(Path(tmp) / "run", 0, 2, TASKS, ["de"], ["clean", "typos.keyboard"], args.examples)
        units = store.complete_units()
        columns = per_unit_ms(store, units, args.repeats)
        parsed = per_unit_ms(store, [(u, {k: v for k, v in m.items() if k != "columns"}) for u, m in units],
                             args.repeats)
    print(f"{len(units)} units of {args.examples} examples (every task type): columns file {columns:.2f} ms per "
          f"unit, parsing the records {parsed:.2f} ms per unit: {parsed / columns:.1f}x")


if __name__ == "__main__":
    main()
