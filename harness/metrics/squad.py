"""Extractive-QA metrics: exact match and token F1 (max over gold answers), per question.

Two answer normalizations, picked per task (``qa.normalization``) and stored in every record:

* ``squad`` — the SQuAD v1.1 evaluation: lowercase, drop ASCII punctuation, drop English articles
  (a/an/the), split on whitespace. XTREME scores XQuAD and TyDiQA-GoldP this way.
* ``mlqa`` — the MLQA v1 evaluation, language-aware: lowercase, drop every Unicode punctuation character
  (category P*) and ASCII punctuation, drop the language's articles (en a/an/the; es un/una/unos/unas/
  el/la/los/las; de ein/eine/einen/einem/eines/einer/der/die/das/den/dem/des; vi của/là/cái/chiếc/những;
  ar: every occurrence of the two letters "ال" becomes a space — the official script's pattern does not
  anchor it to word starts, and is reproduced as is so scores match published ones; hi and zh: none),
  then tokenize: zh by "mixed segmentation" (each CJK ideograph U+4E00–U+9FA5 is its own token, other runs
  split on whitespace), all others on whitespace. Languages outside MLQA's seven get no article removal and
  whitespace tokens.

Stats columns ``em`` and ``f1`` are fractions per question; ``em_f1`` is (EM + F1) / 2.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from harness.metrics.aggregates import mean_of_column, mean_of_two
from harness.metrics.base import Metric, Records, register

_ASCII_PUNCT = frozenset(string.punctuation)
_ARTICLES = {
    "en": r"\b(a|an|the)\b",
    "es": r"\b(un|una|unos|unas|el|la|los|las)\b",
    "de": r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b",
    "vi": r"\b(của|là|cái|chiếc|những)\b",
    "ar": r"ال",
}
_CJK = re.compile(r"[\u4e00-\u9fa5]")
_MIXED_SEGMENTATION = frozenset({"zh"})


@lru_cache(maxsize=4096)
def _is_punct(ch: str) -> bool:
    return ch in _ASCII_PUNCT or unicodedata.category(ch).startswith("P")


def _mixed_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    run: list[str] = []
    for ch in text:
        if _CJK.match(ch) or _is_punct(ch):
            tokens.extend("".join(run).split())
            run = []
            tokens.append(ch)
        else:
            run.append(ch)
    tokens.extend("".join(run).split())
    return tokens


@lru_cache(maxsize=1 << 16)
def _normalized(text: str, norm: str, lang: str) -> tuple[str, ...]:
    return tuple(normalize_tokens(text, norm, lang))


def normalize_tokens(text: str, norm: str = "squad", lang: str = "en") -> list[str]:
    """The normalized tokens of an answer under ``norm`` (squad | mlqa) for language ``lang``."""
    text = text.lower()
    if norm == "squad":
        text = "".join(ch for ch in text if ch not in _ASCII_PUNCT)
        return re.sub(_ARTICLES["en"], " ", text).split()
    if norm != "mlqa":
        raise ValueError(f"unknown answer normalization {norm!r}")
    text = "".join(ch for ch in text if not _is_punct(ch))
    if lang in _ARTICLES:
        text = re.sub(_ARTICLES[lang], " ", text)
    tokens = _mixed_tokens(text) if lang in _MIXED_SEGMENTATION else text.split()
    return [t for t in tokens if t.strip()]


def exact_match(pred: str, gold: str, norm: str = "squad", lang: str = "en") -> float:
    return float(_normalized(pred, norm, lang) == _normalized(gold, norm, lang))


def token_f1(pred: str, gold: str, norm: str = "squad", lang: str = "en") -> float:
    p, g = _normalized(pred, norm, lang), _normalized(gold, norm, lang)  # answers repeat across systems
    same = sum((Counter(p) & Counter(g)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def best_scores(pred: str, golds: Sequence[str], norm: str = "squad", lang: str = "en") -> tuple[float, float]:
    """(EM, F1) of a prediction: each the maximum over the gold answers (0, 0 without any)."""
    if not golds:
        return 0.0, 0.0
    return (max(exact_match(pred, g, norm, lang) for g in golds),
            max(token_f1(pred, g, norm, lang) for g in golds))


def _stats(records: Records) -> np.ndarray:
    rows = [best_scores(r["pred"], r["gold"], r.get("norm", "squad"), r.get("language", "en")) for r in records]
    return np.asarray(rows, dtype=np.float64).reshape(len(records), 2)


register(Metric("exact_match", ("em", "f1"), ("qa",), _stats, mean_of_column(0)))
register(Metric("f1", ("em", "f1"), ("qa",), _stats, mean_of_column(1)))
register(Metric("em_f1", ("em", "f1"), ("qa",), _stats, mean_of_two))
