"""Example-level slices: per-example attributes stored at run time, and the buckets that cut scores by them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import XRobustError

BUCKETS_FILE = Path(__file__).resolve().parents[2] / "tasks" / "buckets.yaml"
ATTRIBUTES = ("n_words", "fertility", "rare_rate")


def _words(example: dict, fields: tuple[str, ...]) -> list[str]:
    words: list[str] = []
    for name in fields:
        value = example.get(name)
        if isinstance(value, str):
            words += value.split()
        elif isinstance(value, list):
            words += [w for w in value if isinstance(w, str)]
    return words


def _is_known(word: str, lang: str) -> bool | None:
    import simplemma

    try:
        return bool(simplemma.is_known(word, lang) or simplemma.is_known(word.lower(), lang))
    except (ValueError, KeyError):
        return None  # language not covered by simplemma


def example_attributes(examples: list[dict], fields: tuple[str, ...], lang: str, tokenizer: Any) -> list[dict]:
    """``{n_words, fertility, rare_rate}`` per example, from its clean text."""
    word_lists = [_words(e, fields) for e in examples]
    flat = [w for words in word_lists for w in words]
    pieces: list[int] = []
    if flat and tokenizer is not None:
        encoded = tokenizer(flat, add_special_tokens=False)["input_ids"]
        pieces = [len(ids) for ids in encoded]
    covered = _is_known("a", lang) is not None
    known_cache: dict[str, bool | None] = {}
    out, cursor = [], 0
    for words in word_lists:
        n = len(words)
        attrs: dict[str, Any] = {"n_words": n}
        if pieces:
            attrs["fertility"] = round(sum(pieces[cursor:cursor + n]) / n, 3) if n else None
        cursor += n
        alpha = [w for w in words if w.isalpha()]
        if covered and alpha:
            for w in alpha:
                if w not in known_cache:
                    known_cache[w] = _is_known(w, lang)
            attrs["rare_rate"] = round(sum(not known_cache[w] for w in alpha) / len(alpha), 3)
        out.append(attrs)
    return out


@dataclass(frozen=True)
class Bucket:
    name: str
    attribute: str
    edges: tuple[float, ...]

    def labels(self) -> list[str]:
        return [_label(lo, hi) for lo, hi in zip(self.edges, (*self.edges[1:], math.inf), strict=True)]

    def assign(self, value: float | None) -> str | None:
        if value is None:
            return None
        label = None
        for lo, hi in zip(self.edges, (*self.edges[1:], math.inf), strict=True):
            if lo <= value < hi:
                label = _label(lo, hi)
        return label


def _label(lo: float, hi: float) -> str:
    fmt = lambda x: f"{x:g}"  # noqa: E731
    return f"[{fmt(lo)}, {fmt(hi)})" if hi != math.inf else f"≥{fmt(lo)}"


def load_buckets(path: str | Path | None = None) -> list[Bucket]:
    path = Path(path) if path else BUCKETS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise XRobustError(f"cannot read bucket definitions: {err}", file=path) from None
    table = data.get("buckets")
    if not isinstance(table, dict):
        raise XRobustError("must be a mapping of bucket name → {attribute, edges}", file=path, field="buckets")
    out = []
    for name, spec in table.items():
        if not isinstance(spec, dict) or set(spec) - {"attribute", "edges", "description"}:
            raise XRobustError("keys are attribute, edges, description", file=path, field=f"buckets.{name}")
        if spec.get("attribute") not in ATTRIBUTES:
            raise XRobustError(f"attribute must be one of {', '.join(ATTRIBUTES)}", file=path,
                               field=f"buckets.{name}.attribute")
        edges = spec.get("edges")
        if not isinstance(edges, list) or len(edges) < 2 or sorted(edges) != edges or \
                not all(isinstance(e, (int, float)) for e in edges):
            raise XRobustError("must be an increasing list of at least two numbers", file=path,
                               field=f"buckets.{name}.edges")
        out.append(Bucket(name, spec["attribute"], tuple(float(e) for e in edges)))
    return out
