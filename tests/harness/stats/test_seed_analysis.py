"""The analysis with multi-seed systems, on real UD-POS sentences of ../shared/data: tag predictions of
simulated seeds (each seed corrupts a seed-specific share of the gold tags) stored as run records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.stats.analysis import SEED_TEST, Analysis
from harness.stats.runs import Submission
from harness.stats.systems import System
from harness.store.rundir import Unit

LANGS = ("de", "fi", "tr")
TAGS = ["ADJ", "ADP", "ADV", "NOUN", "VERB", "X"]


def sentences(shared: Path, lang: str, n: int = 80) -> list[dict]:
    rows = []
    with (shared / "udpos" / f"{lang}.test.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if len(rows) == n:
                break
    return rows


def seed_run(shared: Path, name: str, error: float, rng: np.random.Generator, condition_error: float = 0.0
             ) -> Submission:
    units = {}
    for lang in LANGS:
        for cond, extra in (("clean", 0.0), ("typos.keyboard", condition_error)):
            records = []
            for row in sentences(shared, lang):
                gold = list(row["pos_tags"])
                pred = [t if rng.random() >= error + extra else TAGS[rng.integers(len(TAGS))] for t in gold]
                records.append({"id": str(row["idx"]), "gold": gold, "pred": pred, "lost": 0})
            units[Unit("udpos", lang, "test", cond)] = (records, {"metrics": ["token_accuracy"],
                                                                  "ranked_metric": "token_accuracy"})
    return Submission(name, shared, {"name": name}, "sig", tasks={"udpos"}, units=units)


def accuracy(sub: Submission, lang: str, cond: str = "clean") -> float:
    records = sub.units[Unit("udpos", lang, "test", cond)][0]
    return 100 * sum(p == g for r in records for p, g in zip(r["pred"], r["gold"], strict=True)) / sum(
        len(r["gold"]) for r in records)


@pytest.fixture(scope="module")
def systems(shared_data: Path) -> list[System]:
    rng = np.random.default_rng(0)
    base = [seed_run(shared_data, "base", e, rng, 0.10) for e in (0.20, 0.26, 0.17)]
    robust = [seed_run(shared_data, "robust", e, rng, 0.02) for e in (0.15, 0.24, 0.19)]
    solo = [seed_run(shared_data, "solo", 0.18, rng)]
    return [System("base", ["1", "2", "3"], base), System("robust", ["1", "2", "3"], robust),
            System("solo", ["1"], solo)]


def test_scores_are_seed_means_with_their_spread(systems: list[System]) -> None:
    analysis = Analysis(systems, n_resamples=500)
    rows = {(r["submission"], r["language"], r["condition"]): r for r in analysis.cell_rows()}
    for lang in LANGS:
        per_seed = [accuracy(s, lang) for s in systems[0].runs]
        row = rows[("base", lang, "clean")]
        assert row["value"] == pytest.approx(np.mean(per_seed), abs=1e-3) and row["seeds"] == 3
        assert (row["seed_min"], row["seed_max"]) == pytest.approx((min(per_seed), max(per_seed)), abs=1e-3)
        assert row["ci_low"] < row["value"] < row["ci_high"]
    board = analysis.leaderboard()
    task = board["rows"][("base", "udpos", "clean")]
    assert task["value"] == pytest.approx(np.mean([rows[("base", lang, "clean")]["value"] for lang in LANGS]), abs=1e-3)


def test_seed_aware_tests_are_wider_than_example_only_ones(systems: list[System]) -> None:
    seeded = Analysis(systems, n_resamples=800)
    fixed = Analysis(systems, n_resamples=800, resampling="examples")
    pick = lambda a: next(c for c in a.leaderboard()["comparisons"]  # noqa: E731
                          if (c["submission"], c["scope"], c["condition"]) == ("robust", "udpos", "clean"))
    s, f = pick(seeded), pick(fixed)
    assert s["test"] == SEED_TEST and f["test"] == "paired bootstrap (examples)"
    assert s["difference"] == pytest.approx(f["difference"])
    assert s["ci_high"] - s["ci_low"] > 1.5 * (f["ci_high"] - f["ci_low"])
    assert s["p_value"] > f["p_value"]
    solo = next(c for c in seeded.leaderboard()["comparisons"] if c["submission"] == "solo")
    assert solo["single_seed_warning"] and not s["single_seed_warning"] and solo["seeds"] == 1


def test_gain_robustness_resamples_seeds(systems: list[System]) -> None:
    analysis = Analysis(systems, n_resamples=800)
    rows = [r for r in analysis.gain_robustness("udpos") if r["submission"] == "robust"]
    assert {r["language"] for r in rows} == set(LANGS) and all(r["test"] == SEED_TEST for r in rows)
    for row in rows:
        lang = row["language"]
        drops = [np.mean([accuracy(s, lang, "typos.keyboard") - accuracy(s, lang) for s in sys.runs])
                 for sys in systems[:2]]
        assert row["contrast"] == pytest.approx(drops[1] - drops[0], abs=1e-3)
        assert row["contrast"] > 0 and row["ci_low"] < row["contrast"] < row["ci_high"]


def test_one_seed_systems_keep_the_example_tests(systems: list[System]) -> None:
    singles = [System(s.name, s.seeds[:1], s.runs[:1]) for s in systems]
    analysis = Analysis(singles, n_resamples=500)
    tests = {r["test"] for r in analysis.language_comparisons("udpos")}
    assert tests <= {"permutation", "mcnemar_exact"}
    assert all(r["test"] == "paired bootstrap" for r in analysis.leaderboard()["comparisons"])


def test_aso_on_seed_scores(systems: list[System]) -> None:
    analysis = Analysis(systems, n_resamples=300, with_aso=True)
    rows = analysis.leaderboard()["comparisons"]
    robust = next(r for r in rows if (r["submission"], r["scope"], r["condition"]) == ("robust", "overall",
                                                                                           "typos.keyboard"))
    assert 0.0 <= robust["aso_eps_min"] <= 1.0 and 0.0 <= robust["aso_eps_min_reverse"] <= 1.0
    assert np.isnan(next(r for r in rows if r["submission"] == "solo")["aso_eps_min"])
