"""The shipped greedy attack on real data: the offline multilingual-e5-small fine-tuned briefly on English UD-POS
(``xrobust finetune``, 40 steps; cached), attacked zero-shot in fi, tr, ru and de. With the same edit budget
(15% of the words) and the same candidate edits, the attack lowers token accuracy at least as much as random
edits (the ``random`` search, and the same steps applied as an ordinary random condition)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from harness.cli.main import main
from harness.models.loading import weights_fingerprint
from harness.models.offline_e5 import default_cache_dir
from perturbations.suite import SUITES_DIR

LANGS = ["fi", "tr", "ru", "de"]
LIMIT = 12
RECIPE = ["--max-steps", "40", "--batch-size", "16", "--lr", "3e-4", "--max-length", "48", "--train-limit", "640",
          "--seed", "1"]


@pytest.fixture(scope="session")
def e5_udpos(offline_e5: Path, shared_data: Path) -> Path:
    """e5-small + token classification head, 40 steps on English UD-POS (~7 CPU minutes once), cached next to the
    offline e5 checkpoint ($XROBUST_CACHE, else ~/.cache/xrobust) under a hash of the base weights and recipe."""
    key = hashlib.sha256(json.dumps([weights_fingerprint(str(offline_e5)), *RECIPE]).encode()).hexdigest()[:10]
    out = default_cache_dir().parent / f"e5-udpos-attack-{key}"
    if not (out / "xrobust-card.json").is_file():
        assert main(["finetune", "--model", str(offline_e5), "--task", "udpos", "--data-dir", str(shared_data),
                     "--out", str(out), "--no-progress", "--device", "cpu", "--overwrite", *RECIPE]) == 0
    return out


def comparison_suite(path: Path) -> Path:
    """The shipped greedy and random attacks, plus the greedy condition's steps as an ordinary random condition."""
    shipped = yaml.safe_load((SUITES_DIR / "adversarial.yaml").read_text(encoding="utf-8"))
    conds = shipped["conditions"]
    suite = {"seed": shipped["seed"], "conditions": {
        "greedy": conds["greedy"], "random": conds["random"],
        "random_steps": {"steps": conds["greedy"]["steps"]}}}
    path.write_text(yaml.safe_dump(suite, allow_unicode=True), encoding="utf-8")
    return path


def test_greedy_attack_beats_random_edits_with_the_same_budget(tmp_path: Path, shared_data: Path,
                                                               e5_udpos: Path) -> None:
    out = tmp_path / "run"
    suite = comparison_suite(tmp_path / "cmp.yaml")
    assert main(["run", "--no-progress", "--tasks", "udpos", "--model", str(e5_udpos), "--langs", ",".join(LANGS),
                 "--data-dir", str(shared_data), "--limit", str(LIMIT), "--suite", str(suite), "--out", str(out),
                 "--device", "cpu"]) == 0
    results = json.loads((out / "results.json").read_text())
    acc = {(r["language"], r["condition"]): r["value"] for r in results["scores"] if r["metric"] == "token_accuracy"}
    change = {(u["lang"], u["condition"]): u["change"] for u in results["units"] if "change" in u}
    rows = []
    for lang in LANGS:
        clean, greedy = acc[(lang, "clean")], acc[(lang, "cmp.greedy")]
        rand, steps = acc[(lang, "cmp.random")], acc[(lang, "cmp.random_steps")]
        attack = change[(lang, "cmp.greedy")]
        rows.append(f"{lang}: clean {clean:.1f} random-steps {steps:.1f} random {rand:.1f} greedy {greedy:.1f} "
                    f"success {attack['success_rate']:.2f} edited {attack['mean_edited_words']:.2f} "
                    f"calls/ex {attack['model_calls_per_example']:.0f} words changed "
                    f"{change[(lang, 'cmp.random_steps')]['frac_words_changed']:.3f}/"
                    f"{change[(lang, 'cmp.random')]['frac_words_changed']:.3f}/{attack['frac_words_changed']:.3f}")
        assert clean > 30, rows[-1]  # the brief fine-tune transfers
        assert greedy <= rand and greedy <= steps, rows[-1]
        assert greedy < clean and attack["success_rate"] >= 0.5, rows[-1]
        assert attack["frac_words_changed"] <= change[(lang, "cmp.random")]["frac_words_changed"] + 1e-9, rows[-1]
    print("\n".join(rows))
