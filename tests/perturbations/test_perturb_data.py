"""Real rows from the shared sample data as canonical examples, for the perturbation tests.

Data are read in place (``$XROBUST_SHARED_DATA``, default ``../shared/data``), never copied.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import pytest

import perturbations as P

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("XROBUST_SHARED_DATA", ROOT.parent / "shared" / "data"))

XNLI = ("ar", "de", "en", "ru", "sw", "tr")
TATOEBA = ("et", "eu", "fi", "hu", "ko", "ta")
XCOPA = ("ht", "id", "it", "qu", "th", "vi", "zh")
UDPOS = ("ar", "de", "en", "et", "fi", "hu", "ko", "ru", "tr")
PANX = ("eu", "sw", "ta")


def rows(rel: str, n: int | None = None) -> list[dict]:
    path = DATA / rel
    if not DATA.is_dir():
        pytest.skip(f"sample data folder not found: {DATA} (set XROBUST_SHARED_DATA)")
    if not path.is_file():
        pytest.fail(f"sample data file not found: {path} (set XROBUST_SHARED_DATA)")
    out = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            out.append(json.loads(line))
            if n is not None and len(out) >= n:
                break
    return out


def xnli(lang: str, n: int) -> list[dict]:
    return [{"id": str(r["idx"]), "text_a": r["sentence1"], "text_b": r["sentence2"], "label": r["gold_label"]}
            for r in rows(f"xnli/{lang}.test.jsonl", n)]


def tatoeba(lang: str, n: int) -> list[dict]:
    return [{"id": f"tatoeba-{lang}-{i}", "source": r["source_sentence"], "target": r["target_sentence"]}
            for i, r in enumerate(rows(f"tatoeba/{lang}.test.jsonl", n))]


def xcopa(lang: str, n: int) -> list[dict]:
    return [{"id": str(r["idx"]), "premise": r["premise"], "question": r["question"],
             "choices": [r["choice1"], r["choice2"]], "label": r["label"]}
            for r in rows(f"xcopa/{lang}.test.jsonl", n)]


def tokens(lang: str, n: int) -> list[dict] | None:
    """Token-classification examples (UD-POS, else PAN-X), or None without data for ``lang``."""
    if lang in UDPOS:
        rel, tag = f"udpos/{lang}.test.jsonl", "pos_tags"
    elif lang in PANX:
        rel, tag = f"panx/{lang}.validation.jsonl", "ner_tags"
    else:
        return None
    return [{"id": f"{rel}:{r['idx']}", "tokens": r["tokens"], "tags": r[tag]} for r in rows(rel, n)]


def qa(lang: str, n: int) -> list[dict] | None:
    """QA examples (MLQA de/ar, TyDiQA ko), or None."""
    rel = {"de": "mlqa/de.validation.jsonl", "ar": "mlqa/ar.validation.jsonl", "ko": "tydiqa/ko.train.jsonl"}.get(lang)
    if rel is None:
        return None
    return [{"id": r["id"], "context": r["context"], "question": r["question"],
             "answers": {"text": list(r["answers"]["text"]), "answer_start": list(r["answers"]["answer_start"])}}
            for r in rows(rel, n)]


def text_task(lang: str, n: int) -> tuple[list[dict], str, list[str]]:
    """(examples, task type, perturbable fields) of real sentences in ``lang``."""
    if lang in XNLI:
        return xnli(lang, n), "pair_classification", ["text_a", "text_b"]
    if lang in TATOEBA:
        return tatoeba(lang, n), "retrieval", ["source"]
    if lang in XCOPA:
        return xcopa(lang, n), "multiple_choice", ["premise", "choices"]
    from tests.perturbations.texts import word_list_task  # MUSE words, else glibc locale strings

    return word_list_task(lang, n)


@cache
def suite(name: str) -> P.Suite:
    if not DATA.is_dir():
        pytest.skip(f"sample data folder not found: {DATA} (set XROBUST_SHARED_DATA)")
    return P.load_suite(name, resources_dir=DATA)


def shipped_cases() -> list[tuple[str, str, str]]:
    """(suite, condition, language) for every language every shipped condition claims (none without data)."""
    out: list[tuple[str, str, str]] = []
    if not DATA.is_dir():
        return out
    for name in P.list_suites():
        for cond in suite(name).conditions:
            out += [(name, cond.name, lang) for lang in sorted(cond.languages)]
    return out


def texts_of(example: dict, fields: list[str]) -> list[str]:
    out: list[str] = []
    for field in fields:
        value = example[field]
        out += value if isinstance(value, list) else [value]
    return out
