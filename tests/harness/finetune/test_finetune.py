"""``xrobust finetune`` with tiny random models on real rows: one few-step fine-tune per task type that
``xrobust run`` then scores, the features each head trains on, chains, augmentation, few-shot data,
hyper-parameter precedence, the card, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from harness.cli.main import main
from harness.errors import XRobustError
from harness.finetune.card import read_card
from harness.finetune.data import load_training, parse_limits
from harness.finetune.features import PadCollator, build_features
from harness.finetune.params import resolve_params
from harness.finetune.train import FinetuneRequest, prepare, save_atomically
from harness.spec.taskspec import load_task, resolve_task

STEPS = ["--max-steps", "2", "--batch-size", "4", "--no-progress"]


def finetune_cli(shared: Path, *args: str) -> int:
    return main(["finetune", "--data-dir", str(shared), *STEPS, *args])


def run_scores(shared: Path, model: Path, out: Path, task: str, lang: str, *extra: str) -> dict:
    code = main(["run", "--no-progress", "--tasks", task, "--model", str(model), "--langs", lang, "--data-dir",
                 str(shared), "--limit", "8", "--out", str(out), *extra])
    assert code == 0
    return json.loads((out / "results.json").read_text())


@pytest.mark.parametrize("task,train_args,lang,run_args", [
    ("xnli", ["--train-split", "validation"], "de", []),
    ("udpos", [], "fi", []),
    ("tydiqa", [], "ko", ["--split", "train"]),
    ("xcopa", [], "tr", []),
])
def test_finetune_then_run_each_task_type(tmp_path: Path, shared_data: Path, tiny_encoder: Path, task: str,
                                          train_args: list[str], lang: str, run_args: list[str]) -> None:
    import transformers

    out = tmp_path / "ckpt"
    assert finetune_cli(shared_data, "--model", str(tiny_encoder), "--task", task, "--out", str(out),
                        "--train-limit", "12", *train_args) == 0
    card = read_card(out)
    spec = resolve_task(task)
    assert card["task"] == task and card["task_type"] == spec.type and card["base_model"]["ref"] == str(tiny_encoder)
    assert card["data"]["n_examples"] == 12 and card["data"]["languages"] == ["en"] and card["intermediate"] == []
    assert len(card["data"]["ids_sha256"]) == 64 and card["augmentation"] is None
    assert card["training"]["steps"] == 2 and card["training"]["max_steps"] == 2 and card["training"]["seed"] == 1
    assert card["libraries"]["transformers"] == transformers.__version__ and "README.md" in {p.name for p in
                                                                                            out.iterdir()}
    model = getattr(transformers, card["head"]).from_pretrained(out)
    if spec.type in ("pair_classification", "token_classification"):
        assert [model.config.id2label[i] for i in range(len(spec.labels))] == list(spec.labels)
    results = run_scores(shared_data, out, tmp_path / "run", task, lang, *run_args)
    rows = [r for r in results["scores"] if (r["task"], r["language"]) == (task, lang)]
    assert rows and all(r["n"] == 8 for r in rows)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ckpt.")]  # no temp dirs left behind


def test_token_features_label_first_subword_only(shared_data: Path, tiny_tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    spec = resolve_task("udpos")
    tok = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    examples = load_training(spec, "train", ["en"], data_dir=shared_data, limits={"en": 20}).examples
    features = build_features(spec, examples, tok, resolve_params(spec, {"max_length": 512}))
    enc = tok([e["tokens"] for e in examples], is_split_into_words=True, truncation=True, max_length=512)
    for i, (row, example) in enumerate(zip(features.rows, examples, strict=True)):
        word_ids = enc.word_ids(i)
        firsts = [p for p, w in enumerate(word_ids) if w is not None and (p == 0 or word_ids[p - 1] != w)]
        labelled = [p for p, label in enumerate(row["labels"]) if label != -100]
        assert labelled == firsts and len(labelled) == len(example["tokens"])
        assert [spec.labels[row["labels"][p]] for p in labelled] == example["tags"]
    assert any(len(r["labels"]) > len(e["tokens"]) + 2 for r, e in zip(features.rows, examples, strict=True))


def test_qa_features_point_at_the_answer_or_cls(shared_data: Path, tiny_tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    from harness.finetune.features import answer_span
    from harness.models.predictors.qa import clip_questions, encode_windows

    spec = resolve_task("tydiqa")
    tok = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    examples = load_training(spec, "train", ["en"], data_dir=shared_data, limits={"en": 30}).examples
    params = resolve_params(spec, {"max_length": 128, "stride": 32})
    features = build_features(spec, examples, tok, params)
    questions = clip_questions(tok, [e["question"] for e in examples], params.max_query_length)
    _, owners, offsets, _ = encode_windows(tok, questions, [e["context"] for e in examples], max_length=128,
                                           stride=32)
    assert len(features.rows) == len(owners) > len(examples)  # long contexts give several windows
    hits = misses = 0
    for row, owner, window in zip(features.rows, owners, offsets, strict=True):
        start, end = row["start_positions"], row["end_positions"]
        if start == 0:
            assert end == 0
            misses += 1
            continue
        hits += 1
        span = answer_span(examples[owner])
        assert window[start][0] <= span[0] < window[start][1] and window[end][0] < span[1] <= window[end][1]
        text = examples[owner]["context"][window[start][0]:window[end][1]]
        assert examples[owner]["answers"]["text"][0] in text
    assert hits >= len(examples) - 2 and misses > 0
    assert features.stats["windows_to_cls"] == misses


def test_choice_features_and_collator(shared_data: Path, tiny_tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    spec = resolve_task("xcopa")
    tok = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    examples = load_training(spec, "train", ["en"], data_dir=shared_data, limits={"en": 5}).examples
    rows = build_features(spec, examples, tok, resolve_params(spec)).rows
    connective = {"cause": "because", "effect": "so"}[examples[0]["question"]]
    second = tok.decode(rows[0]["input_ids"][1], skip_special_tokens=True)
    assert connective in second and examples[0]["choices"][1].split()[-1].rstrip(".") in second
    batch = PadCollator(tok.pad_token_id)(rows)
    assert batch["input_ids"].shape[:2] == (5, 2) and batch["labels"].tolist() == [e["label"] for e in examples]
    assert (batch["attention_mask"].sum(-1) > 0).all()


def test_chain_replaces_the_head_and_carries_the_encoder(tmp_path: Path, shared_data: Path,
                                                        tiny_encoder: Path) -> None:
    from transformers import AutoModelForTokenClassification

    chain, plain = tmp_path / "chain", tmp_path / "plain"
    common = ["--model", str(tiny_encoder), "--task", "udpos", "--train-limit", "16"]
    assert finetune_cli(shared_data, *common, "--out", str(chain), "--intermediate", "panx") == 0
    assert finetune_cli(shared_data, *common, "--out", str(plain)) == 0
    card = read_card(chain)
    stages = card["stages"]
    assert [s["task"] for s in stages] == ["panx", "udpos"] and card["intermediate"] == ["panx"]
    assert [s["role"] for s in stages] == ["intermediate", "target"]
    assert [s["encoder_from"] for s in stages] == ["base", "panx"] and stages[1]["encoder_tensors_carried"] > 0
    assert all({"classifier.weight", "classifier.bias"} <= set(s["head_initialised"]) for s in stages)
    assert [s["labels"] for s in stages] == [list(resolve_task("panx").labels), list(resolve_task("udpos").labels)]
    assert stages[0]["data"]["ids_sha256"] != stages[1]["data"]["ids_sha256"]
    assert stages[0]["data"]["split"] == "train" and stages[0]["training"]["steps"] == 2
    assert card["data"] == {**stages[1]["data"], "data_dir": card["data"]["data_dir"]}
    chained = AutoModelForTokenClassification.from_pretrained(chain)
    alone = AutoModelForTokenClassification.from_pretrained(plain)
    assert chained.classifier.out_features == 17
    word = "bert.embeddings.word_embeddings.weight"
    assert not torch.equal(chained.state_dict()[word], alone.state_dict()[word])  # encoder saw PAN-X first
    readme = (chain / "README.md").read_text()
    assert "panx → udpos" in readme and "encoder from panx" in readme


def test_augmentation_adds_perturbed_copies(tmp_path: Path, shared_data: Path) -> None:
    req = FinetuneRequest(model="unused", task="udpos", out=tmp_path / "x", train_limit="25", augment="typos",
                          augment_copies=3, data_dir=shared_data)
    (stage,) = prepare(req)
    data = stage.data
    originals = {e["id"]: e for e in data.examples[:25]}
    copies = data.examples[25:]
    assert len(data.examples) == 100 and len(copies) == 75
    assert {e["id"].rsplit("~", 1)[1] for e in copies} == {"aug0", "aug1", "aug2"}
    for copy in copies:
        source = originals[copy["_original"]]
        assert copy["tags"] == source["tags"] and len(copy["tokens"]) == len(source["tokens"])
    changed = [c for c in copies if c["tokens"] != originals[c["_original"]]["tokens"]]
    assert len(changed) > 40 and data.augmentation["n_changed"] == len(changed)
    detail = data.augmentation["copies_detail"]
    assert [d["condition"] for d in detail] == ["keyboard", "char_noise", "keyboard"]  # no_diacritics skips en
    assert len({d["seed"] for d in detail}) == 3
    by_copy = {k: [c["tokens"] for c in copies if c["id"].endswith(f"~aug{k}")] for k in (0, 2)}
    assert by_copy[0] != by_copy[2]  # same condition, another seed
    assert data.ids_sha256 == load_training(stage.spec, "train", ["en"], data_dir=shared_data,
                                            limits={"en": 25}).ids_sha256


def test_augmented_run_records_it_in_the_card(tmp_path: Path, shared_data: Path, tiny_encoder: Path) -> None:
    out = tmp_path / "aug"
    assert finetune_cli(shared_data, "--model", str(tiny_encoder), "--task", "udpos", "--out", str(out),
                        "--train-limit", "10", "--augment", "mixed", "--augment-copies", "2") == 0
    card = read_card(out)
    aug = card["augmentation"]
    assert aug["suite"] == "mixed" and aug["copies"] == 2 and aug["n_original"] == 10 and aug["n_added"] == 20
    assert card["data"]["n_training_examples"] == 30 and card["stages"][0]["features"]["n"] == 30
    assert "suite `mixed`" in (out / "README.md").read_text()


def test_few_shot_languages_and_limits(tmp_path: Path, shared_data: Path) -> None:
    req = FinetuneRequest(model="unused", task="tydiqa", out=tmp_path / "x", train_langs=["en", "ko"],
                          train_limit="en=6,ko=4", data_dir=shared_data)
    (stage,) = prepare(req)
    assert stage.data.per_language == {"en": 6, "ko": 4} and stage.data.languages == ["en", "ko"]
    assert [e["_lang"] for e in stage.data.examples] == ["en"] * 6 + ["ko"] * 4
    assert parse_limits("3", ["en", "ko"]) == {"en": 3, "ko": 3}
    with pytest.raises(XRobustError, match="--train-limit"):
        parse_limits("fi=3", ["en", "ko"])


def test_intermediate_split_and_limits(tmp_path: Path, shared_data: Path) -> None:
    req = FinetuneRequest(model="unused", task="xcopa", out=tmp_path / "x", intermediate=["xnli:validation"],
                          train_limit="en=7", data_dir=shared_data)
    first, target = prepare(req)
    assert (first.spec.name, first.split, first.role) == ("xnli", "validation", "intermediate")
    assert first.data.per_language == {"en": 2000} and target.data.per_language == {"en": 7}
    assert first.params.epochs == 5 and target.params.learning_rate == 1e-5  # each task's own training block
    req.train_limit = "3"
    assert [s.data.per_language["en"] for s in prepare(req)] == [3, 3]


def test_hyper_parameter_precedence(tmp_path: Path) -> None:
    spec = resolve_task("udpos")
    params = resolve_params(spec, {"learning_rate": 5e-5, "max_steps": 120, "epochs": None})
    assert (params.learning_rate, params.sources["learning_rate"]) == (5e-5, "cli")
    assert (params.epochs, params.sources["epochs"]) == (10.0, "task.training")
    assert params.max_steps == 120 and params.sources["weight_decay"] == "default"
    qa = resolve_params(resolve_task("tydiqa"))
    assert qa.stride == 128 and qa.sources["stride"] == "task.qa" and qa.weight_decay == 1e-4
    with pytest.raises(XRobustError, match="stride 128 leaves no room"):
        resolve_params(resolve_task("tydiqa"), {"max_length": 160})
    bare = tmp_path / "bare.yaml"
    bare.write_text("type: token_classification\nname: bare\nlanguages: [en]\nlabels: [A, B]\nmetrics: [token_accuracy]\n"
                    "tagging: {fallback_label: A}\ntraining: {}\n")
    defaults = resolve_params(load_task(bare))
    assert defaults.sources["learning_rate"] == "xtreme" and defaults.max_length == 256
    bad = tmp_path / "bad.yaml"
    bad.write_text(bare.read_text().replace("training: {}", "training: {lr: -1}"))
    with pytest.raises(XRobustError, match=r"bad\.yaml.*training\.lr"):
        resolve_params(load_task(bad))


def _one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("xrobust: error:") and "\n" not in err
    return err


def test_errors_are_one_line(tmp_path: Path, shared_data: Path, tiny_encoder: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--model", str(tiny_encoder), "--out", str(tmp_path / "o")]
    err = _one_line_error(capsys, finetune_cli(shared_data, *base, "--task", "nosuchtask"))
    assert "unknown task 'nosuchtask'" in err and "'--task'" in err
    err = _one_line_error(capsys, finetune_cli(shared_data, *base, "--task", "xnli"))
    assert "xnli/en.train.jsonl" in err and "splits.train" in err
    err = _one_line_error(capsys, finetune_cli(shared_data, *base, "--task", "udpos", "--intermediate", "nope"))
    assert "'--intermediate'" in err
    bad_dir = tmp_path / "data"
    (bad_dir / "udpos").mkdir(parents=True)
    (bad_dir / "udpos" / "en.train.jsonl").write_text(
        json.dumps({"tokens": ["a", "b"], "pos_tags": ["NOUN", "FOO"], "idx": 7}) + "\n")
    err = _one_line_error(capsys, main(["finetune", "--data-dir", str(bad_dir), *STEPS, *base, "--task", "udpos"]))
    assert "'FOO'" in err and "en.train.jsonl" in err and "fields.tags (pos_tags)" in err
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "keep.txt").write_text("x")
    err = _one_line_error(capsys, finetune_cli(shared_data, *base, "--task", "udpos"))
    assert "--overwrite" in err and (tmp_path / "o" / "keep.txt").exists()


def test_save_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "ckpt"

    def broken(directory: Path) -> None:
        (directory / "config.json").write_text("{}")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_atomically(out, broken, overwrite=False)
    assert list(tmp_path.iterdir()) == []
    save_atomically(out, lambda d: (d / "a").write_text("1"), overwrite=False)
    save_atomically(out, lambda d: (d / "b").write_text("2"), overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"] and [p.name for p in out.iterdir()] == ["b"]
