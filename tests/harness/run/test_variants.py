"""Worst case over K seeded variants: one unit per variant, a derived "@worst" unit, per-example minimum."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli.main import main

SUITE = """seed: 7
conditions:
  keyboard3:
    variants: 3
    steps:
      - keyboard: {rate: 0.5, languages: [de, tr]}
"""


def read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_worst_case_over_variants(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path) -> None:
    suite = tmp_path / "k3.yaml"
    suite.write_text(SUITE)
    out = tmp_path / "run"
    args = ["run", "--no-progress", "--tasks", "xnli", "--model", str(tiny_xnli_model), "--langs", "tr",
            "--data-dir", str(shared_data), "--limit", "60", "--suite", str(suite), "--out", str(out)]
    assert main(args) == 0
    pred = out / "predictions/xnli"
    variants = [read(pred / f"tr.test.k3.keyboard3{s}.jsonl") for s in ("", "~v1", "~v2")]
    inputs = [[r["input"]["text_a"] for r in v] for v in variants]
    assert inputs[0] != inputs[1] != inputs[2]  # differently seeded variants
    worst = read(pred / "tr.test.k3.keyboard3@worst.jsonl")
    for i, record in enumerate(worst):
        right = [v[i]["pred"] == v[i]["gold"] for v in variants]
        assert (record["pred"] == record["gold"]) == all(right)  # failed if any variant fails
        assert record == {**variants[record["variant"]][i], "variant": record["variant"]}
    results = json.loads((out / "results.json").read_text())
    acc = {r["condition"]: r["value"] for r in results["scores"]}
    assert acc["k3.keyboard3@worst"] <= min(acc["k3.keyboard3"], acc["k3.keyboard3~v1"], acc["k3.keyboard3~v2"])
    before = (pred / "tr.test.k3.keyboard3@worst.jsonl").read_bytes()
    assert main(args) == 0  # cached: identical, nothing recomputed
    assert (pred / "tr.test.k3.keyboard3@worst.jsonl").read_bytes() == before
    site = tmp_path / "site"
    assert main(["report", str(out), "--out", str(site), "--resamples", "200"]) == 0
    html = (site / "index.html").read_text()
    assert "k3.keyboard3@worst" in html and "~v1" not in html
