"""National keyboard layouts as data: which character each physical key types, per language.

Each layout is four rows of keys on a staggered board (see :mod:`perturbations.keyboards`): the number
row from the backquote key, the top row from ``Q`` (the backslash key ends it where a layout puts a
letter there), the home row from ``A`` and the bottom row from the ISO ``<>`` key. ``·`` is a key that
types no letter (digits, punctuation, dead keys, several-code-point keys such as InScript ``क्ष``). A
layout lists its Shift layer when that layer is not just the upper case of the base layer; letters
typed with a dead key or AltGr on a base key's position (``MODIFIERS``) borrow that key's neighbours.

Sources (layouts as standardised, and as shipped in the operating systems under these names):

* ``us``: US QWERTY (ANSI INCITS 154-1988; Windows "US", X11 ``us``); ``us-intl`` adds dead-key accents
  (Windows "United States-International"), ``pl`` the AltGr letters of Windows "Polish (Programmers)".
* ``de``: German T1 (DIN 2137-1:2012); ``fi``: Finnish/Swedish (SFS 5966); ``et``: Estonian (EVS 8:2008);
  ``hu``: Hungarian 102-key QWERTZ (MSZ 7795-3); ``tr``: Turkish Q (Windows "Turkish Q").
* ``fr``: French AZERTY (Windows "French", NF Z71-300 legacy row); ``es``: Spanish (UNE 71100);
  ``pt-br``: Brazilian ABNT2 (NBR 10346); ``it``: Italian (Windows "Italian"); ``lt``: Lithuanian
  (LST 1582:2000, Windows "Lithuanian"); ``ro``: Romanian standard (SR 13392:2004); ``az``: Azerbaijani
  Latin (Windows "Azerbaijani Latin").
* ``ru``: Russian ЙЦУКЕН (GOST 6431-90, Windows "Russian"); ``uk``: Windows "Ukrainian (Enhanced)";
  ``bg``: Windows "Bulgarian (Phonetic Traditional)"; ``kk``: Kazakh (ST RK 2295-2013, Windows "Kazakh":
  ЙЦУКЕН with the Kazakh letters on the number row).
* ``el``: Greek 220 (ELOT 1284, Windows "Greek"); ``he``: Hebrew (SI 1452); ``ka``: Windows
  "Georgian (QWERTY)" (phonetic); ``ar``: Arabic 101 (Windows "Arabic (101)"); ``fa``: Persian
  (ISIRI 9147, Windows "Persian (Standard)"); ``ur``: CRULP Urdu Phonetic (Center for Research in Urdu
  Language Processing, v1.1).
* ``inscript``: InScript (IS 13194:1991 Annex, Windows "<script> INSCRIPT"): one key -> function map for
  every Indic script. It is written once for Devanagari; the other scripts take the character at the same
  offset of their Unicode block, since the blocks follow the ISCII order (U+0900 Devanagari, U+0980 Bengali,
  U+0A00 Gurmukhi, U+0A80 Gujarati, U+0B80 Tamil, U+0C00 Telugu, U+0D00 Malayalam); a key whose offset is
  unassigned in a script types nothing there, as on those layouts.
* ``th``: Thai Kedmanee (TIS 820-2538); ``my``: Myanmar3 / Windows "Myanmar" (Unicode keyboard).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Layout:
    """One physical layout: base rows, optional Shift rows, modifier letters, and whether it has case."""

    name: str
    rows: tuple[str, str, str, str]
    shift: tuple[str, str, str, str] | None = None
    modifiers: dict[str, str] = field(default_factory=dict)
    cased: bool = True


US = ("", "qwertyuiop··", "asdfghjkl··", "·zxcvbnm···")
RU = ("ё", "йцукенгшщзхъ", "фывапролджэ", "·ячсмитьбю·")
LATIN_ACCENTS = {c: b for b, cs in {"a": "áàâäã", "e": "éèêë", "i": "íìîï", "o": "óòôöõ", "u": "úùûü",
                                    "y": "ýÿ", "n": "ñ", "c": "ç"}.items() for c in cs}

INSCRIPT_DEVANAGARI = Layout(
    "inscript",
    ("ॊ···········ृ", "ौैाीूबहगदजड़ॉ", "ोे्िुपरकतचट", "·ॆंमनवलस··य"),
    shift=("ऒऍॅ········ःऋ", "औऐआईऊभङघधझढञऑ", "ओएअइउफऱखथछठ", "·ऎँणऩऴळशष·\u095f"),
    cased=False)

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (
    Layout("us", US),
    Layout("us-intl", US, modifiers=dict(LATIN_ACCENTS)),
    Layout("pl", US, modifiers={"ą": "a", "ć": "c", "ę": "e", "ł": "l", "ń": "n", "ó": "o", "ś": "s", "ź": "x",
                                "ż": "z"}),
    Layout("de", ("···········ß", "qwertzuiopü·", "asdfghjklöä·", "·yxcvbnm···")),
    Layout("fi", ("", "qwertyuiopå·", "asdfghjklöä·", "·zxcvbnm···"), modifiers={"š": "s", "ž": "z"}),
    Layout("et", ("", "qwertyuiopüõ", "asdfghjklöä·", "·zxcvbnm···"), modifiers={"š": "s", "ž": "z"}),
    Layout("hu", ("··········öüó", "qwertzuiopőú", "asdfghjkléáű", "íyxcvbnm···")),
    Layout("tr", ("", "qwertyuıopğü", "asdfghjklşi·", "·zxcvbnmöç·")),
    Layout("fr", ("··é····è·çà··", "azertyuiop··", "qsdfghjklmù·", "·wxcvbn····"),
           modifiers={"â": "a", "ê": "e", "î": "i", "ô": "o", "û": "u", "ë": "e", "ï": "i", "ü": "u", "ÿ": "y",
                      "œ": "o", "æ": "a", "ñ": "n", "ò": "o", "ì": "i", "á": "a", "í": "i", "ó": "o", "ú": "u",
                      "ŋ": "n"}),
    Layout("es", ("", "qwertyuiop··", "asdfghjklñ·ç", "·zxcvbnm···"),
           modifiers={"á": "a", "é": "e", "í": "i", "ó": "o", "ú": "u", "ü": "u", "à": "a", "è": "e", "ò": "o"}),
    Layout("pt-br", ("", "qwertyuiop··", "asdfghjklç··", "·zxcvbnm····"),
           modifiers={"á": "a", "à": "a", "â": "a", "ã": "a", "é": "e", "ê": "e", "í": "i", "ó": "o", "ô": "o",
                      "õ": "o", "ú": "u", "ü": "u"}),
    Layout("it", ("············ì", "qwertyuiopè·", "asdfghjklòàù", "·zxcvbnm···"),
           modifiers={"é": "è", "ó": "ò", "í": "ì", "ú": "ù", "á": "à"}),
    Layout("lt", ("·ąčęėįšųū···ž", "qwertyuiop··", "asdfghjkl··", "·zxcvbnm···")),
    Layout("ro", ("", "qwertyuiopăî", "asdfghjklșțâ", "·zxcvbnm···"), modifiers={"ş": "ș", "ţ": "ț"}),
    Layout("az", ("", "qüertyuiopöğ", "asdfghjklıə", "·zxcvbnmçş·")),
    Layout("ru", RU),
    Layout("uk", ("", "йцукенгшщзхї", "фівапролджє", "·ячсмитьбю·"), modifiers={"ґ": "г"}),
    Layout("bg", ("ч", "явертъуиопшщю", "асдфгхйкл··", "·зьцжбнм···"), modifiers={"ѝ": "и"}),
    Layout("kk", ("··әіңғ··үұқөһ", "йцукенгшщзхъ", "фывапролджэ", "·ячсмитьбю·"), modifiers={"ё": "е"}),
    Layout("el", ("", "·ςερτυθιοπ··", "ασδφγηξκλ··", "·ζχψωβνμ···"),
           modifiers={"ά": "α", "έ": "ε", "ή": "η", "ί": "ι", "ό": "ο", "ύ": "υ", "ώ": "ω", "ϊ": "ι", "ϋ": "υ",
                      "ΐ": "ι", "ΰ": "υ"}),
    Layout("he", ("", "··קראטוןםפ··", "שדגכעיחלךף·", "·זסבהנמצתץ·"), cased=False),
    Layout("ka", ("", "ქწერტყუიოპ··", "ასდფგჰჯკლ··", "·ზხცვბნმ···"),
           shift=("", "ქჭეღთყუიოპ··", "აშდფგჰჟკლ··", "·ძხჩვბნმ···"), cased=False),
    Layout("ar", ("ذ", "ضصثقفغعهخحجد", "شسيبلاتنمكط", "·ئءؤر·ىةوزظ"),
           modifiers={"أ": "ا", "إ": "ا", "آ": "ا"}, cased=False),
    Layout("fa", ("", "ضصثقفغعهخحجچ", "شسیبلاتنمکگ", "·ظطزرذدپو··"),
           modifiers={"ژ": "ز", "آ": "ا", "أ": "ا", "ئ": "ی", "ؤ": "و", "ة": "ه", "ي": "ی", "ك": "ک"},
           cased=False),
    Layout("ur", ("", "قوعرتےءیہپ··", "اسدفگحجکل··", "·زشچطبنم···"),
           modifiers={"ٹ": "ت", "ڑ": "ر", "ڈ": "د", "ص": "س", "ذ": "ز", "ژ": "ش", "ث": "چ", "ظ": "ط", "غ": "گ",
                      "ھ": "ح", "ض": "ج", "خ": "ک", "ں": "ن", "آ": "ا", "ئ": "ء", "ۃ": "ہ", "ۓ": "ے", "ه": "ہ",
                      "ي": "ی", "ك": "ک"}, cased=False),
    Layout("th", ("·ๅ··ภถุึคตจขช", "ๆไำพะัีรนยบลฃ", "ฟหกดเ้่าสวง", "·ผปแอิืทมใฝ"),
           shift=("······ู······", "··ฎฑธํ๊ณฯญฐ·ฅ", "ฤฆฏโฌ็๋ษศซ·", "···ฉฮฺ์·ฒฬฦ"), cased=False),
    Layout("my", ("", "ဆတနမအပကငသစဟဩ·", "ေျိ်ါ့ြုူး·", "·ဖထခလဘညာ···"),
           shift=("", "ဈဝဣ·ဤ·ဥ·ဿဏဧဪ·", "ဗှီ္ွံဲဒဓဂ·", "·ဇဌဃဠယဉဦ···"), cased=False),
    INSCRIPT_DEVANAGARI,
)}

INDIC_BLOCKS = {"hi": 0x0900, "mr": 0x0900, "bn": 0x0980, "pa": 0x0A00, "gu": 0x0A80, "ta": 0x0B80,
                "te": 0x0C00, "ml": 0x0D00}
INDIC_SCRIPTS = {0x0900: "Devanagari", 0x0980: "Bengali", 0x0A00: "Gurmukhi", 0x0A80: "Gujarati",
                 0x0B80: "Tamil", 0x0C00: "Telugu", 0x0D00: "Malayalam"}

# language -> layout name (Indic languages: ``inscript``, shifted to their block)
LANGUAGE_LAYOUT: dict[str, str] = {
    "en": "us", "af": "us", "id": "us", "ms": "us", "jv": "us", "tl": "us", "sw": "us", "yo": "us", "vi": "us",
    "nl": "us-intl", "pl": "pl", "de": "de", "fi": "fi", "et": "et", "hu": "hu", "tr": "tr", "fr": "fr",
    "ht": "fr", "wo": "fr", "es": "es", "eu": "es", "qu": "es", "pt": "pt-br", "it": "it", "lt": "lt",
    "ro": "ro", "az": "az", "ru": "ru", "uk": "uk", "bg": "bg", "kk": "kk", "el": "el", "he": "he", "ka": "ka",
    "ar": "ar", "fa": "fa", "ur": "ur", "th": "th", "my": "my",
} | {lang: "inscript" for lang in INDIC_BLOCKS}

NOTES = {
    "af": "typed on US QWERTY", "id": "typed on US QWERTY", "ms": "typed on US QWERTY",
    "jv": "typed on US QWERTY", "tl": "typed on US QWERTY", "sw": "typed on US QWERTY",
    "yo": "US QWERTY letters (tone and under-dot marks not keyed)",
    "vi": "US QWERTY letters (Telex/VNI tone keys not modelled)", "nl": "US-International",
    "ht": "French AZERTY", "wo": "French AZERTY", "eu": "Spanish layout", "qu": "Spanish layout",
}
