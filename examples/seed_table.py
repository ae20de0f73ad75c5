"""Markdown tables of the seed experiment (``examples/seed_experiment.sh``): the seed-aware and the example-only
report side by side.

    python examples/seed_table.py experiments/seeds > seed_results.md

Reads only the two reports' exports (``site/`` and ``site-examples/``: leaderboard, comparisons, scores and
gain_robustness JSON): nothing is recomputed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _load(site: Path, name: str) -> list[dict[str, Any]]:
    return json.loads((site / f"{name}.json").read_text(encoding="utf-8"))


def _p(row: dict[str, Any]) -> str:
    mark = " *" if row.get("significant") else ""
    return f"{row['p_value']:.3f} / {row['p_adjusted']:.3f}{mark}"


def _conditions(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({r["condition"] for r in rows}, key=lambda c: (c != "clean", c))


def scores(seeded: Path, fixed: Path) -> list[str]:
    board, flat = _load(seeded, "leaderboard"), {(r["submission"], r["scope"], r["condition"]): r
                                                 for r in _load(fixed, "leaderboard")}
    out = ["### UD-POS task score (mean over languages), per system",
           "",
           "| system | seeds | condition | score | seed min–max | 95% CI, seeds + examples | 95% CI, examples only |",
           "|---|---|---|---|---|---|---|"]
    for row in sorted(board, key=lambda r: (r["scope"] != "udpos", r["submission"], r["condition"] != "clean",
                                           r["condition"])):
        if row["scope"] != "udpos":
            continue
        other = flat[(row["submission"], row["scope"], row["condition"])]
        out.append(f"| {row['submission']} | {row['seeds']} | {row['condition']} | {row['value']:.1f} | "
                   f"{row['seed_min']:.1f}–{row['seed_max']:.1f} | [{row['ci_low']:.1f}, {row['ci_high']:.1f}] | "
                   f"[{other['ci_low']:.1f}, {other['ci_high']:.1f}] |")
    return out


def differences(seeded: Path, fixed: Path) -> list[str]:
    flat = {(r["submission"], r["scope"], r["condition"]): r for r in _load(fixed, "comparisons")}
    out = ["### robust − baseline (task score)", "",
           "| condition | Δ | seeds + examples: 95% CI | p / p (Holm) | examples only: 95% CI | p / p (Holm) | "
           "ASO ε_min robust > baseline (reverse) |",
           "|---|---|---|---|---|---|---|"]
    for row in _load(seeded, "comparisons"):
        if row["scope"] != "udpos":
            continue
        other = flat[(row["submission"], row["scope"], row["condition"])]
        out.append(f"| {row['condition']} | {row['difference']:+.2f} | [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}] | "
                   f"{_p(row)} | [{other['ci_low']:+.2f}, {other['ci_high']:+.2f}] | {_p(other)} | "
                   f"{row.get('aso_eps_min', float('nan')):.2f} ({row.get('aso_eps_min_reverse', float('nan')):.2f}) |")
    return out


def gains(seeded: Path, fixed: Path) -> list[str]:
    flat = {(r["language"], r["condition"]): r for r in _load(fixed, "gain_robustness")}
    out = ["### Gain robustness per language: (robust − baseline) perturbed − (robust − baseline) clean", "",
           "| language | condition | contrast | seeds + examples: 95% CI | p / p (Holm) | examples only: 95% CI | "
           "p / p (Holm) |",
           "|---|---|---|---|---|---|---|"]
    for row in sorted(_load(seeded, "gain_robustness"), key=lambda r: (r["condition"], r["language"])):
        other = flat[(row["language"], row["condition"])]
        out.append(f"| {row['language']} | {row['condition']} | {row['contrast']:+.2f} | "
                   f"[{row['ci_low']:+.2f}, {row['ci_high']:+.2f}] | {_p(row)} | "
                   f"[{other['ci_low']:+.2f}, {other['ci_high']:+.2f}] | {_p(other)} |")
    return out


def languages(seeded: Path) -> list[str]:
    rows = [r for r in _load(seeded, "scores") if r["metric"] == "token_accuracy"]
    conds = _conditions(rows)
    cells = {(r["language"], r["submission"], r["condition"]): r for r in rows}
    out = ["### Per language: token accuracy, mean over seeds (seed min–max)", "",
           "| lang | system | " + " | ".join(conds) + " |", "|---|---|" + "---|" * len(conds)]
    for lang in sorted({r["language"] for r in rows}):
        for sub in sorted({r["submission"] for r in rows}):
            vals = [cells.get((lang, sub, c)) for c in conds]
            out.append(f"| {lang} | {sub} | " + " | ".join(
                f"{v['value']:.1f} ({v['seed_min']:.1f}–{v['seed_max']:.1f})" if v else "–" for v in vals) + " |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the experiment folder (OUT of seed_experiment.sh)")
    args = parser.parse_args()
    seeded, fixed = args.out / "site", args.out / "site-examples"
    parts = [scores(seeded, fixed), differences(seeded, fixed), gains(seeded, fixed), languages(seeded)]
    print("\n\n".join("\n".join(p) for p in parts))


if __name__ == "__main__":
    main()
