"""How each language is typed: an input model turns a word into keystrokes and keystrokes back into text.

Typos (:mod:`perturbations.typos`) edit keystrokes, so a slip looks the way it would on screen:

* ``layout:<name>`` (every script with a national layout, :mod:`perturbations.layouts`): one key per
  character; a result is kept only if its grapheme clusters stay well-formed (:mod:`perturbations.graphemes`).
* ``dubeolsik`` (ko): jamo keystrokes on the 2-set layout, recomposed by the IME automaton
  (:mod:`perturbations.hangul`).
* ``romaji-ime`` (ja): kana as romaji keys on US QWERTY, converted back by IME rules; kanji are kept
  (:mod:`perturbations.kana`).
* ``pinyin-ime`` (zh): one "key" per hanzi whose neighbours are its homophones, the candidates a pinyin IME
  lists for the same syllable (:mod:`perturbations.pinyin`); nothing is inserted.
"""

from __future__ import annotations

import re
from functools import cache

from perturbations import hangul, kana, pinyin
from perturbations.keyboards import layout_languages, layout_source, neighbours
from perturbations.text import char_class as char_set

LETTER = re.compile(r"[a-z]")


class InputModel:
    """Keystrokes of a word and the text they produce (see module docstring)."""

    source: str = ""
    identity: bool = True  # keys are the word's characters (grapheme checks apply)
    inserts: bool = True  # a neighbouring key can be hit as well

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.table = self.build()
        self.prefilter = char_set(self.table)  # .search: could a word hold an editable key?

    def build(self) -> dict[str, str]:
        raise NotImplementedError

    def keys(self, word: str) -> list[str] | None:
        return list(word)

    def render(self, keys: list[str]) -> str | None:
        return "".join(keys)

    def editable(self, key: str) -> bool:
        return True

    def near(self, key: str) -> str:
        return self.table.get(key, "")


class LayoutModel(InputModel):
    def __init__(self, lang: str) -> None:
        self.source = f"layout:{layout_source(lang)}"
        super().__init__(lang)

    def build(self) -> dict[str, str]:
        return neighbours(self.lang)

    def editable(self, key: str) -> bool:
        return True


class HangulModel(InputModel):
    source = "dubeolsik"
    identity = False

    def build(self) -> dict[str, str]:
        return hangul.key_neighbours()

    def __init__(self, lang: str) -> None:
        super().__init__(lang)
        self.prefilter = re.compile("[\uac00-\ud7a3\u3131-\u3163]")

    def keys(self, word: str) -> list[str] | None:
        keys = hangul.decompose(word)
        if not keys or hangul.compose(keys) != word:
            return None
        return keys

    def render(self, keys: list[str]) -> str | None:
        return hangul.compose(keys) if keys else None

    def editable(self, key: str) -> bool:
        return hangul.is_key(key)


MODE = "\x01"  # marker key: the kana run after it is hiragana (``\x01h``) or katakana (``\x01k``)
KEEP = "\x02"  # prefix of a character kept as it is (kanji, Latin, kana with no romaji spelling)


class RomajiModel(InputModel):
    source = "romaji-ime"
    identity = False

    def build(self) -> dict[str, str]:
        return {k: "".join(c for c in v if LETTER.fullmatch(c)) for k, v in neighbours("en").items()
                if LETTER.fullmatch(k)}

    def __init__(self, lang: str) -> None:
        super().__init__(lang)
        self.prefilter = re.compile("[\u3041-\u3096\u30a1-\u30f6]")

    def keys(self, word: str) -> list[str] | None:
        out: list[str] = []
        i = 0
        found = False
        while i < len(word):
            ch = word[i]
            if kana.is_hiragana(ch) or kana.is_katakana(ch):
                same = kana.is_katakana if kana.is_katakana(ch) else kana.is_hiragana
                j = i
                while j < len(word) and (same(word[j]) or word[j] == "ー"):
                    j += 1
                romaji = kana.romanize(kana.to_hiragana(word[i:j]))
                if romaji is None:
                    out += [KEEP + c for c in word[i:j]]
                else:
                    out.append(MODE + ("k" if kana.is_katakana(ch) else "h"))
                    out += list(romaji)
                    found = True
                i = j
            else:
                out.append(KEEP + ch)
                i += 1
        if not found or self.render(out) != word:
            return None
        return out

    def render(self, keys: list[str]) -> str | None:
        out: list[str] = []
        buffer: list[str] = []
        mode = "h"

        def flush() -> bool:
            if buffer:
                text = kana.kanaize("".join(buffer))
                if text is None:
                    return False
                out.append(kana.to_katakana(text) if mode == "k" else text)
                buffer.clear()
            return True

        for key in keys:
            if key.startswith(MODE):
                if not flush():
                    return None
                mode = key[1:]
            elif key.startswith(KEEP):
                if not flush():
                    return None
                out.append(key[1:])
            else:
                buffer.append(key)
        if not flush():
            return None
        return "".join(out) or None

    def editable(self, key: str) -> bool:
        return LETTER.fullmatch(key) is not None


class PinyinModel(InputModel):
    source = "pinyin-ime"
    inserts = False

    def build(self) -> dict[str, str]:
        return pinyin.homophone_table()

    def editable(self, key: str) -> bool:
        return "\u4e00" <= key <= "\u9fff"


SPECIAL: dict[str, type[InputModel]] = {"ko": HangulModel, "ja": RomajiModel, "zh": PinyinModel}


def model_languages() -> frozenset[str]:
    """Every language with an input model."""
    return layout_languages() | frozenset(SPECIAL)


@cache
def input_model(lang: str) -> InputModel:
    """The input model of ``lang`` (KeyError if it has none)."""
    if lang in SPECIAL:
        return SPECIAL[lang](lang)
    if lang in layout_languages():
        return LayoutModel(lang)
    raise KeyError(f"no input model for {lang!r}")
