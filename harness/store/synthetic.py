"""Synthetic run directories of realistic submissions, for report benchmarks and golden tests.

:func:`fabricate` writes N submissions × tasks × languages × conditions × examples through the store API
(``claim_run_dir``, ``RunStore.write_unit``, ``write_results``), with the records each task type's predictor
writes: pair and multiple-choice labels, token tags (POS and BIO entities), extractive answers and retrieval
rankings. Correctness is correlated the way real systems are: every example has a latent difficulty per task,
language and condition shared by all submissions, a submission has a skill, a perturbed condition lowers it, and
a perturbed condition's difficulty is correlated with the clean one's. Everything is drawn from one seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness import __version__
from harness.store.results import claim_run_dir, model_signature, write_results
from harness.store.rundir import RunStore, Unit
from harness.store.signature import fingerprint


@dataclass(frozen=True)
class SynthTask:
    """One task as the report sees it: its type, metrics (ranked first) and split."""

    name: str
    task_type: str
    metrics: tuple[str, ...]
    split: str = "test"


#: The XTREME-R tasks, each with its task type's records and metrics.
TASKS: tuple[SynthTask, ...] = (
    SynthTask("xnli", "pair_classification", ("accuracy",)),
    SynthTask("pawsx", "pair_classification", ("accuracy",)),
    SynthTask("xcopa", "multiple_choice", ("accuracy",)),
    SynthTask("udpos", "token_classification", ("token_accuracy",)),
    SynthTask("panx", "token_classification", ("entity_f1", "entity_precision", "entity_recall")),
    SynthTask("xquad", "qa", ("em_f1", "exact_match", "f1")),
    SynthTask("mlqa", "qa", ("em_f1", "exact_match", "f1")),
    SynthTask("tydiqa", "qa", ("em_f1", "exact_match", "f1"), "validation"),
    SynthTask("mewslix", "candidate_retrieval", ("map_at_20",)),
    SynthTask("lareqa", "candidate_retrieval", ("map_at_20",)),
    SynthTask("tatoeba", "retrieval", ("accuracy", "accuracy_en2xx")),
)

LANGUAGES = ("af", "ar", "bg", "bn", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id",
             "it", "ja", "jv", "ka", "kk", "ko", "ml", "mr", "ms", "my", "nl", "pt", "ru", "sw", "ta", "te", "th",
             "tl", "tr", "ur", "vi", "yo", "zh")
CONDITIONS = ("clean", "typos.keyboard", "typos.char_noise", "typos.no_diacritics", "typos.ocr", "codeswitch.to_english",
              "codeswitch.dictionary", "mixed.mixed", "inflection.swap", "adversarial.random")
LABELS = ("entailment", "neutral", "contradiction")
POS = ("NOUN", "VERB", "ADJ", "ADP", "DET", "PRON", "PUNCT", "ADV")
WORDS = tuple(f"w{k}" for k in range(400))


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(int(hashlib.sha256(repr(parts).encode()).hexdigest()[:12], 16))


def _text(rng: np.random.Generator, low: int, high: int) -> str:
    return " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), size=int(rng.integers(low, high))))


def _content(task: SynthTask, i: int, c: np.random.Generator) -> dict:
    """Gold and inputs of example ``i`` (the same for every system and condition)."""
    kind = task.task_type
    if kind == "pair_classification":
        return {"gold": LABELS[int(c.integers(0, 3))], "input": {"text_a": _text(c, 8, 24), "text_b": _text(c, 4, 12)}}
    if kind == "multiple_choice":
        return {"gold": int(c.integers(0, 2)),
                "input": {"premise": _text(c, 5, 12), "choices": [_text(c, 3, 8), _text(c, 3, 8)]}}
    if kind == "token_classification":
        n = int(c.integers(6, 20))
        tokens = [WORDS[k] for k in c.integers(0, len(WORDS), n)]
        if "entity_f1" in task.metrics:
            gold = ["O"] * n
            for start in c.choice(n, size=int(c.integers(1, 3)), replace=False):
                tag = ("PER", "ORG", "LOC")[int(c.integers(0, 3))]
                gold[start] = f"B-{tag}"
                if start + 1 < n and gold[start + 1] == "O":
                    gold[start + 1] = f"I-{tag}"
        else:
            gold = [POS[k] for k in c.integers(0, len(POS), size=n)]
        return {"gold": gold, "input": {"tokens": tokens}}
    if kind == "qa":
        return {"gold": [_text(c, 1, 5)], "norm": "squad",
                "input": {"question": _text(c, 5, 12), "context": _text(c, 40, 90)}}
    if kind == "retrieval":
        return {"gold": f"t{i}", "input": {"source": _text(c, 4, 14)}}
    return {"gold": [f"c{i}"], "input": {"question": _text(c, 5, 12)}}


def _prediction(task: SynthTask, base: dict, ok: bool, s: np.random.Generator) -> dict:
    """A system's prediction fields for an example with ``base`` content; ``ok``: (mostly) right."""
    kind, gold = task.task_type, base["gold"]
    if kind == "pair_classification":
        return {"pred": gold if ok else LABELS[(LABELS.index(gold) + int(s.integers(1, 3))) % 3]}
    if kind == "multiple_choice":
        return {"pred": gold if ok else 1 - gold}
    if kind == "token_classification":
        if "entity_f1" in task.metrics:
            return {"pred": list(gold) if ok else [("O" if t.startswith("B-") and s.random() < 0.6 else t)
                                                   for t in gold]}
        wrong = s.random(len(gold)) < (0.03 if ok else 0.3)
        return {"pred": [POS[(POS.index(t) + 1) % len(POS)] if w else t for t, w in zip(gold, wrong, strict=True)]}
    if kind == "qa":
        answer = gold[0].split()
        if ok:
            return {"pred": gold[0]}
        if s.random() < 0.5:  # a partly overlapping span
            return {"pred": " ".join(answer[: max(1, len(answer) - 1)] + [WORDS[int(s.integers(0, 400))]])}
        return {"pred": _text(s, 1, 4)}
    if kind == "retrieval":
        wrong = f"{gold}-{int(s.integers(1, 10_000))}"
        back = ok if s.random() < 0.8 else not ok
        return {"pred": gold if ok else wrong, "pred_rev": gold if back else wrong}
    ranked = [f"{gold[0]}-{int(k)}" for k in s.integers(1, 100_000, size=20)]
    rank = int(s.integers(0, 3)) if ok else int(s.integers(3, 30))
    if rank < 20:
        ranked[rank] = gold[0]
    return {"ranked": ranked, "pred": ranked[0]}


def submission(i: int, seed: int | None = None, system: str | None = None) -> dict:
    """The submission metadata of synthetic system ``i`` (``seed``: one training seed of ``system``)."""
    name = system or f"system-{i:02d}"
    sub = {"name": name, "model": f"example-org/{name}", "model_path": f"example-org/{name}-{seed}",
           "revision": None, "weights_sha256": hashlib.sha256(f"{name}/{seed}".encode()).hexdigest()[:12],
           "dtype": "float32", "seed": 0, "harness_version": __version__,
           "libraries": {"torch": "n/a", "transformers": "n/a"}}
    if seed is not None:
        sub |= {"system": name, "train_seed": seed, "recipe": hashlib.sha256(name.encode()).hexdigest()[:12]}
    return sub


def _attrs(rng: np.random.Generator, n: int) -> list[dict]:
    words = rng.integers(5, 60, size=n)
    fertility = rng.uniform(1.1, 3.2, size=n)
    rare = rng.beta(1, 12, size=n)
    return [{"n_words": int(w), "fertility": round(float(f), 3), "rare_rate": round(float(r), 3)}
            for w, f, r in zip(words, fertility, rare, strict=True)]


def write_submission(root: RunStore | str, index: int, n_subs: int, tasks: Sequence[SynthTask],
                     langs: Sequence[str], conditions: Sequence[str], n_examples: int, *, seed: int = 0,
                     train_seed: int | None = None, system: str | None = None, results: bool = True) -> RunStore:
    """Write synthetic submission ``index`` (of ``n_subs``, which sets its skill) into run dir ``root``;
    ``results``: also write results.json (which scores every unit once more)."""
    store = root if isinstance(root, RunStore) else RunStore(root, durable=False)
    run = claim_run_dir(store, lambda old: submission(index, train_seed, system))
    skill = 0.55 + 0.3 * index / max(n_subs - 1, 1) + 0.01 * ((train_seed or 0) % 3)
    ids = [f"{k:06d}" for k in range(n_examples)]
    for task in tasks:
        meta = {"metrics": list(task.metrics), "ranked_metric": task.metrics[0], "task_type": task.task_type,
                "task_config": hashlib.sha256(task.name.encode()).hexdigest()[:12]}
        for lang in langs:
            base = _rng(seed, "difficulty", task.name, lang).standard_normal(n_examples)
            attrs = _attrs(_rng(seed, "attrs", task.name, lang), n_examples)
            content_rng = _rng(seed, "content", task.name, lang)
            content = [_content(task, i, content_rng) for i in range(n_examples)]
            for c, cond in enumerate(conditions):
                shift = _rng(seed, "condition", task.name, lang, cond).standard_normal(n_examples)
                difficulty = base if cond == "clean" else 0.8 * base + 0.6 * shift
                noise = _rng(seed, "system", index, train_seed, task.name, lang, cond).standard_normal(n_examples)
                latent = 0.8 * difficulty + 0.6 * noise
                drop = 0.0 if cond == "clean" else 0.015 * c
                correct = latent < np.quantile(latent, min(max(skill - drop, 0.05), 0.95))
                rng = _rng(seed, "records", index, train_seed, task.name, lang, cond)
                records = [{"id": ident, **body, **_prediction(task, body, bool(ok), rng), "attrs": attr}
                           for ident, body, ok, attr in zip(ids, content, correct, attrs, strict=True)]
                unit = Unit(task.name, lang, task.split, cond)
                extra = dict(meta)
                if cond != "clean":
                    extra["change"] = {"n_examples": n_examples, "frac_examples_changed": 0.5,
                                       "frac_words_changed": 0.05 * c, "mean_char_edit_distance": 1.5 * c}
                fp = fingerprint(model=run["submission"]["weights_sha256"], task=meta["task_config"],
                                 unit=str(unit))
                store.write_unit(unit, records, fp, extra)
    if results:
        write_results(store, run, model_signature)
    store.release()
    return store
