"""Every shipped condition, on real sentences of every language it claims: it fires, realised rates
match the asked rates, token tasks stay aligned, QA answers stay at their (recomputed) offsets."""

from __future__ import annotations

import math

import pytest

import perturbations as P
from perturbations.base import WordPerturbation
from perturbations.codeswitch import UNSPACED
from tests.perturbations.test_perturb_data import qa, shipped_cases, suite, text_task, texts_of, tokens

N_TEXT = 250
CASES = shipped_cases()


def _tolerance(rate: float, n: int) -> float:
    return 4 * math.sqrt(rate * (1 - rate) / max(n, 1)) + 0.02


def _word_rate(step: WordPerturbation, lang: str, clean: list[str], perturbed: list[str]) -> tuple[int, int]:
    """(eligible words, changed eligible words), measured by comparing the texts word by word."""
    eligible = changed = 0
    for a, b in zip(clean, perturbed, strict=True):
        words_b = [w for w, _ in step.word_eligibility(b, lang)]
        flags = step.word_eligibility(a, lang)
        assert len(words_b) == len(flags), "a word-level edit created or removed word boundaries"
        for (word, ok), new in zip(flags, words_b, strict=True):
            if ok:
                eligible += 1
                changed += word != new
            else:
                assert word == new, f"ineligible word {word!r} was changed to {new!r}"
    return eligible, changed


@pytest.mark.parametrize(("suite_name", "cond_name", "lang"), CASES)
def test_fires_at_the_asked_rate(suite_name: str, cond_name: str, lang: str) -> None:
    cond = suite(suite_name).condition(cond_name)
    examples, task_type, fields = text_task(lang, N_TEXT)
    out, stats = P.perturb_examples(examples, task_type=task_type, fields=fields, lang=lang, condition=cond)
    assert stats.n_examples == len(examples) and stats.frac_examples_changed > 0
    assert [e["id"] for e in out] == [e["id"] for e in examples]
    for summary in stats.steps:
        assert summary["eligible"] > 0
        assert abs(summary["realised_rate"] - summary["rate"]) <= _tolerance(summary["rate"], summary["eligible"])
    claiming = [s for s in cond.steps if s.claims(lang)]
    if len(claiming) == 1 and claiming[0].params.unit == "word" and not (
            claiming[0].name == "codeswitch" and lang in UNSPACED):  # unspaced text is segmented: test_coverage.py checks it
        step = claiming[0]
        clean = [t for e in examples for t in texts_of(e, fields)]
        new = [t for e in out for t in texts_of(e, fields)]
        eligible, changed = _word_rate(step, lang, clean, new)  # type: ignore[arg-type]
        assert eligible == stats.steps[0]["eligible"]
        assert abs(changed / eligible - step.params.rate) <= _tolerance(step.params.rate, eligible)


@pytest.mark.parametrize(("suite_name", "cond_name", "lang"), [c for c in CASES if tokens(c[2], 1)])
def test_token_tasks_keep_one_token_per_token(suite_name: str, cond_name: str, lang: str) -> None:
    cond = suite(suite_name).condition(cond_name)
    examples = tokens(lang, 150)
    assert examples is not None
    out, stats = P.perturb_examples(examples, task_type="token_classification", fields=["tokens"], lang=lang,
                                    condition=cond, strict=False)
    for before, after in zip(examples, out, strict=True):
        assert len(after["tokens"]) == len(before["tokens"]) == len(after["tags"])
        assert after["tags"] == before["tags"]
        for old, new in zip(before["tokens"], after["tokens"], strict=True):
            assert new and len(new.split()) == len(old.split()), (old, new)
    if sum(s["expected"] for s in stats.steps) >= 10:
        assert stats.frac_examples_changed > 0


@pytest.mark.parametrize(("suite_name", "cond_name", "lang"), [c for c in CASES if c[2] in ("ar", "de", "ko")])
def test_qa_answers_stay_at_recomputed_offsets(suite_name: str, cond_name: str, lang: str) -> None:
    cond = suite(suite_name).condition(cond_name)
    examples = qa(lang, 120)
    assert examples is not None
    out, stats = P.perturb_examples(examples, task_type="qa", fields=["context", "question"], lang=lang,
                                    condition=cond, strict=False)
    moved = 0
    for before, after in zip(examples, out, strict=True):
        answers = after["answers"]
        assert answers["text"] == before["answers"]["text"]
        for text, start in zip(answers["text"], answers["answer_start"], strict=True):
            assert after["context"][start:start + len(text)] == text
        moved += answers["answer_start"] != before["answers"]["answer_start"]
    assert stats.frac_examples_changed > 0
    if cond_name in ("char_noise", "inflection_any", "mixed"):  # length-changing edits happen before answers
        assert moved > 0
