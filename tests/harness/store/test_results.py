"""The run-dir claim and the results writer shared by ``xrobust run`` and ``xrobust import``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import XRobustError
from harness.store.results import claim_run_dir, import_signature, model_signature, write_results
from harness.store.rundir import RunStore, Unit


def _builder(seen: list[dict | None], name: str = "sub"):  # noqa: ANN202
    def build(old: dict | None) -> dict:
        seen.append(old)
        if old is not None and old.get("name") != name:
            raise XRobustError("run directory belongs to another submission", field="submission.name")
        return {"name": name, "model": "m"}
    return build


def test_claim_writes_run_json_and_keeps_created_and_signature(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    seen: list[dict | None] = []
    run = claim_run_dir(store, _builder(seen))
    assert seen == [None]
    assert list(run) == ["submission", "signature"] and run["signature"] == ""
    assert list(run["submission"]) == ["name", "model", "created"]  # created comes last
    assert json.loads(store.run_file.read_text()) == run
    store.write_run({**run, "signature": "sig"})
    again = claim_run_dir(store, _builder(seen))
    assert seen[-1] == run["submission"]
    assert again["submission"]["created"] == run["submission"]["created"] and again["signature"] == "sig"
    with pytest.raises(XRobustError, match="another submission"):
        claim_run_dir(store, _builder(seen, name="other"))


def test_claim_keeps_a_given_created_only_for_a_new_dir(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    run = claim_run_dir(store, lambda old: {"name": "a", "created": "2020-01-01T00:00:00+00:00", "model": "m"})
    assert list(run["submission"]) == ["name", "created", "model"]
    assert run["submission"]["created"] == "2020-01-01T00:00:00+00:00"
    store.write_run({"submission": {"name": "a"}, "signature": ""})  # stored without a created time
    run = claim_run_dir(store, lambda old: {"name": "a", "created": "2020-01-01T00:00:00+00:00", "model": "m"})
    assert run["submission"]["created"] != "2020-01-01T00:00:00+00:00"


def _unit(store: RunStore, condition: str, **extra: object) -> None:
    records = [{"id": "1", "gold": "a", "pred": "a", "probs": None}, {"id": "2", "gold": "b", "pred": "a", "probs": None}]
    store.write_unit(Unit("xnli", "de", "test", condition), records, f"fp-{condition}",
                     {"metrics": ["accuracy"], "ranked_metric": "accuracy", "task_type": "pair_classification",
                      "task_config": "cfg", **extra})


def test_results_json_from_the_store(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    run = {"submission": {"name": "s", "model": "m", "revision": None, "weights_sha256": "w", "dtype": "float32",
                          "seed": 0}, "signature": ""}
    _unit(store, "clean")
    _unit(store, "typos.keyboard", condition_signature="abc", change={"n_examples": 2})
    _unit(store, "typos.keyboard~v1", condition_signature="abc", change={"n_examples": 2})
    _unit(store, "typos.keyboard@worst", condition_signature="abc", change={"n_examples": 2})
    results = write_results(store, run, model_signature)
    assert list(results) == ["submission", "signature", "ranked_metrics", "scores", "task_averages", "units"]
    assert "|cond:clean+typos.keyboard@abc|" in results["signature"]  # variants are pinned by their base
    assert json.loads(store.run_file.read_text())["signature"] == results["signature"]
    assert json.loads(store.results_file.read_text()) == results
    assert [u["condition"] for u in results["units"]] == ["clean", "typos.keyboard", "typos.keyboard@worst",
                                                          "typos.keyboard~v1"]
    assert "change" not in results["units"][0] and results["units"][1]["change"] == {"n_examples": 2}
    assert {r["condition"] for r in results["scores"]} >= {"clean", "typos.keyboard"}

    imported = write_results(store, run, import_signature)
    assert "|model:m#imported-" in imported["signature"] and "|cond:clean|dtype:imported|seed:0|" in \
        imported["signature"]
