"""Real text in languages the sample sentences do not cover, for the perturbation tests.

In order of preference: the language's words from the MUSE dictionary in the shared data (file order,
roughly by frequency), else the native strings of its glibc locale definition (day and month names,
yes/no, country and language names in ``/usr/share/i18n/locales``, written by the locale maintainers;
Debian's ``locales`` package), else (Javanese only, which has neither) a few sentences written here.
Word lists become retrieval examples of ``WORDS_PER_LINE`` words; the short glibc lists are repeated
under distinct ids so that rates can be measured (each example gets its own random draws).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from perturbations.text import WORD_RE
from tests.perturbations.test_perturb_data import DATA

LOCALES = Path("/usr/share/i18n/locales")
GLIBC = {"az": "az_AZ", "gu": "gu_IN", "kk": "kk_KZ", "mr": "mr_IN", "my": "my_MM", "pa": "pa_IN", "te": "te_IN",
         "ur": "ur_PK", "wo": "wo_SN", "yo": "yo_NG", "ka": "ka_GE", "ml": "ml_IN"}
JAVANESE = ("Aku seneng mangan sega goreng karo adhiku", "Omahku ana ing desa cedhak kali",
            "Bapak lagi lunga menyang sawah esuk iki", "Ibu tuku sayuran lan iwak ing pasar",
            "Sugeng enjing matur nuwun sanget")
WORDS_PER_LINE = 12
WORDS = re.compile(f"{WORD_RE.pattern}(?: {WORD_RE.pattern})*")
SECTION = re.compile(r"^(LC_TIME|LC_MESSAGES|LC_ADDRESS)\n(.*?)^END \1", re.S | re.M)
ADDRESS_KEYS = ("country_name", "lang_name")
LATIN_LOCALES = ("az", "wo", "yo")
ENGLISH = {"am", "pm", "yes", "no"}  # LC_TIME/LC_MESSAGES values some locales leave in English


def glibc_strings(lang: str) -> list[str]:
    """Native-language strings of ``lang``'s glibc locale (empty if the locale file is absent)."""
    path = LOCALES / GLIBC.get(lang, "-")
    if not path.is_file():
        return []
    out: list[str] = []
    for name, body in SECTION.findall(path.read_text(encoding="utf-8", errors="replace")):
        lines = body.splitlines()
        if name == "LC_ADDRESS":
            lines = [line for line in lines if line.split()[:1] and line.split()[0] in ADDRESS_KEYS]
        for raw in re.findall(r'"([^"]*)"', "\n".join(lines)):
            text = re.sub(r"<U([0-9A-Fa-f]{4,5})>", lambda m: chr(int(m.group(1), 16)), raw)
            latin_ok = lang in LATIN_LOCALES and text.lower() not in ENGLISH
            if WORDS.fullmatch(text) and (not text.isascii() or latin_ok) and text not in out:
                out.append(text)
    return out


def muse_words(lang: str, n: int) -> list[str]:
    path = DATA / "muse" / f"en-{lang}.txt"
    if not path.is_file():
        return []
    out: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2 and parts[1] != parts[0] and parts[1] not in out:
                out.append(parts[1])
                if len(out) >= n:
                    break
    return out


def word_list_task(lang: str, n: int) -> tuple[list[dict], str, list[str]]:
    """(examples, task type, fields) of real words in ``lang`` (see module docstring)."""
    words = muse_words(lang, n * WORDS_PER_LINE)
    if words:
        lines = [" ".join(words[i:i + WORDS_PER_LINE]) for i in range(0, len(words), WORDS_PER_LINE)]
        source = "muse"
    else:
        strings = glibc_strings(lang) or (list(JAVANESE) if lang == "jv" else [])
        if not strings:
            pytest.fail(f"no real text for claimed language {lang!r}")
        line = " ".join(strings)
        lines = [line] * max(1, min(n, 2000 // max(len(line.split()), 1)))
        source = "glibc" if lang != "jv" else "written"
    return ([{"id": f"{source}-{lang}-{i}", "source": line} for i, line in enumerate(lines[:n])], "retrieval",
            ["source"])
