"""``xrobust compare`` with seed runs: the run directories are grouped into two systems as the report groups
them, and B − A uses the report's estimator (two-level bootstrap and seed-aware test, or examples only)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.cli.main import main
from harness.store.rundir import RunStore, Unit

N = 2000


def seed_run(root: Path, system: str, seed: int | None, correct: np.ndarray, lang: str = "de",
             name: str | None = None) -> Path:
    """A run directory of one seed of ``system`` whose xnli/<lang> predictions are right where ``correct``."""
    name = name or f"{system}-s{seed}"
    store = RunStore(root / name)
    meta = {"name": name, "model": str(root / "gone" / name), "weights_sha256": name}
    if seed is not None:
        meta.update(system=system, train_seed=seed)
    store.write_run({"submission": meta, "signature": name})
    records = [{"id": str(i), "gold": "entailment", "pred": "entailment" if ok else "neutral"}
               for i, ok in enumerate(correct)]
    store.write_unit(Unit("xnli", lang, "test", "clean"), records, "fp",
                     {"metrics": ["accuracy"], "ranked_metric": "accuracy", "task_type": "pair_classification"})
    return root / name


def exact(rng: np.random.Generator, rate: float) -> np.ndarray:
    """``N`` outcomes, exactly ``rate`` of them right, in random order."""
    out = np.zeros(N, dtype=bool)
    out[rng.permutation(N)[:round(rate * N)]] = True
    return out


@pytest.fixture()
def seeded(tmp_path: Path) -> tuple[list[Path], list[Path], list[np.ndarray], list[np.ndarray]]:
    """3 seeds of base (50/60/70 % right) and of robust (55/65/75 %): a 5-point gain, 10 points of seed spread."""
    rng = np.random.default_rng(7)
    a = [exact(rng, p) for p in (0.5, 0.6, 0.7)]
    b = [exact(rng, p) for p in (0.55, 0.65, 0.75)]
    runs_a = [seed_run(tmp_path, "base", k + 1, c) for k, c in enumerate(a)]
    runs_b = [seed_run(tmp_path, "robust", k + 1, c) for k, c in enumerate(b)]
    return runs_a, runs_b, a, b


def compare(tmp_path: Path, runs: list[Path], *flags: str) -> list[dict]:
    out = tmp_path / "cmp.json"
    assert main(["compare", *map(str, runs), "--json", str(out), "--resamples", "1000", *flags]) == 0
    return json.loads(out.read_text())


def test_seed_runs_are_two_systems_and_seed_variance_counts(tmp_path: Path, seeded, capsys) -> None:  # noqa: ANN001
    runs_a, runs_b, a, b = seeded
    rows = compare(tmp_path, runs_a + runs_b)
    header = capsys.readouterr().out.splitlines()[0]
    assert "A = base, 3 seeds; B = robust, 3 seeds; seeds and examples resampled" in header
    lang = next(r for r in rows if r["scope"] == "language")
    gain = 100 * (np.mean([x.mean() for x in b]) - np.mean([x.mean() for x in a]))
    assert lang["difference"] == pytest.approx(gain, abs=1e-3) == pytest.approx(5.0, abs=1e-3)
    assert (lang["a"], lang["b"], lang["a_seeds"], lang["b_seeds"]) == ("base", "robust", 3, 3)
    assert lang["test"] == "two-level bootstrap t" and lang["resampling"] == "seeds"
    # seed spread of 10 points: the seed-mean difference has se ≈ sqrt(100/3 + 100/3) ≈ 8.2, so no significance
    seed_se = np.sqrt(2 * np.var([100 * x.mean() for x in a], ddof=1) / 3)
    assert lang["ci_high"] - lang["ci_low"] > 2 * 1.96 * seed_se and lang["p_value"] > 0.3
    assert not any(r["significant"] for r in rows)
    # examples only (seeds fixed): the same 5 points look like a sure gain
    fixed = compare(tmp_path, runs_a + runs_b, "--resampling", "examples")
    lang_fixed = next(r for r in fixed if r["scope"] == "language")
    assert lang_fixed["difference"] == lang["difference"] and lang_fixed["test"] == "paired bootstrap (examples)"
    assert lang_fixed["p_value"] < 0.01 and lang_fixed["ci_high"] - lang_fixed["ci_low"] < 0.5 * seed_se
    assert "examples resampled, seeds fixed" in capsys.readouterr().out


def test_compare_uses_the_report_estimator(tmp_path: Path, seeded) -> None:  # noqa: ANN001
    runs_a, runs_b, _, _ = seeded
    runs = runs_a[::-1] + runs_b  # the order of seeds within A does not matter
    for resampling in ("seeds", "examples"):
        rows = compare(tmp_path, runs, "--resampling", resampling)
        site = tmp_path / f"site-{resampling}"
        assert main(["report", *map(str, runs), "--out", str(site), "--resamples", "1000", "--baseline", "base",
                     "--resampling", resampling]) == 0
        report = json.loads((site / "comparisons.json").read_text())
        assert report
        for theirs in report:
            ours = next(r for r in rows if r["scope"] == "task" and r["task"] == theirs["scope"]
                        and r["condition"] == theirs["condition"])
            for key in ("difference", "ci_low", "ci_high", "p_value", "test"):
                assert ours[key] == pytest.approx(theirs[key]) if key != "test" else ours[key] == theirs[key]
            assert (theirs["seeds"], theirs["baseline_seeds"]) == (ours["b_seeds"], ours["a_seeds"]) == (3, 3)


def test_one_seed_against_three_is_flagged(tmp_path: Path, seeded, capsys) -> None:  # noqa: ANN001
    runs_a, runs_b, _, _ = seeded
    rows = compare(tmp_path, runs_a[:1] + runs_b)
    out = capsys.readouterr().out
    assert "A = base, 1 seed; B = robust, 3 seeds" in out
    assert all(r["single_seed_warning"] and r["a_seeds"] == 1 for r in rows)
    assert "† base has one seed" in out and out.count("two-level bootstrap t †") == len(rows)


def test_two_runs_of_one_system_are_compared_with_each_other(tmp_path: Path, seeded) -> None:  # noqa: ANN001
    runs_a, _, a, _ = seeded
    rows = compare(tmp_path, runs_a[:2])  # seeds 1 and 2 of base: as before, run against run
    lang = next(r for r in rows if r["scope"] == "language")
    assert (lang["a"], lang["b"], lang["a_seeds"], lang["b_seeds"]) == ("base-s1", "base-s2", 1, 1)
    assert lang["test"] == "mcnemar_exact"
    assert lang["difference"] == pytest.approx(100 * (a[1].mean() - a[0].mean()), abs=1e-3)
    rng = np.random.default_rng(0)
    for folder in ("p", "q"):
        (tmp_path / folder).mkdir()
    same = [seed_run(tmp_path / folder, "", None, exact(rng, 0.6), name="X") for folder in ("p", "q")]
    rows = compare(tmp_path, same)  # same name, no seeds: A: X and B: X, as before
    assert {(r["a"], r["b"]) for r in rows} == {("A: X", "B: X")}


def test_refusals_are_one_line(tmp_path: Path, seeded, capsys) -> None:  # noqa: ANN001
    runs_a, runs_b, a, _ = seeded
    other = seed_run(tmp_path, "third", 1, a[0])
    elsewhere = [seed_run(tmp_path, "tr", k, a[k - 1], lang="tr") for k in (1, 2)]
    for argv, words in ((runs_a + runs_b + [other], "hold 3 systems (base, robust, third); compare needs two"),
                        (runs_a[:1], "at least two run directories"),
                        (runs_a, "3 run directories hold 1 system (base)"),
                        (runs_a + elsewhere, "nothing to compare"),
                        (runs_a + [tmp_path / "nope"], "run directory not found")):
        capsys.readouterr()
        assert main(["compare", *map(str, argv), "--resamples", "100"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("xrobust: error: ") and words in err and err.count("\n") == 1, err


def test_aso_of_the_two_systems(tmp_path: Path, seeded, capsys) -> None:  # noqa: ANN001
    runs_a, runs_b, _, _ = seeded
    rows = compare(tmp_path, runs_a + runs_b, "--aso")
    task = [r for r in rows if r["scope"] == "task"]
    # robust's seeds (55/65/75) sit 5 points above base's (50/60/70): B over A violates little, A over B a lot
    assert task and all(r["aso_eps_min"] < r["aso_eps_min_reverse"] for r in task)
    assert "ASO ε_min B>A / A>B" in capsys.readouterr().out


def test_units_some_seeds_lack_are_left_out_and_named(tmp_path: Path, seeded, capsys) -> None:  # noqa: ANN001
    runs_a, runs_b, a, b = seeded
    for k, run in enumerate(runs_a + runs_b[:2]):  # robust's seed 3 has no xnli/tr
        correct = (a + b)[k][::-1]
        RunStore(run).write_unit(Unit("xnli", "tr", "test", "clean"),
                                 [{"id": str(i), "gold": "entailment", "pred": "entailment" if ok else "neutral"}
                                  for i, ok in enumerate(correct)], "fp",
                                 {"metrics": ["accuracy"], "ranked_metric": "accuracy",
                                  "task_type": "pair_classification"})
    rows = compare(tmp_path, runs_a + runs_b)
    assert {r["language"] for r in rows if r["scope"] == "language"} == {"de"}
    assert "not compared, some seeds lack it: robust: xnli/tr/test/clean (2 of 3 seeds)" in capsys.readouterr().out
