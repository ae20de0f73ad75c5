"""Apply a condition to canonical examples, preserving labels, and report what changed.

What may be edited, and how, is the task type's :class:`~perturbations.policies.FieldPolicy`:

* ``token_classification``: one output token per input token (tags stay aligned);
* ``qa``: gold answer spans (widened to whole words) are never edited; the context around them is
  perturbed and every ``answer_start`` is recomputed;
* ``pair_classification`` / ``retrieval`` / ``candidate_retrieval``: the named text fields (e.g. the query;
  never the candidate pool or the relevance list) are perturbed;
* ``multiple_choice``: ``premise`` and/or each element of ``choices``.

A string field is perturbed as text; a list-of-strings field is perturbed as tokens for token tasks
and element-wise (``choices[0]``, ``choices[1]`` … each with its own RNG) otherwise.
"""

from __future__ import annotations

from typing import Any

from perturbations.base import Perturbation, Tally
from perturbations.errors import PerturbationError
from perturbations.policies import BUILTIN_TASK_TYPES, NEVER_PERTURBED, POLICIES, FieldPolicy
from perturbations.seeding import example_rng
from perturbations.stats import ChangeStats, StatsAccumulator, text_change, tokens_change
from perturbations.suite import Condition
from perturbations.text import WORD_RE

TASK_TYPES = BUILTIN_TASK_TYPES
MIN_EXPECTED_EDITS = 10.0  # below this, "nothing changed" may be chance (P <= e^-10 above it)

Steps = list[tuple[int, Perturbation, Tally]]


def _check_call(task_type: str, fields: list[str], condition: Condition, variant: int) -> FieldPolicy:
    if task_type not in POLICIES:
        raise PerturbationError(f"unknown task type {task_type!r} (known: {', '.join(POLICIES)})", field="task_type")
    if not fields:
        raise PerturbationError("no perturbable fields given", field="perturb_fields")
    bad = [f for f in fields if f in NEVER_PERTURBED]
    if bad:
        raise PerturbationError(f"field(s) {bad} carry labels or ids and cannot be perturbed", field="perturb_fields")
    if not 0 <= variant < condition.variants:
        raise PerturbationError(f"variant {variant} out of range: condition {condition.name!r} has "
                           f"{condition.variants} variant(s)", field="variant")
    return POLICIES[task_type]


def _run_text(text: str, steps: Steps, seed: int, ex_id: str, key: str, lang: str, variant: int) -> str:
    for i, step, tally in steps:
        text = step.apply(text, example_rng(seed, i, step.name, ex_id, key, variant), lang, tally)
    return text


def _run_tokens(tokens: list[str], steps: Steps, seed: int, ex_id: str, key: str, lang: str,
                variant: int) -> list[str]:
    out = list(tokens)
    for i, step, tally in steps:
        out = step.apply_tokens(out, example_rng(seed, i, step.name, ex_id, key, variant), lang, tally)
    if len(out) != len(tokens):
        raise RuntimeError(f"token count changed for example {ex_id!r}")  # a bug, never bad input
    return out


def _protected(context: str, answers: dict[str, Any], ex_id: str, field: str) -> list[tuple[int, int]]:
    """Merged character intervals covering every gold answer, widened to whole words."""
    spans = []
    texts, starts = answers.get("text", []), answers.get("answer_start", [])
    if len(texts) != len(starts):
        raise PerturbationError(f"example {ex_id!r}: {field}.text and {field}.answer_start differ in length",
                                field=field)
    for text, start in zip(texts, starts, strict=True):
        end = start + len(text)
        if context[start:end] != text:
            raise PerturbationError(f"example {ex_id!r}: answer {text!r} is not at offset {start} of the context",
                                    field=field)
        while start > 0 and WORD_RE.match(context[start - 1]):
            start -= 1
        while end < len(context) and WORD_RE.match(context[end]):
            end += 1
        spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _run_around_spans(example: dict, name: str, answers_field: str, steps: Steps, seed: int, lang: str,
                      variant: int) -> tuple[str, dict]:
    """Perturb text field ``name`` outside the answer spans; returns (text, answers with new offsets)."""
    context, answers, ex_id = example[name], example[answers_field], example["id"]
    keep = _protected(context, answers, ex_id, answers_field)
    original = _split_like(context, keep)
    pieces = list(original)
    for i, step, tally in steps:
        rng = example_rng(seed, i, step.name, ex_id, name, variant)
        pieces = [(t if locked or not t else step.apply(t, rng, lang, tally), locked) for t, locked in pieces]
    new_starts = {}
    old = new = 0
    for (text, locked), (orig, _) in zip(pieces, original, strict=True):
        if locked:
            new_starts[old] = new
        old += len(orig)
        new += len(text)
    out_ctx = "".join(t for t, _ in pieces)
    starts = []
    for text, start in zip(answers["text"], answers["answer_start"], strict=True):
        block = max(s for s, _ in keep if s <= start)
        moved = new_starts[block] + (start - block)
        if out_ctx[moved:moved + len(text)] != text:
            raise RuntimeError(f"example {ex_id!r}: answer offset lost")  # a bug, never bad input
        starts.append(moved)
    return out_ctx, {**answers, "answer_start": starts}


def _split_like(context: str, keep: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The context as alternating (text, protected) pieces."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for start, end in keep:
        out += [(context[pos:start], False), (context[start:end], True)]
        pos = end
    out.append((context[pos:], False))
    return out


def _step_summary(steps: Steps) -> list[dict[str, Any]]:
    return [{"step": i, "name": step.name, "rate": step.params.rate, "unit": step.params.unit,
             "eligible": t.eligible, "edited": t.edited, "expected": t.expected,
             "realised_rate": t.edited / t.eligible if t.eligible else 0.0} for i, step, t in steps]


def perturb_examples(examples: list[dict], *, task_type: str, fields: list[str], lang: str,
                     condition: Condition, variant: int = 0, strict: bool = True) -> tuple[list[dict], ChangeStats]:
    """Perturbed copies of ``examples`` (new dicts, same ids, other fields untouched) and change stats.

    Raises :class:`PerturbationError` if the condition does not claim ``lang`` (check
    ``condition.claims(lang)`` first), for unknown task types or missing fields, and (``strict``) if
    nothing changed although the condition claims ``lang``: always when no unit was eligible, and when
    at least ``MIN_EXPECTED_EDITS`` edits were expected. Pass whole evaluation sets (or decent chunks).
    """
    policy = _check_call(task_type, fields, condition, variant)
    if not examples:
        return [], ChangeStats(steps=[])
    if not condition.claims(lang):
        raise PerturbationError(f"condition {condition.suite}/{condition.name} does not claim language {lang!r} "
                           f"(claims: {', '.join(sorted(condition.languages))})", field="lang")
    steps: Steps = [(i, s, Tally()) for i, s in enumerate(condition.steps) if s.claims(lang)]
    for _, step, _ in steps:
        step.prepare(lang)
    seed = condition.seed
    acc = StatsAccumulator()
    out = []
    for example in examples:
        ex_id = example.get("id")
        if not isinstance(ex_id, str):
            raise PerturbationError(f"every example needs a string id, got {ex_id!r}", field="id")
        new = dict(example)
        parts = []
        changed = False
        for name in fields:
            value = example.get(name)
            answers_field = policy.answers_for(name)
            if answers_field is not None and isinstance(value, str):
                new[name], new[answers_field] = _run_around_spans(example, name, answers_field, steps, seed, lang,
                                                                  variant)
                parts.append(text_change(value, new[name]))
            elif isinstance(value, str):
                new[name] = _run_text(value, steps, seed, ex_id, name, lang, variant)
                parts.append(text_change(value, new[name]))
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                if policy.tokens:
                    new[name] = _run_tokens(value, steps, seed, ex_id, name, lang, variant)
                    parts.append(tokens_change(value, new[name]))
                else:
                    new[name] = [_run_text(v, steps, seed, ex_id, f"{name}[{k}]", lang, variant)
                                 for k, v in enumerate(value)]
                    parts += [text_change(a, b) for a, b in zip(value, new[name], strict=True)]
            else:
                raise PerturbationError(f"example {ex_id!r}: field {name!r} is missing or not text / a list of "
                                   "strings", field=name)
            changed = changed or new[name] != value
        acc.add_example(parts, changed)
        out.append(new)
    stats = acc.finish(_step_summary(steps))
    if strict and stats.frac_examples_changed == 0.0:
        eligible = sum(t.eligible for _, _, t in steps)
        expected = sum(t.expected for _, _, t in steps)
        if eligible == 0 or expected >= MIN_EXPECTED_EDITS:
            raise PerturbationError(
                f"condition {condition.suite}/{condition.name} claims language {lang!r} but changed nothing in "
                f"{len(examples)} examples (fields {fields}; {eligible} eligible units, {expected:.1f} edits "
                "expected)", field="lang")
    return out, stats
