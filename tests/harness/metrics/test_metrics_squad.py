"""SQuAD / MLQA exact match and F1 on cases worked out by hand, Latin and non-Latin scripts."""

from __future__ import annotations

import pytest

from harness.metrics import METRICS
from harness.metrics.squad import best_scores, normalize_tokens


@pytest.mark.parametrize(
    ("text", "norm", "lang", "tokens"),
    [
        ("The Eiffel Tower!", "squad", "en", ["eiffel", "tower"]),  # article + ASCII punctuation
        ("«Москва»", "squad", "ru", ["«москва»"]),  # SQuAD drops ASCII punctuation only
        ("«Москва»", "mlqa", "ru", ["москва"]),  # MLQA drops Unicode punctuation (Pi/Pf) too
        ("die Hauptstadt Berlin", "mlqa", "de", ["hauptstadt", "berlin"]),
        ("el río, la ciudad", "mlqa", "es", ["río", "ciudad"]),
        ("2008年北京奥运会。", "mlqa", "zh", ["2008", "年", "北", "京", "奥", "运", "会"]),  # per character
        ("서울특별시。", "mlqa", "ko", ["서울특별시"]),  # ideographic full stop is punctuation (Po)
        ("서울특별시。", "squad", "ko", ["서울특별시。"]),
        # MLQA's Arabic rule replaces EVERY "ال" by a space, also inside words (official script behaviour):
        # "المدينة المنورة" -> " مدينة  منورة"; "الحال" -> " ح "
        ("المدينة المنورة", "mlqa", "ar", ["مدينة", "منورة"]),
        ("الحال", "mlqa", "ar", ["ح"]),
        ("المدينة المنورة", "squad", "ar", ["المدينة", "المنورة"]),
    ],
)
def test_normalization(text: str, norm: str, lang: str, tokens: list[str]) -> None:
    assert normalize_tokens(text, norm, lang) == tokens


@pytest.mark.parametrize(
    ("pred", "golds", "norm", "lang", "em", "f1"),
    [
        # boundary punctuation and a leading article vanish: exact
        ("the Eiffel Tower.", ["Eiffel Tower"], "squad", "en", 1.0, 1.0),
        # max over golds: second gold matches exactly
        ("Cuxhaven", ["at Cuxhaven on the coast", "Cuxhaven"], "squad", "en", 1.0, 1.0),
        # de: pred "hauptstadt berlin" vs gold "berlin": common 1, P 1/2, R 1 -> F1 2/3
        ("die Hauptstadt Berlin", ["Berlin"], "mlqa", "de", 0.0, 2 / 3),
        # zh per character: pred 北京大学 (4 chars) vs gold 北京 (2): P 2/4, R 2/2 -> F1 2/3
        ("北京大学", ["北京"], "mlqa", "zh", 0.0, 2 / 3),
        # zh with the same chars in another order still overlaps fully: F1 1, EM 0
        ("京北", ["北京"], "mlqa", "zh", 0.0, 1.0),
        # ar under MLQA: pred tokens {مدينة, منورة}, gold {مدينة}: P 1/2, R 1 -> 2/3; under SQuAD: no overlap
        ("المدينة المنورة", ["مدينة"], "mlqa", "ar", 0.0, 2 / 3),
        ("المدينة المنورة", ["مدينة"], "squad", "ar", 0.0, 0.0),
        # ko (TyDiQA scores with SQuAD rules): particle attached -> different token, F1 0
        ("서울특별시는", ["서울특별시"], "squad", "ko", 0.0, 0.0),
        ("서울특별시.", ["서울특별시"], "squad", "ko", 1.0, 1.0),
        # ru: case folding is Unicode-aware; F1 over 3 vs 2 tokens: P 2/3, R 1 -> 0.8
        ("МОСКВА", ["москва"], "squad", "ru", 1.0, 1.0),
        ("в городе Москва", ["городе Москва"], "squad", "ru", 0.0, 0.8),
        # empty prediction against a real answer, and no gold at all
        ("", ["Hamburg"], "squad", "en", 0.0, 0.0),
        ("Hamburg", [], "squad", "en", 0.0, 0.0),
    ],
)
def test_exact_match_and_f1(pred: str, golds: list[str], norm: str, lang: str, em: float, f1: float) -> None:
    got_em, got_f1 = best_scores(pred, golds, norm, lang)
    assert got_em == em
    assert got_f1 == pytest.approx(f1)


def test_metric_columns_and_task_score() -> None:
    records = [
        {"pred": "the Eiffel Tower", "gold": ["Eiffel Tower"], "norm": "squad", "language": "en"},  # 1, 1
        {"pred": "北京大学", "gold": ["北京"], "norm": "mlqa", "language": "zh"},  # 0, 2/3
        {"pred": "x", "gold": ["y"], "norm": "squad", "language": "en"},  # 0, 0
    ]
    stats = METRICS["em_f1"].stats(records)
    assert stats[:, 0].tolist() == [1.0, 0.0, 0.0]
    assert stats[:, 1].tolist() == pytest.approx([1.0, 2 / 3, 0.0])
    em = METRICS["exact_match"].score(stats)
    f1 = METRICS["f1"].score(stats)
    assert em == pytest.approx(100 / 3)
    assert f1 == pytest.approx(100 * (5 / 3) / 3)
    assert METRICS["em_f1"].score(stats) == pytest.approx((em + f1) / 2)
