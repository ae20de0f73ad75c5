"""Coverage of the XTREME-R languages by the typo and code-switching suites, on real data of every script:
goals met, unspaced text segmented for code-switching, diacritics fully stripped, outputs deterministic."""

from __future__ import annotations

import math
import random
import re

import pytest

import perturbations as P
from perturbations.codeswitch import UNSPACED
from perturbations.diacritics import strip_table
from perturbations.graphemes import well_formed
from perturbations.text import WORD_RE, WORD_SPLIT
from tests.perturbations.test_perturb_data import DATA, suite, text_task, texts_of, tokens

LATIN = re.compile("[A-Za-z]+")
LANGUAGES = ("af ar az bg bn de el en es et eu fa fi fr gu he hi ht hu id it ja jv ka kk ko lt ml mr ms my nl pa pl "
             "pt qu ro ru sw ta te th tl tr uk ur vi wo yo zh").split()


def test_languages_match_the_task_table() -> None:
    from harness.spec.languages import load_languages

    assert sorted(load_languages().codes()) == sorted(LANGUAGES)


@pytest.mark.data
def test_coverage_goals() -> None:
    typos = suite("typos")
    assert sum(typos.claims(lang) for lang in LANGUAGES) >= 48
    assert typos.condition("keyboard").languages >= set(LANGUAGES)
    with_dictionary = {lang for lang in LANGUAGES if (DATA / "muse" / f"en-{lang}.txt").is_file()}
    assert len(with_dictionary) == 32
    switch = suite("codeswitch")
    assert switch.condition("to_english").languages == with_dictionary
    assert switch.condition("to_third_language").languages == with_dictionary | {"en"}
    for name in ("mixed", "adversarial"):
        cond = suite(name).conditions[0]
        assert {lang for lang in LANGUAGES if cond.claims(lang)} == set(LANGUAGES)


@pytest.mark.data
def test_mixed_and_adversarial_inflection_steps_use_the_inflection_suite_coverage() -> None:
    """Every any-feature inflection step of the combined suites claims what inflection_any claims (same
    sources), and the case/number attack what inflection_case_number claims."""
    inflection = suite("inflection")
    widest = inflection.condition("inflection_any")
    assert len(widest.languages) >= 20
    steps = [s for s in suite("mixed").condition("mixed").steps if s.name == "inflection"]
    steps += [s for c in suite("adversarial").conditions for s in c.steps
              if s.name == "inflection" and c.name != "greedy_case_number"]
    assert len(steps) == 4
    for step in steps:
        assert step.languages == widest.languages
        assert (step.params.change, step.params.sources) == (widest.steps[0].params.change,
                                                             widest.steps[0].params.sources)
    case_number = suite("adversarial").condition("greedy_case_number").steps[0]
    reference = inflection.condition("inflection_case_number").steps[0]
    assert case_number.languages == reference.languages
    assert (case_number.params.change, case_number.params.sources) == (reference.params.change,
                                                                       reference.params.sources)


def _tolerance(rate: float, n: int) -> float:
    return 4 * math.sqrt(rate * (1 - rate) / max(n, 1)) + 0.02


@pytest.mark.data
@pytest.mark.parametrize("lang", sorted(UNSPACED))
def test_unspaced_code_switching_segments_real_text(lang: str) -> None:
    cond = suite("codeswitch").condition("to_english")
    step = cond.steps[0]
    examples, task_type, fields = text_task(lang, 250)
    clean = [t for e in examples for t in texts_of(e, fields)]
    pieces = eligible = 0
    for text in clean:
        parts = WORD_SPLIT.split(text)
        for run in parts[1::2]:
            segments = step.segment(run, lang)  # type: ignore[attr-defined]
            assert "".join(segments) == run
            assert all(well_formed(s) for s in segments if step.options(s, lang)), segments
            pieces += len(segments)
            eligible += sum(bool(step.options(s, lang)) for s in segments)
    assert eligible / pieces > 0.3, (lang, eligible, pieces)  # zh: Simplified text meets Traditional MUSE
    out, stats = P.perturb_examples(examples, task_type=task_type, fields=fields, lang=lang, condition=cond)
    summary = stats.steps[0]
    assert 0.8 * eligible <= summary["eligible"] <= eligible  # less the pieces right after a switched one
    assert abs(summary["realised_rate"] - 0.2) <= _tolerance(0.2, summary["eligible"])
    switched = [w for e in out for t in texts_of(e, fields) for w in LATIN.findall(t)]
    original = [w for t in clean for w in LATIN.findall(t)]
    assert len(switched) - len(original) >= 0.95 * summary["edited"]  # each switched word stands on its own


@pytest.mark.data
@pytest.mark.parametrize("lang", suite("typos").condition("no_diacritics").languages if DATA.is_dir() else [])
def test_no_diacritics_leaves_none(lang: str) -> None:
    cond = suite("typos").condition("no_diacritics")
    examples, task_type, fields = text_task(lang, 200)
    out, stats = P.perturb_examples(examples, task_type=task_type, fields=fields, lang=lang, condition=cond)
    table = strip_table(lang)
    left = {c for e in out for t in texts_of(e, fields) for c in t if c in table}
    assert not left, (lang, sorted(left)[:10])
    assert stats.steps[0]["edited"] == stats.steps[0]["eligible"] > 0


SCRIPTS = [("typos", "keyboard", lang) for lang in ("zh", "ja", "th", "my", "ko", "hi", "ta", "el", "he", "ka", "fa")]
SCRIPTS += [("typos", "char_noise", lang) for lang in ("th", "my", "bn", "ar", "ko", "ja", "zh")]
SCRIPTS += [("codeswitch", "to_english", lang) for lang in ("zh", "th", "ja", "hi", "el")]


@pytest.mark.data
@pytest.mark.parametrize(("suite_name", "cond_name", "lang"), SCRIPTS)
def test_deterministic_across_orders_and_chunks(suite_name: str, cond_name: str, lang: str) -> None:
    cond = suite(suite_name).condition(cond_name)
    examples, task_type, fields = text_task(lang, 120)

    def run(batch: list[dict]) -> dict[str, dict]:
        out, _ = P.perturb_examples(batch, task_type=task_type, fields=fields, lang=lang, condition=cond, strict=False)
        return {e["id"]: e for e in out}

    first = run(examples)
    assert any(first[e["id"]] != e for e in examples)
    shuffled = examples[:]
    random.Random(2).shuffle(shuffled)
    assert run(shuffled) == first
    chunked: dict[str, dict] = {}
    for i in range(0, len(examples), 17):
        chunked |= run(examples[i:i + 17])
    assert chunked == first


@pytest.mark.data
@pytest.mark.parametrize(("cond_name", "lang"), [("keyboard", "ta"), ("char_noise", "ta"), ("keyboard", "ko"),
                                                  ("char_noise", "ar")])
def test_tagged_tokens_stay_aligned_and_well_formed(cond_name: str, lang: str) -> None:
    cond = suite("typos").condition(cond_name)
    examples = tokens(lang, 300)
    assert examples is not None
    out, stats = P.perturb_examples(examples, task_type="token_classification", fields=["tokens"], lang=lang,
                                    condition=cond)
    assert stats.frac_examples_changed > 0
    for before, after in zip(examples, out, strict=True):
        assert after["tags"] == before["tags"] and len(after["tokens"]) == len(before["tokens"])
        for old, new in zip(before["tokens"], after["tokens"], strict=True):
            assert len(WORD_RE.findall(old)) == len(WORD_RE.findall(new))
            for a, b in zip(WORD_RE.findall(old), WORD_RE.findall(new), strict=True):
                assert not well_formed(a) or well_formed(b), (a, b)
