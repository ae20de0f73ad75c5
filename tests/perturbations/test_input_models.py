"""Input models on real text: layouts cover their scripts, the Korean automaton, romaji and pinyin IMEs,
and grapheme rules that keep every typo well-formed (Indic, Thai, Myanmar, Arabic, Hangul)."""

from __future__ import annotations

import random
import unicodedata

import pytest

from perturbations import graphemes, hangul, kana, pinyin
from perturbations.inputs import input_model
from perturbations.keyboards import layout_for, neighbours
from perturbations.layouts import INDIC_BLOCKS
from perturbations.params import parse_params
from perturbations.text import WORD_RE
from perturbations.typos import CharDelete, CharInsert, CharSwap, KeyboardTypo
from tests.perturbations.test_perturb_data import rows, text_task, texts_of, xnli

LATIN = ("de", "fr", "es", "pt", "it", "pl", "lt", "ro", "az", "tr", "hu", "vi", "yo")
LAYOUT_LANGS = sorted(set(INDIC_BLOCKS) | {"ar", "fa", "ur", "he", "el", "ka", "th", "my", "ru", "uk", "bg", "kk", "de",
                                           "fr", "es", "pt", "it", "pl", "lt", "ro", "az", "tr", "hu", "vi", "yo"})


def _words(lang: str, n: int = 300) -> list[str]:
    examples, _, fields = text_task(lang, n)
    return [w for e in examples for t in texts_of(e, fields) for w in WORD_RE.findall(t)]


@pytest.mark.data
@pytest.mark.parametrize("lang", LAYOUT_LANGS)
def test_layout_types_the_letters_of_real_text(lang: str) -> None:
    """The layout is the script's: nearly every letter of real text in ``lang`` (and every mark, outside
    Latin script, where accents are typed with dead keys) is a key, or a base key's accented letter."""
    table = neighbours(lang)
    latin = lang in LATIN
    letters = [c for w in _words(lang) for c in w if unicodedata.category(c)[0] == "L" or not latin]
    covered = sum(c in table or unicodedata.normalize("NFD", c)[0] in table for c in letters)
    assert len(letters) > 100 and covered / len(letters) >= 0.9, (lang, covered / len(letters))
    layout = layout_for(lang)
    assert layout is not None
    on_board = {c for row in layout.rows + (layout.shift or ("",)) for c in row} - set(layout.modifiers)
    for ch, near in table.items():  # keys of one layer of one board: neighbours are mutual
        assert ch not in near
        if ch in on_board or lang in INDIC_BLOCKS:
            for other in near:
                assert ch in table[other], (lang, ch, other)


@pytest.mark.parametrize("lang", sorted(INDIC_BLOCKS))
def test_inscript_moves_to_each_script_block(lang: str) -> None:
    base = INDIC_BLOCKS[lang]
    table = neighbours(lang)
    assert len(table) > 40
    assert all(base <= ord(c) < base + 0x80 for c in table), lang
    ka = chr(base + 0x15)  # KA sits on the K key in every InScript layout
    assert unicodedata.name(ka).endswith("LETTER KA") and ka in table


VALID = ["किताब", "क्षत्रिय", "தற்போது", "போகிறீர்கள்", "অ্যালবাম", "เกี่ยว", "น้ำ", "นํ้า", "မြန်မာ", "တနင်္ဂနွေ",
         "أَحْمَد", "việt", "vie\u0302\u0323t"]
INVALID = ["िक", "कि\u093f", "क\u094d\u093f", "आ\u093e", "\u094dक", "กเ", "ก่่", "่ก", "ั", "မ္", "\u064eب", "ب\u064e\u064e",
           "\u0301e"]


@pytest.mark.parametrize("word", VALID)
def test_well_formed_words(word: str) -> None:
    assert graphemes.well_formed(word)


@pytest.mark.parametrize("word", INVALID)
def test_dangling_marks_are_rejected(word: str) -> None:
    assert not graphemes.well_formed(word)


def _independent_check(word: str) -> bool:
    """A second, category-based check: no mark first, no virama or vowel sign after a vowel sign or virama
    (unless the pair composes), no Thai leading vowel last, no Myanmar stacker last."""
    if unicodedata.category(word[0])[0] == "M" or "\u0e40" <= word[-1] <= "\u0e44" or word[-1] == "\u1039":
        return False
    for a, b in zip(word, word[1:], strict=False):
        na, nb = unicodedata.name(a, ""), unicodedata.name(b, "")
        if ("VOWEL SIGN" in na or "VIRAMA" in na) and ("VOWEL SIGN" in nb or "VIRAMA" in nb) and "0900" <= f"{ord(a):04X}" < "0E00":
            if len(unicodedata.normalize("NFC", a + b)) != 1:
                return False
        if a == b and unicodedata.category(a)[0] == "M":
            return False
    return True


SCRIPT_SAMPLES = ["ta", "hi", "bn", "te", "ml", "gu", "pa", "mr", "th", "my", "ar", "fa", "ur", "ko", "he", "el", "ka"]


@pytest.mark.data
@pytest.mark.parametrize("lang", SCRIPT_SAMPLES)
@pytest.mark.parametrize("cls", [KeyboardTypo, CharInsert, CharDelete, CharSwap])
def test_typos_never_leave_a_dangling_mark(lang: str, cls: type) -> None:
    step = cls(parse_params(cls.Params, {"rate": 0.25, "unit": "char", "languages": [lang]}, cls.units))
    words = _words(lang, 200)
    rng = random.Random(3)
    changed = 0
    for word in words:
        new = step.perturb(word, rng, lang)
        assert new and " " not in new and WORD_RE.fullmatch(new), (word, new)
        if new != word:
            changed += 1
            if graphemes.well_formed(word):
                assert graphemes.well_formed(new), (word, new)
            if _independent_check(word):
                assert _independent_check(new), (word, new)
    assert changed > len(words) // 10


def test_hangul_automaton() -> None:
    assert hangul.compose(list("ㅎㅏㄴㅏ")) == "하나"
    assert hangul.compose(list("ㄱㅏㅂㅅㅇㅣ")) == "값이"
    assert hangul.compose(list("ㄱㅏㅂㅅㅣ")) == "갑시"  # the second half of a compound final moves on
    assert hangul.compose(list("ㅎㅏㅏ")) == "하ㅏ"  # a vowel with no initial stays a bare jamo
    assert hangul.compose(list("ㄱㅗㅏㄴ")) == "관" and hangul.decompose("관") == list("ㄱㅗㅏㄴ")
    assert hangul.decompose("ABC") is None


@pytest.mark.data
def test_hangul_round_trip_on_real_korean() -> None:
    words = {w for e in xnli("ko", 300) for w in WORD_RE.findall(e["text_a"] + " " + e["text_b"])}
    hangul_words = [w for w in words if all("가" <= c <= "힣" for c in w)]
    assert len(hangul_words) > 1000
    assert all(hangul.compose(hangul.decompose(w) or []) == w for w in hangul_words)


def test_romaji_ime() -> None:
    assert kana.romanize("ちょっと") == "chotto" and kana.kanaize("chotto") == "ちょっと"
    assert kana.kanaize("shinnbunn") == "しんぶん" and kana.kanaize("sinbun") == "しんぶん"
    assert kana.kanaize("ja") == "じゃ" and kana.kanaize("ks") is None
    model = input_model("ja")
    keys = model.keys("ベスト")
    assert keys is not None and model.render(keys) == "ベスト"
    assert model.keys("学生") is None  # no kana: nothing to re-type


@pytest.mark.data
def test_romaji_round_trip_on_real_japanese() -> None:
    model = input_model("ja")
    words = [w for w in _words("ja", 400) if any(kana.is_hiragana(c) or kana.is_katakana(c) for c in w)]
    typed = [w for w in words if model.keys(w) is not None]
    assert len(words) > 500 and len(typed) / len(words) > 0.95


def test_pinyin_homophones() -> None:
    table = pinyin.homophone_table()
    assert {"地", "得"} <= set(table["的"]) and "再" in table["在"] and {"她", "它"} <= set(table["他"])
    gb, _ = pinyin.common_sets()
    assert len(gb) == 3755 and set(table["的"]) <= gb
    assert pinyin.toneless("lǜ") == "lv" and pinyin.toneless("zhōng") == "zhong"


@pytest.mark.data
def test_pinyin_typos_on_real_chinese_are_same_syllable() -> None:
    from pypinyin.pinyin_dict import pinyin_dict

    step = KeyboardTypo(parse_params(KeyboardTypo.Params, {"rate": 0.2, "unit": "char", "languages": ["zh"]}, ("char",)))
    rng = random.Random(5)
    swaps = 0
    for row in rows("xcopa/zh.test.jsonl", 200):
        text = row["premise"]
        new = step.perturb(text, rng, "zh")
        assert len(new) == len(text)
        for a, b in zip(text, new, strict=True):
            if a != b:
                swaps += 1
                read = {pinyin.toneless(r) for r in pinyin_dict[ord(b)].split(",")}
                assert pinyin.toneless(pinyin_dict[ord(a)].split(",")[0]) in read
    assert swaps > 100
