"""``xrobust run --seed`` reaches the perturbations through the command line: the same suite under another run
seed perturbs other characters (and signs the units with the seed), the same seed again gives the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli.main import main


def _typos_run(model: Path, data: Path, out: Path, seed: str) -> dict[str, tuple[list[dict], dict]]:
    assert main(["run", "--no-progress", "--tasks", "xnli", "--model", str(model), "--langs", "de", "--data-dir",
                 str(data), "--limit", "30", "--suite", "typos", "--seed", seed, "--out", str(out)]) == 0
    units = {}
    for path in sorted((out / "predictions" / "xnli").glob("de.test.typos.*.jsonl")):
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        meta = json.loads(path.with_name(path.name[:-len(".jsonl")] + ".meta.json").read_text(encoding="utf-8"))
        units[path.name] = ([r["input"] for r in records], meta)
    assert units
    return units


def test_run_seed_changes_the_perturbed_inputs(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path) -> None:
    zero = _typos_run(tiny_xnli_model, shared_data, tmp_path / "s0", "0")
    one = _typos_run(tiny_xnli_model, shared_data, tmp_path / "s1", "1")
    again = _typos_run(tiny_xnli_model, shared_data, tmp_path / "s1b", "1")
    assert set(zero) == set(one) == set(again)
    for name in zero:
        assert one[name][0] == again[name][0], name  # one seed, one perturbation
        assert one[name][1]["fingerprint"] != zero[name][1]["fingerprint"], name
    moved = {name for name in zero if one[name][0] != zero[name][0]}
    # the random typos move with the seed (stripping every diacritic has nothing to draw)
    assert {"de.test.typos.keyboard.jsonl", "de.test.typos.char_noise.jsonl"} <= moved, moved
