"""A task type added from this file alone: registered, loaded from a task YAML in tmp_path, run end to end with
``xrobust run`` (clean and a perturbation suite) on a tiny random model, scored in results.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from harness import tasktypes
from harness.cli.main import main
from harness.errors import XRobustError
from harness.models.predictors import Predictor
from harness.spec.taskspec import load_task
from perturbations.policies import POLICIES, TEXT
from tests.conftest import DEMO_DATA, make_tiny_model

TOY = "toy_length"
THRESHOLD = 14  # subword tokens: longer sentences are "long"


@dataclass(frozen=True)
class ToyOptions:
    """The toy type's own option section: the length that separates short from long."""

    threshold: int = THRESHOLD


class LengthPredictor(Predictor):
    """"long" when the sentence has more than ``toy.threshold`` subword tokens; the score is the mean norm of
    the encoder's last hidden states, so the model is really run."""

    def predict(self, examples: list[dict], *, desc: str = "") -> list[dict]:
        loaded = self.models.get(self.spec.type)
        records = []
        for example in examples:
            enc = loaded.tokenizer(example["text"], return_tensors="pt")
            with torch.inference_mode():
                hidden = loaded.model(**{k: v.to(loaded.device) for k, v in enc.items()}).last_hidden_state
            n = int(enc["input_ids"].shape[1])
            records.append({"id": example["id"], "gold": example["label"], "n_tokens": n,
                            "pred": "long" if n > self.spec.toy.threshold else "short",
                            "score": round(float(hidden.norm(dim=-1).mean()), 5)})
        return records


class ToyLength(tasktypes.TaskType):
    name = TOY
    required = ("text", "label")
    optional = ("id",)
    section = tasktypes.Section("toy", ToyOptions)
    requires_labels = "toy tasks need label names"
    predictor = LengthPredictor
    metrics = ("accuracy",)
    field_policy = TEXT

    def canonicalize(self, examples: list[dict], spec: Any, *, dataset: Any, columns: dict[str, list[str]],
                     origin: str) -> None:
        for example in examples:
            example["label"] = str(example["label"]).strip().lower()

    def check_section(self, options: ToyOptions, path: Path) -> None:
        if options.threshold < 1:
            raise XRobustError("must be at least 1", file=path, field="toy.threshold")


@pytest.fixture
def toy_type() -> Iterator[tasktypes.TaskType]:
    registered = tasktypes.register(ToyLength())
    try:
        yield registered
    finally:
        tasktypes.unregister(TOY)


def write_task(tmp_path: Path, **extra: Any) -> tuple[Path, Path]:
    """The task file and a data folder with the demo's German and Finnish sentences, labelled by length."""
    data = tmp_path / "data"
    (data / TOY).mkdir(parents=True)
    for lang in ("de", "fi"):
        rows = [json.loads(line) for line in (DEMO_DATA / f"{lang}.test.jsonl").read_text().splitlines()]
        lines = [json.dumps({"id": r["id"], "sentence": r["source_sentence"],
                             "size": "LONG" if len(r["source_sentence"].split()) > 7 else "Short"},
                            ensure_ascii=False) for r in rows]
        (data / TOY / f"{lang}.test.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = {"name": TOY, "type": TOY, "languages": ["de", "fi"], "labels": ["short", "long"],
            "fields": {"text": "sentence", "label": "size"}, "metrics": ["accuracy"], "perturb_fields": ["text"],
            "splits": {"eval": "test"}, "toy": {"threshold": THRESHOLD}, **extra}
    task = {key: value for key, value in task.items() if value is not None}
    path = tmp_path / "toy_length.yaml"
    path.write_text(json.dumps(task), encoding="utf-8")  # JSON is YAML
    return path, data


def test_a_registered_type_is_known_everywhere(tmp_path: Path, toy_type: tasktypes.TaskType) -> None:
    path, _ = write_task(tmp_path)
    spec = load_task(path)
    assert spec.type == TOY and spec.toy == ToyOptions(THRESHOLD) and POLICIES[TOY] is TEXT
    assert spec.to_dict()["toy"] == {"threshold": THRESHOLD}
    with pytest.raises(XRobustError, match=r"field 'toy.threshold': must be at least 1"):
        load_task(write_task(tmp_path / "bad", toy={"threshold": 0})[0])
    with pytest.raises(XRobustError, match=r"field 'labels': toy tasks need label names"):
        load_task(write_task(tmp_path / "nolabels", labels=[])[0])
    with pytest.raises(XRobustError, match=r"metric 'f1' does not apply to toy_length tasks"):
        load_task(write_task(tmp_path / "f1", metrics=["f1"])[0])


def test_an_unregistered_type_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(XRobustError, match=r"field 'toy': unknown field \(known: candidates, choice, "):
        load_task(write_task(tmp_path)[0])
    without_section = write_task(tmp_path / "plain", toy=None)[0]
    with pytest.raises(XRobustError, match=r"field 'type': unknown task type 'toy_length' \(known: "
                                           r"pair_classification, .*candidate_retrieval\)"):
        load_task(without_section)
    assert TOY not in POLICIES and TOY not in tasktypes.names()


def test_toy_type_runs_end_to_end(tmp_path: Path, tiny_tokenizer_dir: Path, toy_type: tasktypes.TaskType) -> None:
    model = make_tiny_model(tmp_path / "model", tiny_tokenizer_dir, "AutoModel")
    path, data = write_task(tmp_path)
    out = tmp_path / "run"
    code = main(["run", "--no-progress", "--tasks", str(path), "--model", str(model), "--data-dir", str(data),
                 "--suite", "typos", "--out", str(out)])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    scores = {(r["language"], r["condition"]): r for r in results["scores"] if r["task"] == TOY}
    assert {c for _, c in scores} >= {"clean", "typos.keyboard"} and {lang for lang, _ in scores} == {"de", "fi"}
    spec = load_task(path)
    assert f"{TOY}@{spec.config_hash()}" in results["signature"]
    for lang in ("de", "fi"):
        clean = [json.loads(x) for x in (out / f"predictions/{TOY}/{lang}.test.clean.jsonl").read_text().splitlines()]
        assert len(clean) == 24 and {r["gold"] for r in clean} == {"short", "long"}
        assert all(r["pred"] == ("long" if r["n_tokens"] > THRESHOLD else "short") and r["score"] > 0 for r in clean)
        accuracy = 100 * sum(r["pred"] == r["gold"] for r in clean) / len(clean)
        row = scores[(lang, "clean")]
        assert row["metric"] == "accuracy" and row["n"] == 24 and row["value"] == pytest.approx(accuracy, abs=1e-4)
        typo_file = out / f"predictions/{TOY}/{lang}.test.typos.keyboard.jsonl"
        typos = [json.loads(x) for x in typo_file.read_text().splitlines()]
        assert [r["id"] for r in typos] == [r["id"] for r in clean]
        assert sum(a["input"]["text"] != b["input"]["text"] for a, b in zip(clean, typos, strict=True)) > 0
