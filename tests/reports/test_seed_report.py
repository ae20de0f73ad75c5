"""A report over seed runs: ``xrobust finetune --seeds`` with a tiny encoder on real UD-POS rows, each seed
evaluated by ``xrobust run``, then ``xrobust report``: one row per system with its seed count, seed spreads,
the seed-aware test, the single-seed warning and the estimator note."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.cli.main import main

STEPS = ["--max-steps", "2", "--batch-size", "4", "--no-progress", "--task", "udpos", "--train-limit", "12"]


def evaluate(shared: Path, model: Path, out: Path, name: str) -> Path:
    assert main(["run", "--no-progress", "--tasks", "udpos", "--model", str(model), "--name", name, "--langs",
                 "de,fi", "--data-dir", str(shared), "--limit", "8", "--suite", "typos", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def seed_runs(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, tiny_encoder: Path) -> dict[str, list]:
    root = tmp_path_factory.mktemp("seed-report")
    runs: dict[str, list] = {}
    for name, lr in (("base", "1e-3"), ("other", "5e-3")):
        models = root / f"models-{name}"
        assert main(["finetune", "--data-dir", str(shared_data), *STEPS, "--model", str(tiny_encoder), "--lr", lr,
                     "--out", str(models), "--seeds", "1,2,3"]) == 0
        runs[name] = [evaluate(shared_data, models / f"seed-{k}", root / f"run-{name}-{k}", name) for k in (1, 2, 3)]
    runs["solo"] = [evaluate(shared_data, root / "models-base" / "seed-1", root / "run-solo", "solo")]
    return runs


def clean_task_score(run: Path) -> float:
    scores = json.loads((run / "results.json").read_text())["scores"]
    return float(np.mean([r["value"] for r in scores if r["condition"] == "clean" and r["metric"] == "token_accuracy"]))


def build(runs: dict[str, list], out: Path, *extra: str) -> Path:
    dirs = [str(r) for name in ("base", "other", "solo") for r in runs[name]]
    assert main(["report", *dirs, "--out", str(out), "--resamples", "400", "--baseline", "base", *extra]) == 0
    return out


def test_seed_runs_are_one_row_with_mean_spread_and_seed_test(seed_runs: dict[str, list], tmp_path: Path) -> None:
    site = build(seed_runs, tmp_path / "site", "--aso")
    board = json.loads((site / "leaderboard.json").read_text())
    rows = {(r["submission"], r["scope"], r["condition"]): r for r in board}
    assert {r["submission"] for r in board} == {"base", "other", "solo"}
    per_seed = [clean_task_score(r) for r in seed_runs["base"]]
    base = rows[("base", "udpos", "clean")]
    assert base["seeds"] == 3 and base["value"] == pytest.approx(np.mean(per_seed), abs=1e-3)
    assert (base["seed_min"], base["seed_max"]) == pytest.approx((min(per_seed), max(per_seed)), abs=1e-3)
    assert rows[("solo", "udpos", "clean")]["seeds"] == 1
    comps = {(c["submission"], c["scope"], c["condition"]): c for c in json.loads((site / "comparisons.json").read_text())}
    other = comps[("other", "udpos", "clean")]
    assert other["test"] == "two-level bootstrap t" and other["seeds"] == 3 and not other["single_seed_warning"]
    assert other["ci_low"] <= other["difference"] <= other["ci_high"] and 0 <= other["aso_eps_min"] <= 1
    assert comps[("solo", "udpos", "clean")]["single_seed_warning"]
    gains = json.loads((site / "gain_robustness.json").read_text())
    assert gains and {g["test"] for g in gains if g["submission"] == "other"} == {"two-level bootstrap t"}
    scores = json.loads((site / "scores.json").read_text())
    assert {s["seeds"] for s in scores if s["submission"] == "other"} == {3}
    index = (site / "index.html").read_text()
    assert '<th title="fine-tuning seeds">Seeds</th>' in index and 'class="spread"' in index
    assert 'title="single seed, compared against multi-seed systems">†' in index and "ASO ε" in index
    assert "two-level bootstrap" in index and index.count("<td class=\"name\">base</td>") == 1 + 3  # row + seeds
    assert 'class="spread"' in (site / "task-udpos.html").read_text()


def test_example_only_resampling_is_narrower_and_says_so(seed_runs: dict[str, list], tmp_path: Path) -> None:
    seeded = build(seed_runs, tmp_path / "seeded")
    fixed = build(seed_runs, tmp_path / "fixed", "--resampling", "examples")
    pick = lambda site: next(c for c in json.loads((site / "comparisons.json").read_text())  # noqa: E731
                             if (c["submission"], c["scope"], c["condition"]) == ("other", "overall", "clean"))
    s, f = pick(seeded), pick(fixed)
    assert f["test"] == "paired bootstrap (examples)" and s["difference"] == pytest.approx(f["difference"])
    assert (s["ci_high"] - s["ci_low"]) > (f["ci_high"] - f["ci_low"])
    assert "resample examples only (seeds fixed)" in (fixed / "index.html").read_text()


def test_runs_without_cards_stay_separate(seed_runs: dict[str, list], tmp_path: Path) -> None:
    """Without readable model cards, and without the seed the run copied from them into its submission, the
    seeds are unknown: same-name runs are kept apart, as before."""
    import shutil

    copies = []
    for k, run in enumerate(seed_runs["base"][:2]):
        copy = tmp_path / f"copy-{k}"
        shutil.copytree(run, copy)
        meta = json.loads((copy / "run.json").read_text()) if (copy / "run.json").exists() else None
        if meta is None:
            pytest.fail("run.json missing from a run directory")
        meta["submission"]["model_path"] = meta["submission"]["model"] = str(tmp_path / "gone")
        for key in ("train_seed", "recipe", "system"):
            meta["submission"].pop(key, None)
        (copy / "run.json").write_text(json.dumps(meta))
        copies.append(str(copy))
    assert main(["report", *copies, "--out", str(tmp_path / "site"), "--resamples", "200"]) == 0
    names = {r["submission"] for r in json.loads((tmp_path / "site" / "leaderboard.json").read_text())}
    assert names == {"base", "base (2)"}


def test_imported_seed_runs_form_a_system(tmp_path: Path, shared_data: Path) -> None:
    """``xrobust import --system NAME --param seed=N``: XTREME-layout tag files (real German UD-POS sentences,
    each seed mislabelling its own share of the words) become one system with one row."""
    gold = [json.loads(line)["pos_tags"] for line in (shared_data / "udpos" / "de.test.jsonl").read_text().splitlines()]
    runs = []
    for seed, error in ((1, 0.10), (2, 0.16), (3, 0.12), (4, 0.14)):
        rng = np.random.default_rng(seed)
        folder = tmp_path / f"pred-{seed}" / "udpos"
        folder.mkdir(parents=True)
        lines = []
        for tags in gold:
            lines += [t if rng.random() >= error else "X" for t in tags] + [""]
        (folder / "test-de.tsv").write_text("\n".join(lines) + "\n")
        name, system = (f"xlmr-s{seed}", "xlmr") if seed < 4 else ("other", None)
        out = tmp_path / f"run-{seed}"
        extra = ["--system", system, "--param", f"seed={seed}"] if system else []
        assert main(["import", str(folder.parent), "--name", name, "--out", str(out), "--data-dir", str(shared_data),
                     *extra]) == 0
        runs.append(str(out))
    assert main(["report", *runs, "--out", str(tmp_path / "site"), "--resamples", "300", "--baseline", "other"]) == 0
    board = {(r["submission"], r["scope"], r["condition"]): r
             for r in json.loads((tmp_path / "site" / "leaderboard.json").read_text())}
    assert {k[0] for k in board} == {"xlmr", "other"} and board[("xlmr", "udpos", "clean")]["seeds"] == 3
    comp = json.loads((tmp_path / "site" / "comparisons.json").read_text())[0]
    assert comp["submission"] == "xlmr" and comp["single_seed_warning"] and comp["test"] == "two-level bootstrap t"
