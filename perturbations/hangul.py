"""Korean typed on the 2-set (Dubeolsik, KS X 5002) layout: syllables as keystrokes and back.

A Hangul syllable is decomposed into the keys that type it (compound vowels and finals take two keys:
ㅘ = ㅗ+ㅏ, ㄺ = ㄹ+ㄱ; tense consonants ㄲ ㄸ ㅃ ㅆ ㅉ and ㅒ ㅖ are one Shift key). :func:`compose` is the
input method's automaton (as in Windows' and macOS' 2-set IMEs): a consonant after a vowel becomes a final
while it can, a vowel after a final takes that final (or the second half of a compound final) as its
initial, and keys that form no syllable stay as compatibility jamo (``하ㅏ``). A mistyped key therefore
re-syllabifies the word the way it would on screen.
"""

from __future__ import annotations

from functools import cache

ROWS = ("", "ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔ", "ㅁㄴㅇㄹㅎㅗㅓㅏㅣ", "·ㅋㅌㅊㅍㅠㅜㅡ")  # KS X 5002 base layer
SHIFTED = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ", "ㅒ": "ㅐ", "ㅖ": "ㅔ"}
L_JAMO = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
V_JAMO = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
T_JAMO = ("", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ", "ㄿ", "ㅀ", "ㅁ", "ㅂ",
          "ㅄ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ")
CONSONANTS = frozenset(L_JAMO)
VOWEL_KEYS = frozenset("ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅛㅜㅠㅡㅣ")
COMPOUND_V = {"ㅘ": "ㅗㅏ", "ㅙ": "ㅗㅐ", "ㅚ": "ㅗㅣ", "ㅝ": "ㅜㅓ", "ㅞ": "ㅜㅔ", "ㅟ": "ㅜㅣ", "ㅢ": "ㅡㅣ"}
COMPOUND_T = {"ㄳ": "ㄱㅅ", "ㄵ": "ㄴㅈ", "ㄶ": "ㄴㅎ", "ㄺ": "ㄹㄱ", "ㄻ": "ㄹㅁ", "ㄼ": "ㄹㅂ", "ㄽ": "ㄹㅅ",
              "ㄾ": "ㄹㅌ", "ㄿ": "ㄹㅍ", "ㅀ": "ㄹㅎ", "ㅄ": "ㅂㅅ"}
JOIN_V = {v: k for k, v in COMPOUND_V.items()}
JOIN_T = {v: k for k, v in COMPOUND_T.items()}
FINALS = frozenset(T_JAMO[1:]) - set(COMPOUND_T)
KEYS = CONSONANTS | VOWEL_KEYS
BASE, LAST = 0xAC00, 0xD7A3


def is_key(ch: str) -> bool:
    return ch in KEYS


def decompose(word: str) -> list[str] | None:
    """The keystrokes typing ``word`` (None if it holds anything but Hangul syllables and jamo)."""
    keys: list[str] = []
    for ch in word:
        cp = ord(ch)
        if BASE <= cp <= LAST:
            li, rest = divmod(cp - BASE, 588)
            vi, ti = divmod(rest, 28)
            keys.append(L_JAMO[li])
            keys += COMPOUND_V.get(V_JAMO[vi], V_JAMO[vi])
            if ti:
                keys += COMPOUND_T.get(T_JAMO[ti], T_JAMO[ti])
        elif ch in KEYS:
            keys.append(ch)
        elif ch in COMPOUND_V:
            keys += COMPOUND_V[ch]
        elif ch in COMPOUND_T:
            keys += COMPOUND_T[ch]
        else:
            return None
    return keys


def _emit(out: list[str], lead: str, vowel: str, tail: str) -> None:
    if lead and vowel:
        out.append(chr(BASE + (L_JAMO.index(lead) * 21 + V_JAMO.index(vowel)) * 28 + T_JAMO.index(tail)))
    elif lead:
        out.append(lead)
    elif vowel:
        out.append(vowel)


def compose(keys: list[str]) -> str:
    """What a 2-set input method shows after ``keys`` (see module docstring)."""
    out: list[str] = []
    lead = vowel = tail = ""
    for key in keys:
        if key in CONSONANTS:
            if lead and vowel and not tail and key in FINALS:
                tail = key
            elif tail and tail + key in JOIN_T:
                tail = JOIN_T[tail + key]
            else:
                _emit(out, lead, vowel, tail)
                lead, vowel, tail = key, "", ""
        else:
            if tail:
                first, moved = (COMPOUND_T[tail][0], COMPOUND_T[tail][1]) if tail in COMPOUND_T else ("", tail)
                _emit(out, lead, vowel, first)
                lead, vowel, tail = moved, key, ""
            elif vowel and vowel + key in JOIN_V:
                vowel = JOIN_V[vowel + key]
            elif lead and not vowel:
                vowel = key
            else:
                _emit(out, lead, vowel, tail)
                lead, vowel, tail = "", key, ""
    _emit(out, lead, vowel, tail)
    return "".join(out)


@cache
def key_neighbours() -> dict[str, str]:
    """Jamo key -> neighbouring jamo keys (Shift keys use their base key's neighbours)."""
    from perturbations.keyboards import grid_neighbours

    base = grid_neighbours(ROWS)
    return {key: base.get(SHIFTED.get(key, key), "") for key in KEYS if base.get(SHIFTED.get(key, key))}
