"""Perturbed examples depend only on (seed, step, example id, field, variant): identical across calls,
processes, orders and chunk sizes; different for another seed or variant."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import perturbations as P
from perturbations.errors import PerturbationError
from tests.perturbations.test_perturb_data import DATA, ROOT, suite, text_task, tokens

CONDITIONS = [("typos", "keyboard", "tr"), ("typos", "char_noise", "hu"), ("typos", "no_diacritics", "de"),
              ("inflection", "inflection_any", "ar"), ("inflection", "inflection_case_number", "et"),
              ("codeswitch", "to_english", "ru"), ("codeswitch", "to_third_language", "fi"),
              ("mixed", "mixed", "tr")]


def _run(cond: P.Condition, lang: str, examples: list[dict], task_type: str, fields: list[str],
         **kwargs: object) -> dict[str, dict]:
    out, _ = P.perturb_examples(examples, task_type=task_type, fields=fields, lang=lang, condition=cond,
                                **kwargs)  # type: ignore[arg-type]
    return {e["id"]: e for e in out}


@pytest.mark.parametrize(("suite_name", "cond_name", "lang"), CONDITIONS)
def test_same_output_regardless_of_calls_order_and_chunks(suite_name: str, cond_name: str, lang: str) -> None:
    cond = suite(suite_name).condition(cond_name)
    examples, task_type, fields = text_task(lang, 200)
    first = _run(cond, lang, examples, task_type, fields)
    assert _run(cond, lang, examples, task_type, fields) == first
    shuffled = examples[:]
    random.Random(7).shuffle(shuffled)
    assert _run(cond, lang, shuffled, task_type, fields) == first
    chunked: dict[str, dict] = {}
    for size in (1, 7, 64):
        chunked.clear()
        for i in range(0, len(examples), size):
            chunked |= _run(cond, lang, examples[i:i + size], task_type, fields, strict=False)
        assert chunked == first
    reseeded = dataclasses.replace(cond, seed=cond.seed + 1)
    assert reseeded.signature() != cond.signature()
    if cond_name != "no_diacritics":  # stripping every diacritic involves no randomness
        assert _run(reseeded, lang, examples, task_type, fields) != first


def test_token_output_is_deterministic_too() -> None:
    cond = suite("mixed").condition("mixed")
    examples = tokens("fi", 200)
    assert examples is not None
    first = _run(cond, "fi", examples, "token_classification", ["tokens"])
    assert _run(cond, "fi", examples[::-1], "token_classification", ["tokens"]) == first


def test_variants_differ_and_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("seed: 5\nconditions:\n  kb:\n    variants: 2\n    steps:\n      - keyboard: {rate: 0.3}\n")
    cond = P.load_suite(str(path)).condition("kb")
    examples, task_type, fields = text_task("de", 100)
    v0 = _run(cond, "de", examples, task_type, fields)
    v1 = _run(cond, "de", examples, task_type, fields, variant=1)
    assert v0 != v1
    with pytest.raises(PerturbationError, match="variant"):
        _run(cond, "de", examples, task_type, fields, variant=2)


SCRIPT = """
import hashlib, json, sys
import perturbations as P
from perturbations.errors import PerturbationError
from tests.perturbations.test_perturb_data import suite, text_task
cond = suite(sys.argv[1]).condition(sys.argv[2])
examples, task_type, fields = text_task(sys.argv[3], 200)
out, _ = P.perturb_examples(examples, task_type=task_type, fields=fields, lang=sys.argv[3], condition=cond)
print(hashlib.sha256(json.dumps(out, ensure_ascii=False).encode()).hexdigest())
"""


def test_identical_in_a_fresh_process() -> None:
    for suite_name, cond_name, lang in (("typos", "char_noise", "tr"), ("codeswitch", "to_english", "de")):
        cond = suite(suite_name).condition(cond_name)
        examples, task_type, fields = text_task(lang, 200)
        out, _ = P.perturb_examples(examples, task_type=task_type, fields=fields, lang=lang, condition=cond)
        here = hashlib.sha256(json.dumps(out, ensure_ascii=False).encode()).hexdigest()
        env = dict(os.environ, PYTHONHASHSEED="123", XROBUST_SHARED_DATA=str(DATA))
        there = subprocess.run([sys.executable, "-c", SCRIPT, suite_name, cond_name, lang], cwd=ROOT, env=env,
                               capture_output=True, text=True, check=True).stdout.strip()
        assert there == here
