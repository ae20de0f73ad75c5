"""Entity-level F1 (seqeval default mode) and token accuracy, on cases worked out by hand."""

from __future__ import annotations

import pytest

from harness.metrics import METRICS
from harness.metrics.tags import entities, entity_counts
from tests.conftest import shared_rows


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        # plain B-I chunk and a single-token chunk
        ("B-PER I-PER O B-LOC", {("PER", 0, 1), ("LOC", 3, 3)}),
        # a stray I-X after O starts a new entity (seqeval default, conlleval-style)
        ("O I-PER I-PER O", {("PER", 1, 2)}),
        # type change inside a run closes the chunk and opens another one
        ("B-PER I-LOC I-LOC", {("PER", 0, 0), ("LOC", 1, 2)}),
        # B after B: two entities of the same type
        ("B-ORG B-ORG I-ORG", {("ORG", 0, 0), ("ORG", 1, 2)}),
        # entity reaching the end of the sentence (closed by the implicit trailing O)
        ("O O B-LOC I-LOC", {("LOC", 2, 3)}),
        # entity at the very start; I-X right after B-Y of another type
        ("I-ORG B-PER I-ORG", {("ORG", 0, 0), ("PER", 1, 1), ("ORG", 2, 2)}),
        ("O O O", set()),
        ("", set()),
    ],
)
def test_entities_follow_seqeval_default_chunking(tags: str, expected: set) -> None:
    assert entities(tags.split()) == expected


def score(metric: str, records: list[dict]) -> float:
    m = METRICS[metric]
    return m.score(m.stats(records))


def test_entity_f1_hand_computed_over_sentences() -> None:
    # sentence 1: gold {PER(0,1), LOC(3,3)}, pred {PER(0,1), ORG(3,3)}      -> tp 1, fp 1, fn 1
    # sentence 2: gold {LOC(1,2)}, pred {LOC(1,1)} (boundary wrong)          -> tp 0, fp 1, fn 1
    # sentence 3: gold {PER(1,2)} from B-I, pred stray I-I (same span)       -> tp 1, fp 0, fn 0
    # totals tp 2, fp 2, fn 2 -> P = 2/4, R = 2/4, F1 = 50.0
    records = [
        {"gold": "B-PER I-PER O B-LOC".split(), "pred": "B-PER I-PER O B-ORG".split()},
        {"gold": "O B-LOC I-LOC".split(), "pred": "O B-LOC O".split()},
        {"gold": "O B-PER I-PER".split(), "pred": "O I-PER I-PER".split()},
    ]
    assert [entity_counts(r["gold"], r["pred"]) for r in records] == [(1, 1, 1), (0, 1, 1), (1, 0, 0)]
    assert score("entity_f1", records) == pytest.approx(50.0)
    assert score("entity_precision", records) == pytest.approx(50.0)
    assert score("entity_recall", records) == pytest.approx(50.0)
    # unequal P and R: one more predicted entity that is wrong -> P = 2/5, R = 2/4, F1 = 2*.4*.5/.9 = 44.44
    records.append({"gold": ["O"], "pred": ["B-PER"]})
    assert score("entity_f1", records) == pytest.approx(100 * 0.8 / 1.8)
    assert score("entity_precision", records) == pytest.approx(40.0)


def test_entity_f1_on_real_korean_and_arabic_rows(shared_data: object) -> None:
    ko = next(r for r in shared_rows("panx/ko.validation.jsonl") if "하산은" in r["tokens"])
    # gold: 가나 축구 국가대표팀과의 = ORG(3,5) and 이집트 축구 국가대표팀으로 = ORG(9,11)
    assert entities(ko["ner_tags"]) == {("ORG", 3, 5), ("ORG", 9, 11)}
    pred = list(ko["ner_tags"])
    pred[9] = "B-LOC"  # 이집트 as a location: ORG(9,11) becomes LOC(9,9) + stray-I ORG(10,11)
    assert entities(pred) == {("ORG", 3, 5), ("LOC", 9, 9), ("ORG", 10, 11)}
    assert entity_counts(ko["ner_tags"], pred) == (1, 2, 1)
    ar = shared_rows("panx/ar.validation.jsonl", 50)
    perfect = [{"gold": r["ner_tags"], "pred": r["ner_tags"]} for r in ar]
    assert score("entity_f1", perfect) == 100.0
    all_o = [{"gold": r["ner_tags"], "pred": ["O"] * len(r["ner_tags"])} for r in ar]
    assert score("entity_f1", all_o) == 0.0 and score("entity_recall", all_o) == 0.0


def test_token_accuracy_counts_words() -> None:
    # 3 of 4 words right, then 1 of 1: 4 / 5 = 80 (words weigh equally, not sentences)
    records = [{"gold": ["DET", "NOUN", "VERB", "PUNCT"], "pred": ["DET", "NOUN", "NOUN", "PUNCT"]},
               {"gold": ["NOUN"], "pred": ["NOUN"]}]
    assert score("token_accuracy", records) == pytest.approx(80.0)
    assert METRICS["token_accuracy"].stats(records).tolist() == [[3, 4], [1, 1]]
