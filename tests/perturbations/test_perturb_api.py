"""Suite loading and its errors, the public API contract, diffs, cross-lingual pairs, policies."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

import perturbations as P
from perturbations import hangul
from perturbations.diacritics import StripDiacritics, StripParams
from perturbations.errors import PerturbationError
from perturbations.text import WORD_RE
from tests.perturbations.test_perturb_data import DATA, rows, suite, tatoeba, xcopa, xnli

STEP = "seed: 1\nconditions:\n  c:\n    steps:\n      - {step}\n"


def _suite_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("step", "field", "message"), [
    ("typo: {rate: 0.1}", "conditions.c.steps[0]", "unknown perturbation 'typo'"),
    ("keyboard: {rate: 0.1, ratee: 2}", "conditions.c.steps[0].keyboard.ratee", "unknown parameter 'ratee'"),
    ("keyboard: {rate: 1.5}", "conditions.c.steps[0].keyboard.rate", "rate must be in (0, 1]"),
    ("keyboard: {rate: fast}", "conditions.c.steps[0].keyboard.rate", "expected a number"),
    ("keyboard: {unit: sentence}", "conditions.c.steps[0].keyboard.unit", "unit must be one of"),
    ("inflection: {unit: char}", "conditions.c.steps[0].inflection.unit", "unit must be one of word"),
    ("keyboard: {languages: [xx]}", "conditions.c.steps[0].keyboard.languages", "unsupported language 'xx'"),
    ("inflection: {change: [color]}", "conditions.c.steps[0].inflection.change", "change must be"),
    ("inflection: {change: [case], sources: [simplemma]}", "conditions.c.steps[0].inflection.sources",
     "need the engine or unimorph source"),
    ("inflection: {change: [case], languages: [en]}", "conditions.c.steps[0].inflection.languages",
     "no forms of one lemma differing only in case"),
    ("codeswitch: {languages: [sw]}", "conditions.c.steps[0].codeswitch.languages", "missing resource file"),
    ("codeswitch: {into: [sw]}", "conditions.c.steps[0].codeswitch.into", "missing resource file"),
    ("inflection: {sources: [unimorph], unimorph_dir: nowhere}", "conditions.c.steps[0].inflection.unimorph_dir",
     "resource folder not found"),
])
@pytest.mark.data
def test_bad_step_names_file_and_field(tmp_path: Path, step: str, field: str, message: str) -> None:
    path = _suite_file(tmp_path, STEP.format(step=step))
    with pytest.raises(PerturbationError) as err:
        P.load_suite(path, resources_dir=DATA)
    text = str(err.value)
    assert path in text and f"field '{field}'" in text and message in text
    assert "\n" not in text


@pytest.mark.parametrize(("body", "field"), [
    ("conditions:\n  c:\n    steps: [{keyboard: {}}]\n", "seed"),
    ("seed: 1\nconditions: {}\n", "conditions"),
    ("seed: 1\nextra: 2\nconditions:\n  c:\n    steps: [{keyboard: {}}]\n", "extra"),
    ("seed: 1\nconditions:\n  c:\n    steps: []\n", "conditions.c.steps"),
    ("seed: 1\nconditions:\n  c:\n    variants: 0\n    steps: [{keyboard: {}}]\n", "conditions.c.variants"),
    ("seed: 1\nconditions:\n  Bad Name:\n    steps: [{keyboard: {}}]\n", "conditions.Bad Name"),
    ("seed: 1\nconditions:\n  c:\n    step: [{keyboard: {}}]\n", "conditions.c.step"),
])
def test_bad_suite_structure(tmp_path: Path, body: str, field: str) -> None:
    path = _suite_file(tmp_path, body)
    with pytest.raises(PerturbationError, match=f"field '{field}'"):
        P.load_suite(path, resources_dir=DATA)


@pytest.mark.data
def test_resources_needed_and_env_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XROBUST_RESOURCES", raising=False)
    with pytest.raises(PerturbationError, match="no resources_dir was given"):
        P.load_suite("codeswitch")
    with pytest.raises(PerturbationError, match="unknown suite 'nope'"):
        P.load_suite("nope")
    assert P.load_suite("typos").conditions  # typos read no resource files
    monkeypatch.setenv("XROBUST_RESOURCES", str(DATA))
    assert P.load_suite("codeswitch").condition("to_english").claims("fi")


def test_condition_contract() -> None:
    cond = suite("typos").condition("keyboard")
    again = P.load_suite("typos").condition("keyboard")
    assert cond.signature() == again.signature() and len(cond.signature()) == 12
    record = json.loads(json.dumps(cond.to_dict()))
    assert record["seed"] == cond.seed and record["steps"][0]["params"]["rate"] == 0.1
    assert record["variants"] == 1 and "layouts" in record["steps"][0]["resources"]
    assert cond.claims("fi") and cond.claims("zh") and not cond.claims("sv")  # sv: not an XTREME-R language
    resources = suite("inflection").condition("inflection_any").to_dict()["steps"][0]["resources"]
    assert "unimorph/fin.tsv" in resources and "simplemma" in resources


def test_unclaimed_language_raises_and_runner_can_check_first() -> None:
    cond = suite("codeswitch").condition("to_english")
    examples = xnli("sw", 20)
    assert not cond.claims("sw")
    with pytest.raises(PerturbationError, match="does not claim language 'sw'"):
        P.perturb_examples(examples, task_type="pair_classification", fields=["text_a"], lang="sw", condition=cond)


def test_claimed_language_that_changes_nothing_raises() -> None:
    cond = suite("codeswitch").condition("to_english")
    korean_as_finnish = tatoeba("ko", 50)
    with pytest.raises(PerturbationError, match="claims language 'fi' but changed nothing"):
        P.perturb_examples(korean_as_finnish, task_type="retrieval", fields=["source"], lang="fi", condition=cond)
    out, stats = P.perturb_examples(korean_as_finnish, task_type="retrieval", fields=["source"], lang="fi",
                                    condition=cond, strict=False)
    assert out == korean_as_finnish and stats.frac_examples_changed == 0
    assert P.perturb_examples([], task_type="retrieval", fields=["source"], lang="fi", condition=cond)[0] == []


def test_returns_new_dicts_and_leaves_other_fields_alone() -> None:
    cond = suite("mixed").condition("mixed")
    examples = xcopa("it", 80)
    before = copy.deepcopy(examples)
    out, stats = P.perturb_examples(examples, task_type="multiple_choice", fields=["premise", "choices"], lang="it",
                                    condition=cond)
    assert examples == before
    assert all(a is not b for a, b in zip(examples, out, strict=True))
    for a, b in zip(examples, out, strict=True):
        assert (a["id"], a["question"], a["label"]) == (b["id"], b["question"], b["label"])
        assert len(b["choices"]) == 2
    assert any(a["choices"] != b["choices"] for a, b in zip(examples, out, strict=True))
    assert any(a["premise"] != b["premise"] for a, b in zip(examples, out, strict=True))
    assert set(stats.to_dict()) >= {"n_examples", "frac_examples_changed", "frac_words_changed",
                                    "mean_char_edit_distance"}
    assert stats.mean_char_edit_distance > 0 and 0 < stats.frac_words_changed < 1


def test_bad_calls() -> None:
    cond = suite("typos").condition("keyboard")
    examples = xnli("de", 5)
    with pytest.raises(PerturbationError, match="unknown task type"):
        P.perturb_examples(examples, task_type="nli", fields=["text_a"], lang="de", condition=cond)
    with pytest.raises(PerturbationError, match="cannot be perturbed"):
        P.perturb_examples(examples, task_type="pair_classification", fields=["label"], lang="de", condition=cond)
    with pytest.raises(PerturbationError, match="field 'text_c'"):
        P.perturb_examples(examples, task_type="pair_classification", fields=["text_c"], lang="de", condition=cond)


def test_mark_edits_and_diff_spans() -> None:
    clean, perturbed = "Ich habe einen Hund.", "Ich hbae einen Hunde."
    assert P.mark_edits(clean, perturbed) == "Ich [-habe-]{+hbae+} einen [-Hund.-]{+Hunde.+}"
    for a, b in (("a b c", "a c"), ("a c", "a b c"), (" x  y ", " x  z "), ("", "new"), ("same", "same")):
        spans = P.diff_spans(a, b)
        assert "".join(s.clean for s in spans) == a and "".join(s.perturbed for s in spans) == b
        assert all(a[s.clean_start:s.clean_end] == s.clean for s in spans)
        assert all(b[s.perturbed_start:s.perturbed_end] == s.perturbed for s in spans)
    assert [s.op for s in P.diff_spans("a b c", "a c")] == ["equal", "delete", "equal"]


def test_crosslingual_pairs_on_parallel_xnli() -> None:
    de, tr = xnli("de", 300), xnli("tr", 300)
    pairs = P.crosslingual_pairs(de, tr[::-1])
    assert [p["id"] for p in pairs] == [e["id"] for e in de]
    assert all(p["text_a"] == a["text_a"] and p["text_b"] == b["text_b"] for p, a, b in zip(pairs, de, tr, strict=True))
    with pytest.raises(PerturbationError, match="ids do not align"):
        P.crosslingual_pairs(de, tr[:-1])
    with pytest.raises(PerturbationError, match="labels differ"):
        P.crosslingual_pairs(de, [{**tr[0], "label": "x"}, *tr[1:]])


def test_diacritic_policy() -> None:
    step = StripDiacritics(StripParams())
    rng = random.Random(0)
    assert step.perturb("Işık şöyle ğüç İstanbul", rng, "tr") == "Isik soyle guc Istanbul"
    assert step.perturb("Größe Ärger", rng, "de") == "Große Arger"
    assert step.perturb("őrült űr", rng, "hu") == "orult ur"
    assert step.perturb("ёлка йод", rng, "ru") == "елка йод"
    assert step.perturb("أَحْمَد إلى", rng, "ar") == "احمد الى"


def test_korean_keyboard_typos_are_one_neighbouring_jamo_key_recomposed() -> None:
    cond = suite("typos").condition("keyboard")
    examples = tatoeba("ko", 200)
    out, stats = P.perturb_examples(examples, task_type="retrieval", fields=["source"], lang="ko", condition=cond)
    assert stats.frac_examples_changed > 0
    near = hangul.key_neighbours()
    resyllabified = 0
    for a, b in zip(examples, out, strict=True):
        for x, y in zip(WORD_RE.findall(a["source"]), WORD_RE.findall(b["source"]), strict=True):
            if x == y:
                continue
            kx, ky = hangul.decompose(x), hangul.decompose(y)
            assert kx is not None and ky is not None and len(kx) == len(ky)
            diff = [(p, q) for p, q in zip(kx, ky, strict=True) if p != q]
            assert len(diff) == 1 and diff[0][1] in near[diff[0][0]], (x, y)
            assert hangul.compose(ky) == y
            resyllabified += len(x) != len(y) or any(not "가" <= c <= "힣" for c in y)
    assert resyllabified > 0  # a consonant key hit for a vowel (or back) re-forms the syllables, as on screen


def test_lexical_swaps_keep_capitalisation_and_never_swap_to_the_same_word() -> None:
    for name, cond_name, lang in (("inflection", "inflection_any", "de"), ("codeswitch", "to_english", "tr")):
        cond = suite(name).condition(cond_name)
        examples = xnli(lang, 200)
        out, _ = P.perturb_examples(examples, task_type="pair_classification", fields=["text_a"], lang=lang,
                                    condition=cond)
        for a, b in zip(examples, out, strict=True):
            for x, y in zip(WORD_RE.findall(a["text_a"]), WORD_RE.findall(b["text_a"]), strict=True):
                if x != y:
                    assert x.lower() != y.lower()
                    if x[0].isupper():
                        assert y[0].isupper()


def test_unimorph_multiword_forms_never_inserted() -> None:
    cond = suite("inflection").condition("inflection_case_number")
    multi = {line.split("\t")[1] for line in (DATA / "unimorph" / "est.tsv").read_text("utf-8").splitlines()
             if " " in line.split("\t")[1]}
    assert multi
    examples = [{"id": str(i), "tokens": r["tokens"]} for i, r in enumerate(rows("udpos/et.test.jsonl", 300))]
    out, _ = P.perturb_examples(examples, task_type="token_classification", fields=["tokens"], lang="et",
                                condition=cond)
    assert not any(" " in t for e in out for t in e["tokens"])


def test_conditions_get_distinct_derived_seeds_unless_given(tmp_path: Path) -> None:
    seeds = [c.seed for c in suite("typos").conditions]
    assert len(set(seeds)) == len(seeds)
    path = _suite_file(tmp_path, "seed: 3\nconditions:\n  a:\n    seed: 42\n    steps: [{keyboard: {}}]\n"
                                 "  b:\n    steps: [{keyboard: {}}]\n")
    loaded = P.load_suite(path)
    assert loaded.condition("a").seed == 42 and loaded.condition("b").seed != 3
    assert P.load_suite(path).condition("b").seed == loaded.condition("b").seed
