"""Throughput of the perturbation families on real XNLI-tr sentences, of feature-aware inflection per
morphological engine on real sentences of its language, and typos vs nlpaug's KeyboardAug.

    python benchmarks/perturb.py [--data-dir ../shared/data] [--sentences 4000] [--rate 0.1] [--no-engines]

Engines (``inflection_case_number``): pymorphy3 on XNLI-ru, german-nouns on XNLI-de, UniMorph on XNLI-tr,
Voikko, Vabamorf and Hunspell on Tatoeba fi/et/hu (each engine analyses a word type once; ``cold`` includes
those analyses, ``warm`` is the rate once every word type of the sample is cached).

Every family runs through ``perturb_examples`` (a fresh seeded RNG per example and field, change
statistics included). Table building (``prepare``) is timed separately; ``cold`` is the first pass
over the data (per-word lookups not yet memoised), ``warm`` the best of the later passes. nlpaug's
``KeyboardAug`` runs on the same sentences at the same per-word rate with one character per word,
once as a batch call and once re-seeding Python's global RNG per sentence (its only seeding hook).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perturbations import load_suite, perturb_examples  # noqa: E402
from perturbations.suite import Condition  # noqa: E402

FAMILIES = (("typos", "keyboard"), ("typos", "char_noise"), ("typos", "no_diacritics"),
            ("inflection", "inflection_any"), ("inflection", "inflection_case_number"), ("codeswitch", "to_english"),
            ("mixed", "mixed"))
ENGINE_LANGS = (("pymorphy3", "ru", "xnli"), ("german_nouns", "de", "xnli"), ("unimorph", "tr", "xnli"),
                ("voikko", "fi", "tatoeba"), ("vabamorf", "et", "tatoeba"), ("hunspell", "hu", "tatoeba"))


def load_pairs(data_dir: Path, sentences: int, lang: str = "tr") -> list[dict]:
    examples = []
    with (data_dir / "xnli" / f"{lang}.test.jsonl").open(encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            row = json.loads(line)
            examples.append({"id": f"xnli-{lang}-{i}", "text_a": row["sentence1"], "text_b": row["sentence2"],
                             "label": row["gold_label"]})
            if 2 * len(examples) >= sentences:
                break
    return examples


def load_sentences(data_dir: Path, sentences: int, lang: str) -> list[dict]:
    """Tatoeba sentences in ``lang`` as retrieval examples (one sentence each)."""
    examples = []
    with (data_dir / "tatoeba" / f"{lang}.test.jsonl").open(encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            row = json.loads(line)
            examples.append({"id": f"tatoeba-{lang}-{i}", "source": row["source_sentence"],
                             "target": row["target_sentence"]})
            if len(examples) >= sentences:
                break
    return examples


def time_condition(condition: Condition, examples: list[dict], repeats: int, lang: str = "tr",
                   task_type: str = "pair_classification", fields: tuple[str, ...] = ("text_a", "text_b"),
                   ) -> tuple[float, float, float]:
    """(prepare seconds, cold pass seconds, best warm pass seconds)."""
    start = time.perf_counter()
    for step in condition.steps:
        if step.claims(lang):
            step.prepare(lang)
    prepared = time.perf_counter() - start
    passes = []
    for _ in range(repeats):
        start = time.perf_counter()
        perturb_examples(examples, task_type=task_type, fields=list(fields), lang=lang, condition=condition,
                         strict=False)
        passes.append(time.perf_counter() - start)
    return prepared, passes[0], min(passes[1:] or passes)


def engine_rows(data_dir: Path, sentences: int, repeats: int) -> None:
    """Print feature-aware inflection throughput per engine on its language's real sentences."""
    condition = load_suite("inflection", resources_dir=data_dir).condition("inflection_case_number")
    print(f"\n{'engine':<13} {'lang':<5} {'sentences':>9} {'first call s':>12} {'cold sent/s':>12} {'warm sent/s':>12}")
    for engine, lang, source in ENGINE_LANGS:
        if source == "xnli":
            examples, task_type, fields = load_pairs(data_dir, sentences, lang), "pair_classification", ("text_a", "text_b")
            n = 2 * len(examples)
        else:
            examples, task_type, fields = load_sentences(data_dir, sentences, lang), "retrieval", ("source",)
            n = len(examples)
        start = time.perf_counter()  # engine load and dictionaries, on a one-example pass
        perturb_examples(examples[:1], task_type=task_type, fields=list(fields), lang=lang, condition=condition,
                         strict=False)
        first = time.perf_counter() - start
        _, cold, warm = time_condition(condition, examples, repeats, lang, task_type, fields)
        print(f"{engine:<13} {lang:<5} {n:>9} {first:>12.2f} {n / cold:>12,.0f} {n / warm:>12,.0f}")


def compare_nlpaug(condition: Condition, examples: list[dict], rate: float, repeats: int) -> dict[str, float] | None:
    """Best seconds of ours (keyboard), nlpaug batch and nlpaug re-seeded per sentence, interleaved
    so that background load hits all three alike; None without nlpaug."""
    try:
        import nlpaug.augmenter.char as nac
    except ImportError:
        return None
    texts = [t for ex in examples for t in (ex["text_a"], ex["text_b"])]
    aug = nac.KeyboardAug(lang="tr", aug_word_p=rate, aug_char_min=1, aug_char_max=1,
                          include_special_char=False, include_numeric=False)
    aug.augment(texts[:10])
    best = {"ours": float("inf"), "nlpaug": float("inf"), "nlpaug_seeded": float("inf")}
    for _ in range(repeats):
        start = time.perf_counter()
        perturb_examples(examples, task_type="pair_classification", fields=["text_a", "text_b"], lang="tr",
                         condition=condition)
        best["ours"] = min(best["ours"], time.perf_counter() - start)
        start = time.perf_counter()
        aug.augment(texts)
        best["nlpaug"] = min(best["nlpaug"], time.perf_counter() - start)
        start = time.perf_counter()
        for i, text in enumerate(texts):
            random.seed(i)
            aug.augment(text)
        best["nlpaug_seeded"] = min(best["nlpaug_seeded"], time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sentences", type=int, default=4000, help="XNLI-tr sentences (both sides of pairs)")
    parser.add_argument("--rate", type=float, default=0.1, help="per-word rate for the typo comparison")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-engines", action="store_true", help="skip the per-engine inflection rows")
    args = parser.parse_args(argv)
    examples = load_pairs(args.data_dir, args.sentences)
    n = 2 * len(examples)
    print(f"{n} XNLI-tr sentences from {args.data_dir}")
    print(f"{'family':<12} {'condition':<22} {'prepare s':>9} {'cold sent/s':>12} {'warm sent/s':>12}")
    keyboard = None
    for suite_name, cond_name in FAMILIES:
        condition = load_suite(suite_name, resources_dir=args.data_dir).condition(cond_name)
        if cond_name == "keyboard":
            step = condition.steps[0]
            step = type(step)(dataclasses.replace(step.params, rate=args.rate))
            condition = keyboard = dataclasses.replace(condition, steps=(step,))
        prepared, cold, warm = time_condition(condition, examples, args.repeats)
        print(f"{suite_name:<12} {cond_name:<22} {prepared:>9.2f} {n / cold:>12,.0f} {n / warm:>12,.0f}")
    assert keyboard is not None
    if not args.no_engines:
        engine_rows(args.data_dir, args.sentences, args.repeats)
    best = compare_nlpaug(keyboard, examples, args.rate, max(args.repeats, 5))
    if best is None:
        print("nlpaug not installed: no comparison")
        return 0
    print(f"\ntypos at rate {args.rate}/word, one character per word, best of {max(args.repeats, 5)} interleaved runs:")
    print(f"  ours (keyboard, fresh seeded RNG per example+field) {n / best['ours']:>10,.0f} sent/s")
    print(f"  nlpaug KeyboardAug, batch call                      {n / best['nlpaug']:>10,.0f} sent/s")
    print(f"  nlpaug KeyboardAug, random.seed per sentence        {n / best['nlpaug_seeded']:>10,.0f} sent/s")
    print(f"typo ratio ours / nlpaug batch: {best['nlpaug'] / best['ours']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
