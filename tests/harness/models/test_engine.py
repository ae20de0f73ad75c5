"""The inference engine: token-budget batches and padding-free packed batches give the predictions of
one-example-at-a-time inference (float32, tiny random BERT and XLM-R models) for every task type, on real rows
from ../shared/data; batch planning keeps its limits; errors in the encoding thread surface."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.models import engine as engine_module
from harness.models.batching import collate_packed, packed_batches, padded_batches
from harness.models.engine import Encoded, Engine
from harness.models.inference import PACKED_SDPA, Inference, RuntimeOptions, resolve
from harness.models.loading import ModelCache
from harness.models.predictors import Predictor, get_predictor
from harness.spec.taskspec import load_task, resolve_task
from tests.conftest import make_tiny_model

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
UDPOS = resolve_task("udpos").labels

HEADS = {"xnli": "AutoModelForSequenceClassification", "udpos": "AutoModelForTokenClassification",
         "mlqa": "AutoModelForQuestionAnswering", "xcopa": "AutoModelForMultipleChoice", "tatoeba": "AutoModel",
         "lareqa": "AutoModel"}
LANGS = {"xnli": ["de", "ar"], "udpos": ["ru", "ko"], "mlqa": ["de", "ar"], "xcopa": ["th", "sw"],
         "tatoeba": ["fi", "ko"], "lareqa": ["de", "ar"]}

#: (name, options): one example at a time, then three ways of batching the same examples
ONE_AT_A_TIME = RuntimeOptions(progress=False, batch_size=1, padding_free="off")
BATCHINGS = [
    ("token budget 96", RuntimeOptions(progress=False, max_tokens=96, padding_free="off")),
    ("default limits", RuntimeOptions(progress=False, padding_free="off")),
    ("packed, budget 300", RuntimeOptions(progress=False, max_tokens=300, padding_free="on")),
]


def _labels(task: str) -> dict:
    names = {"xnli": ["entailment", "neutral", "contradiction"], "udpos": list(UDPOS)}.get(task)
    if names is None:
        return {}
    return {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> dict[tuple[str, str], Path]:
    out = {}
    for arch in ("bert", "xlm-roberta"):
        for task, head in HEADS.items():
            out[task, arch] = make_tiny_model(tmp_path_factory.mktemp(f"{arch}-{task}"), tiny_tokenizer_dir, head,
                                              seed=3, architecture=arch, **_labels(task))
    return out


def _examples(task: str, shared_data: Path, tmp_path: Path) -> tuple[object, list[dict]]:
    if task == "lareqa":
        variant = tmp_path / "lareqa_small.yaml"
        variant.write_text(f"include: {resolve_task('lareqa').source_file}\nname: lareqa\nlanguages: [en, de, ar]\n")
        spec = load_task(variant)
        return spec, [e for lang in LANGS[task] for e in load_examples(spec, lang, data_dir=FIXTURES)]
    spec = resolve_task(task)
    split = "validation" if task == "mlqa" else None  # the MLQA samples are its dev set
    rows = [e for lang in LANGS[task] for e in load_examples(spec, lang, split, data_dir=shared_data, limit=10)]
    return spec, rows


def _predict(spec: object, model: Path, options: RuntimeOptions, examples: list[dict]) -> list[dict]:
    return get_predictor(spec, ModelCache(str(model), options), options).predict(examples)


def _same(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for key in x:
            if key in ("probs", "score"):
                assert np.allclose(np.asarray(x[key], dtype=float), np.asarray(y[key], dtype=float), atol=2e-4), key
            else:
                assert x[key] == y[key], (key, x["id"])


@pytest.mark.data
@pytest.mark.parametrize("arch", ["bert", "xlm-roberta"])
@pytest.mark.parametrize("task", list(HEADS))
def test_batched_and_packed_predictions_equal_one_at_a_time(task: str, arch: str, models: dict, shared_data: Path,
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, examples = _examples(task, shared_data, tmp_path)
    assert len(examples) >= 4
    model = models[task, arch]
    reference = _predict(spec, model, ONE_AT_A_TIME, examples)
    for name, options in BATCHINGS:
        records = _predict(spec, model, options, examples)
        try:
            _same(records, reference)
        except AssertionError as err:
            raise AssertionError(f"{task} {arch} {name}: {err}") from None
    # chunks of 8 items encoded in the background thread (as on CUDA): owners map back across chunks
    plain_engine = Predictor.engine
    monkeypatch.setattr(engine_module, "_INLINE_ITEMS", 1)
    monkeypatch.setattr(Predictor, "engine",
                        lambda self, loaded: replace(plain_engine(self, loaded), overlap=True, chunk_items=8))
    _same(_predict(spec, model, BATCHINGS[2][1], examples), reference)


@pytest.mark.data
def test_packed_path_really_packs(models: dict, shared_data: Path) -> None:
    """With padding-free on, a supported encoder loads with the packed kernel and batches carry no padding."""
    options = RuntimeOptions(progress=False, padding_free="on", max_tokens=300)
    cache = ModelCache(str(models["xnli", "xlm-roberta"]), options)
    settings = cache.inference("pair_classification")
    assert settings.packed and settings.attn == PACKED_SDPA and settings.pinned()["packing"] == "packed"
    loaded = cache.get("pair_classification")
    assert loaded.model.config._attn_implementation == PACKED_SDPA
    seen: list[tuple[int, ...]] = []

    def forward(inputs: dict) -> torch.Tensor:
        seen.append(tuple(inputs["input_ids"].shape))
        assert "attention_mask" not in inputs and int(inputs["position_ids"][0, 0]) == 2  # RoBERTa offsets
        return loaded.model(**inputs).logits

    rows = [e for e in load_examples(resolve_task("xnli"), "de", data_dir=shared_data, limit=20)]
    tok = loaded.tokenizer

    def encode(chunk: list[dict]) -> Encoded:
        return Encoded(dict(tok([e["text_a"] for e in chunk], [e["text_b"] for e in chunk], truncation=True)))

    engine = Engine(loaded.model, settings, pad_id=tok.pad_token_id)
    out = engine.run(rows, encode, forward, kind="sequence")
    lengths = [len(x) for x in encode(rows).features["input_ids"]]
    assert all(shape[0] == 1 for shape in seen) and sum(shape[1] for shape in seen) == sum(lengths)
    assert len(seen) == len(packed_batches(lengths, max_tokens=300, max_rows=settings.batch_size)) > 1
    assert [tuple(r.output.shape) for r in out] == [(3,)] * len(rows)
    assert ModelCache(str(models["xcopa", "bert"]), options).inference("multiple_choice").packed is False


def test_padded_batches_respect_budget_and_rows() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 200, size=500).tolist() + [700]
    for group in (1, 2):
        batches = padded_batches(lengths, max_tokens=1024, max_rows=16, group=group)
        flat = np.concatenate(batches)
        assert sorted(flat.tolist()) == list(range(len(lengths)))  # every row exactly once
        for b in batches:
            width = max(lengths[i] for i in b)
            assert len(b) <= 16 and (len(b) * group * width <= 1024 or len(b) == 1)
            assert lengths[b[0]] == width  # longest first
        assert sum(len(b) == 1 for b in batches) <= 2  # the over-long row alone, perhaps one more at the end
    packed = packed_batches(lengths, max_tokens=1024, max_rows=64)
    assert sorted(np.concatenate(packed).tolist()) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= 1024 or len(b) == 1 for b in packed)
    # greedy: merging a batch with the next never fits the budget (no needlessly small batches)
    assert all(sum(lengths[i] for i in a) + lengths[b[0]] > 1024 or len(a) == 64 for a, b in zip(packed, packed[1:], strict=False))


def test_collate_packed_positions_and_boundaries() -> None:
    features = {"input_ids": [[5, 6, 7], [8], [9, 10]], "token_type_ids": [[0, 0, 1], [0], [1, 1]]}
    batch = collate_packed(features, [2, 0, 1], position_offset=2)
    assert batch["input_ids"].tolist() == [[9, 10, 5, 6, 7, 8]]
    assert batch["token_type_ids"].tolist() == [[1, 1, 0, 0, 1, 0]]
    assert batch["position_ids"].tolist() == [[2, 3, 2, 3, 4, 2]]
    assert batch["cu_seqlens"].tolist() == [0, 2, 5, 6] and batch["cu_seqlens"].dtype == torch.int32


def test_encoding_errors_in_the_background_thread_surface() -> None:
    settings = Inference("cpu", "float32", "sdpa", False, max_tokens=64, batch_size=4)
    engine = Engine(torch.nn.Identity(), settings, chunk_items=16, overlap=True)

    def encode(chunk: list[int]) -> Encoded:
        if chunk[0] >= 100:
            raise XRobustError("bad row", field="text_a")
        return Encoded({"input_ids": [[1] * (1 + i % 5) for i in chunk]})

    def forward(inputs: dict) -> torch.Tensor:
        return inputs["input_ids"].float().sum(-1, keepdim=True)

    rows = engine.run(list(range(90)), encode, forward, kind="sequence")  # 6 chunks through the thread
    assert [float(r.output[0]) for r in rows] == [1.0 + i % 5 for i in range(90)]
    assert [r.owner for r in rows] == list(range(90))
    with pytest.raises(XRobustError, match="bad row"):
        engine.run(list(range(150)), encode, forward, kind="sequence")


def test_auto_settings_on_cpu_and_bad_values() -> None:
    from transformers import AutoModelForSequenceClassification, BertConfig, DebertaV2Config

    bert = AutoModelForSequenceClassification._model_mapping[BertConfig]
    auto = resolve(RuntimeOptions(device="cpu"), BertConfig(), bert)
    assert (auto.dtype, auto.attn, auto.packed, auto.max_tokens, auto.batch_size) == \
        ("float32", "sdpa", False, 2048, 64)
    assert resolve(RuntimeOptions(device="cpu", padding_free="on"), BertConfig(), bert).attn == PACKED_SDPA
    deberta = AutoModelForSequenceClassification._model_mapping[DebertaV2Config]
    fallback = resolve(RuntimeOptions(device="cpu", padding_free="on"), DebertaV2Config(), deberta)
    assert not fallback.packed and fallback.attn == "eager"  # no verified packed path, no SDPA: plain eager
    with pytest.raises(XRobustError, match="flash-attn"):
        resolve(RuntimeOptions(device="cpu", attn="flash_attention_2", dtype="bfloat16"), BertConfig(), bert)
    with pytest.raises(XRobustError, match="--max-tokens"):
        resolve(RuntimeOptions(device="cpu", max_tokens=0))
    with pytest.raises(XRobustError, match="--dtype"):
        resolve(RuntimeOptions(device="cpu", dtype="int3"))
    assert resolve(RuntimeOptions(device="cpu", dtype="bfloat16")).pinned() == \
        {"dtype": "bfloat16", "attn": "eager", "packing": "padded"}  # no model: no SDPA claimed
