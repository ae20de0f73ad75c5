"""Japanese kana typed through a romaji input method (the default of Microsoft IME, macOS and Mozc).

Kana are re-typed as the romaji keys an IME user presses (Hepburn spellings: し ``shi``, つ ``tsu``;
ん ``nn``; っ doubles the next consonant; small kana ``l``-prefixed; ー the minus key), and romaji
are converted back by the IME's rules: longest match, ``nn`` and ``n`` before a consonant -> ん, a
doubled consonant -> っ, and the Kunrei/Nihon-shiki spellings (``si``, ``tu``, ``hu``, ``zi``,
``sya``) accepted too. A key sequence that leaves letters unconverted is rejected, so a slip always
shows as kana (``ka`` -> ``ja``: か -> じゃ). Katakana runs stay katakana; kanji and other characters
are kept as they are (an IME would need the reading, which the text does not give).
"""

from __future__ import annotations

from functools import cache

ROWS = {"": "aiueo", "k": "かきくけこ", "s": "さしすせそ", "t": "たちつてと", "n": "なにぬねの", "h": "はひふへほ",
        "m": "まみむめも", "r": "らりるれろ", "g": "がぎぐげご", "z": "ざじずぜぞ", "d": "だぢづでど",
        "b": "ばびぶべぼ", "p": "ぱぴぷぺぽ"}
VOWELS = "aiueo"
IRREGULAR = {"し": "shi", "ち": "chi", "つ": "tsu", "ふ": "fu", "じ": "ji", "ぢ": "di", "づ": "du",
             "あ": "a", "い": "i", "う": "u", "え": "e", "お": "o", "や": "ya", "ゆ": "yu", "よ": "yo",
             "わ": "wa", "を": "wo", "ゔ": "vu", "ぁ": "la", "ぃ": "li", "ぅ": "lu", "ぇ": "le", "ぉ": "lo",
             "ゃ": "lya", "ゅ": "lyu", "ょ": "lyo", "ゎ": "lwa", "っ": "ltu"}
YOON_BASE = {"き": "ky", "ぎ": "gy", "に": "ny", "ひ": "hy", "び": "by", "ぴ": "py", "み": "my", "り": "ry",
             "し": "sh", "じ": "j", "ち": "ch"}
EXTRA = {"ふぁ": "fa", "ふぃ": "fi", "ふぇ": "fe", "ふぉ": "fo", "しぇ": "she", "じぇ": "je", "ちぇ": "che",
         "てぃ": "thi", "でぃ": "dhi", "うぃ": "wi", "うぇ": "we", "いぇ": "ye"}
INPUT_ALIASES = {"si": "し", "ti": "ち", "tu": "つ", "hu": "ふ", "zi": "じ", "sya": "しゃ", "syu": "しゅ",
                 "syo": "しょ", "tya": "ちゃ", "tyu": "ちゅ", "tyo": "ちょ", "zya": "じゃ", "zyu": "じゅ",
                 "zyo": "じょ", "jya": "じゃ", "jyu": "じゅ", "jyo": "じょ", "cya": "ちゃ", "cyu": "ちゅ",
                 "cyo": "ちょ", "xa": "ぁ", "xi": "ぃ", "xu": "ぅ", "xe": "ぇ", "xo": "ぉ", "xya": "ゃ",
                 "xyu": "ゅ", "xyo": "ょ", "xtu": "っ", "ltsu": "っ", "xtsu": "っ", "ca": "か", "cu": "く",
                 "co": "こ", "qa": "くぁ", "fu": "ふ", "la": "ぁ", "va": "ゔぁ", "vi": "ゔぃ", "ve": "ゔぇ",
                 "vo": "ゔぉ"}
KATA_OFFSET = 0x60  # katakana = hiragana + 0x60 for ぁ..ゖ


@cache
def kana_to_romaji() -> dict[str, str]:
    """Hiragana (one kana or a kana + small ゃゅょ/ぁぃぅぇぉ) -> the romaji an IME user types."""
    out: dict[str, str] = {}
    for consonant, kana in ROWS.items():
        if consonant:
            for k, v in zip(kana, VOWELS, strict=True):
                out[k] = consonant + v
    out |= IRREGULAR
    for base, onset in YOON_BASE.items():
        for small, v in zip("ゃゅょ", "auo", strict=True):
            out[base + small] = onset + v
    out |= EXTRA
    return out


@cache
def romaji_to_kana() -> dict[str, str]:
    """Romaji -> hiragana, every spelling the IME accepts (longest first when matching)."""
    out = {r: k for k, r in kana_to_romaji().items() if k != "っ"}
    out |= INPUT_ALIASES
    out["n'"] = "ん"
    return out


def is_hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u3096"


def is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30f6"


def to_hiragana(text: str) -> str:
    return "".join(chr(ord(c) - KATA_OFFSET) if is_katakana(c) else c for c in text)


def to_katakana(text: str) -> str:
    return "".join(chr(ord(c) + KATA_OFFSET) if is_hiragana(c) else c for c in text)


def romanize(run: str) -> str | None:
    """Romaji keys typing a hiragana run (None if a kana has no spelling)."""
    table = kana_to_romaji()
    out: list[str] = []
    i = 0
    geminate = False
    while i < len(run):
        if run[i] == "っ":
            geminate = True
            i += 1
            continue
        if run[i] == "ん":
            piece = "nn"
            i += 1
        elif run[i] == "ー":
            piece = "-"
            i += 1
        else:
            piece = table.get(run[i:i + 2]) or table.get(run[i])
            if piece is None:
                return None
            i += 2 if run[i:i + 2] in table else 1
        if geminate:
            piece = (piece[0] + piece) if piece[0] not in VOWELS + "n-" else "ltu" + piece
            geminate = False
        out.append(piece)
    if geminate:
        out.append("ltu")
    return "".join(out)


def kanaize(keys: str) -> str | None:
    """Hiragana an IME makes of romaji ``keys`` (None if letters would be left unconverted)."""
    table = romaji_to_kana()
    out: list[str] = []
    i = 0
    n = len(keys)
    while i < n:
        ch = keys[i]
        if ch == "-":
            out.append("ー")
            i += 1
            continue
        if ch == "n" and i + 1 < n and keys[i + 1] == "n":
            out.append("ん")
            i += 2
            continue
        if ch not in VOWELS and ch != "n" and i + 1 < n and keys[i + 1] == ch:
            out.append("っ")
            i += 1
            continue
        for size in (4, 3, 2, 1):
            piece = table.get(keys[i:i + size])
            if piece is not None:
                out.append(piece)
                i += size
                break
        else:
            if ch == "n" and (i + 1 == n or keys[i + 1] not in VOWELS + "y"):
                out.append("ん")
                i += 1
                continue
            return None
    return "".join(out)
