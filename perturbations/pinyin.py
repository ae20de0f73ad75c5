"""Chinese typed through a pinyin input method: the wrong candidate of the right syllable.

Pinyin IMEs ignore tones, so a character's homophones are the characters listed for its toneless main
reading (pypinyin's character table: the first reading of the typed character, any reading of the
candidates; ``ü`` typed ``v``): 的 -> 得/地/德, 在 -> 再, 他 -> 她/它.
Candidates are limited to the characters an IME offers on its first pages, approximated by the
frequently used sets of the national standards: GB 2312-1980 level 1 (3,755 hanzi) for simplified text and
Big5 (CNS 11643) level 1 (5,401 hanzi) for traditional text; a character outside both gets none.
"""

from __future__ import annotations

import importlib.metadata
import unicodedata
from functools import cache

from perturbations.errors import PerturbationError


def _decode_all(encoding: str, lead: range, trail: range) -> list[str]:
    out = []
    for hi in lead:
        for lo in trail:
            try:
                ch = bytes((hi, lo)).decode(encoding)
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and unicodedata.category(ch) == "Lo":
                out.append(ch)
    return out


@cache
def common_sets() -> tuple[frozenset[str], frozenset[str]]:
    """(GB 2312 level-1 hanzi, Big5 level-1 hanzi)."""
    gb = _decode_all("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF))
    big5 = _decode_all("big5", range(0xA4, 0xC7), list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)))  # type: ignore[arg-type]
    return frozenset(gb), frozenset(big5[:5401])


def _pinyin_table() -> dict[int, str]:
    try:
        from pypinyin.pinyin_dict import pinyin_dict
    except ImportError:
        raise PerturbationError("the zh keyboard (pinyin IME) needs the pypinyin package: pip install pypinyin",
                                field="languages") from None
    return pinyin_dict


def toneless(reading: str) -> str:
    """``lǜ`` -> ``lv``, ``zhōng`` -> ``zhong``."""
    reading = reading.replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v").replace("ǚ", "v").replace("ǜ", "v")
    return "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))


@cache
def homophone_table() -> dict[str, str]:
    """Hanzi -> the characters of its frequency set that an IME lists for its main toneless reading (any
    of theirs: 的 ``de`` -> 得, 德 and 地, whose readings include ``de``), in code point order."""
    table = _pinyin_table()
    gb, big5 = common_sets()
    out: dict[str, str] = {}
    for chars in (gb, big5):
        by_sound: dict[str, list[str]] = {}
        main: dict[str, str] = {}
        for ch in sorted(chars):
            readings = table.get(ord(ch))
            if readings:
                sounds = list(dict.fromkeys(toneless(r) for r in readings.split(",")))
                main[ch] = sounds[0]
                for sound in sounds:
                    by_sound.setdefault(sound, []).append(ch)
        for ch, sound in main.items():
            near = "".join(c for c in by_sound[sound] if c != ch)
            if ch not in out and near:
                out[ch] = near
    return out


def version() -> str:
    try:
        return importlib.metadata.version("pypinyin")
    except importlib.metadata.PackageNotFoundError:
        return ""
