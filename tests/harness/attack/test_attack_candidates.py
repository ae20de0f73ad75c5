"""Candidate generators for attacks: each family's menu covers what its random edit draws, respects the random
suites' eligibility rules, and adversarial suite entries are validated."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from perturbations import REGISTRY, load_suite
from perturbations.base import WordPerturbation
from perturbations.candidates import CandidateGenerator, edit_budget
from perturbations.errors import PerturbationError
from perturbations.params import parse_params
from perturbations.suite import AttackParams
from tests.conftest import SHARED_DATA, shared_rows

FAMILIES = [("keyboard", {}), ("char_insert", {}), ("char_delete", {}), ("char_swap", {}), ("strip_diacritics", {}),
            pytest.param("inflection", {}, marks=pytest.mark.data),  # UniMorph and MUSE from the sample data
            pytest.param("codeswitch", {"into": ["en"]}, marks=pytest.mark.data),
            pytest.param("codeswitch", {"into": ["de", "ru"]}, marks=pytest.mark.data)]


def step(name: str, params: dict) -> WordPerturbation:
    cls = REGISTRY[name]
    perturbation = cls(parse_params(cls.Params, params, cls.units), resources_dir=SHARED_DATA)
    assert isinstance(perturbation, WordPerturbation)
    return perturbation


@pytest.mark.parametrize(("name", "params"), FAMILIES)
@pytest.mark.parametrize("lang", ["de", "tr", "ru"])
def test_candidates_cover_the_random_edits(name: str, params: dict, lang: str) -> None:
    family = step(name, params)
    if not family.claims(lang):
        pytest.skip(f"{name} does not claim {lang}")
    words = [w for row in shared_rows(f"udpos/{lang}.test.jsonl", 60) for w in row["tokens"]]
    options = family.options_for(lang)
    checked = 0
    for i, word in enumerate(words):
        opts = options(word)
        if not opts:
            continue
        menu = set(family.candidates(word, opts, lang))
        for seed in range(3):
            new = family.edit(word, opts, random.Random(10 * i + seed), lang)
            assert new == word or new in menu, f"{name}: {word!r} -> {new!r} not among its candidates"
        checked += 1
    assert checked > 10


@pytest.mark.data
def test_generator_follows_eligibility_rules() -> None:
    suite = load_suite("adversarial", resources_dir=SHARED_DATA)
    cond = suite.condition("greedy")
    gen = CandidateGenerator(cond.steps, "de", max_candidates=3, seed=cond.seed)
    example = {"id": "e1", "text_a": "Der Hund-Besitzer sah 3Katzen und ging nach Hause.", "text_b": "Er ging."}
    words = gen.slots(example, ["text_a", "text_b"], token_task=False)
    assert words.n_words == 10
    by_word = {s.word: s for s in words.slots}
    for glued in ("Hund", "Besitzer", "Katzen"):  # lexical families skip words glued to hyphens and digits
        assert glued in by_word and {f for f, _ in by_word[glued].options} == {"keyboard"}
    assert by_word["Hund"].group == by_word["Besitzer"].group  # one whitespace word: one edit at most
    for slot in words.slots:
        families = [f for f, _ in slot.options]
        assert all(families.count(f) <= 3 for f in set(families))  # max_candidates per family
        assert len({new for _, new in slot.options}) == len(slot.options)
    again = CandidateGenerator(cond.steps, "de", max_candidates=3, seed=cond.seed).slots(example, ["text_a", "text_b"],
                                                                                        token_task=False)
    assert again.slots == words.slots  # seeded: same candidates every time
    first = words.slots[0]
    assert words.render({0: "X"})["text_a"] == example["text_a"].replace(first.word, "X", 1)


@pytest.mark.data
def test_token_slots_one_group_per_token() -> None:
    cond = load_suite("adversarial", resources_dir=SHARED_DATA).condition("greedy")
    gen = CandidateGenerator(cond.steps, "tr", max_candidates=2, seed=1)
    row = shared_rows("udpos/tr.test.jsonl", 5)[4]
    example = {"id": "t", "tokens": row["tokens"], "tags": row["pos_tags"]}
    words = gen.slots(example, ["tokens"], token_task=True)
    assert words.n_words == len(row["tokens"])
    assert {s.group for s in words.slots} <= set(range(len(row["tokens"])))
    for slot in words.slots:
        for _, new in slot.options:
            assert new and not any(ch.isspace() for ch in new)
            out = words.render({words.slots.index(slot): new})["tokens"]
            assert len(out) == len(row["tokens"]) and example["tokens"] == row["tokens"]


def test_edit_budget() -> None:
    assert [edit_budget(0.15, n) for n in (0, 1, 6, 7, 20, 21)] == [1, 1, 1, 1, 3, 3]
    assert edit_budget(1.0, 5) == 5


@pytest.mark.parametrize(("body", "field", "message"), [
    ("attack: {search: beam}\n    steps: [keyboard: {}]", "conditions.a.attack.search", "search must be"),
    ("attack: {budget: 0}\n    steps: [keyboard: {}]", "conditions.a.attack.budget", "budget must be"),
    ("attack: {max_queries: 1}\n    steps: [keyboard: {}]", "conditions.a.attack.max_queries", ">= 2"),
    ("attack: {}\n    variants: 3\n    steps: [keyboard: {}]", "conditions.a.variants", "variants must be 1"),
    ("attack: {}\n    steps: [keyboard: {unit: char}]", "conditions.a.steps[0]", "unit: word"),
    ("attack: {beam: 3}\n    steps: [keyboard: {}]", "conditions.a.attack.beam", "unknown parameter"),
    ("attack: {qa_success: bleu}\n    steps: [keyboard: {}]", "conditions.a.attack.qa_success", "qa_success must be"),
])
def test_bad_attack_blocks_name_file_and_field(tmp_path: Path, body: str, field: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"seed: 1\nconditions:\n  a:\n    {body}\n")
    with pytest.raises(PerturbationError) as err:
        load_suite(path)
    assert err.value.field == field and message in str(err.value)


@pytest.mark.data
def test_attack_conditions_are_typed_and_signed() -> None:
    suite = load_suite("adversarial", resources_dir=SHARED_DATA)
    greedy = suite.condition("greedy")
    assert greedy.adversarial and isinstance(greedy.attack, AttackParams) and greedy.attack.search == "greedy"
    for task_type in ("pair_classification", "token_classification", "qa", "multiple_choice", "retrieval",
                      "candidate_retrieval"):
        assert greedy.applies_to(task_type)
    assert not greedy.applies_to("a_type_without_attacks")
    assert greedy.to_dict()["attack"]["budget"] == 0.15
    assert greedy.signature() != suite.condition("random").signature()
    typos = load_suite("typos").condition("keyboard")
    assert not typos.adversarial and "attack" not in typos.to_dict()


@pytest.mark.data
def test_search_filters_drop_real_word_typos_and_foreign_lemma_forms() -> None:
    cond = load_suite("adversarial", resources_dir=SHARED_DATA).condition("greedy")
    loose = CandidateGenerator(cond.steps, "de", max_candidates=1000, seed=1)
    strict = CandidateGenerator(cond.steps, "de", max_candidates=1000, seed=1, real_word_typos=False,
                                inflection_prefix=2)
    assert ("keyboard", "mir") in loose.word_options("mit", False, "x", "w")
    assert ("keyboard", "mir") not in strict.word_options("mit", False, "x", "w")
    assert ("keyboard", "mkt") in strict.word_options("mit", False, "x", "w")
    # de nouns inflect through german-nouns: the prefix filter keeps the forms sharing "Ma" with "Mann"
    forms = [new for family, new in strict.word_options("Mann", False, "x", "w") if family == "inflection"]
    assert forms and all(f.startswith("Ma") for f in forms)
    assert any(not new.startswith("Ma") for family, new in loose.word_options("Mann", False, "x", "w")
               if family == "inflection")  # Männer
