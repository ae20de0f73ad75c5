"""Feature-aware inflection on real rows: every swap re-analysed by the engine's own raw API (not the
library's feature mapping) as the same lemma and part of speech with only the requested features changed;
ambiguity, the simplemma stem rule, the missing-engine error and determinism."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

import perturbations as P
from perturbations.candidates import CandidateGenerator
from perturbations.errors import PerturbationError
from perturbations.lemmas import lemma_index
from perturbations.text import WORD_RE
from tests.perturbations.test_perturb_data import DATA, suite, tokens, xnli

MIN_RATE = 0.95
FEATURES = {"inflection_case_number": {"case", "number"}, "inflection_case": {"case"},
            "inflection_number": {"number"}, "inflection_tense": {"tense"}}
ONE_SIDED = {"gender", "person", "animacy"}  # agreement a form may lack (ru plural adjectives, past tense)


def _changed(a: dict[str, str], b: dict[str, str]) -> set[str]:
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k) and not (k in ONE_SIDED and (k not in a or k not in b))}


# --- raw analyses: word -> [(lemma, pos, {category: value})], each from the engine's own API ---------------
def _pymorphy(lang: str) -> Callable[[str], list]:
    import pymorphy3

    analyzer = pymorphy3.MorphAnalyzer(lang=lang)
    cats = ("case", "number", "gender", "person", "tense", "mood", "voice", "aspect", "animacy", "transitivity")

    def analyse(word: str) -> list:
        return [(p.normal_form, p.tag.POS, {c: getattr(p.tag, c) for c in cats if getattr(p.tag, c)})
                for p in analyzer.parse(word)]
    return analyse


def _voikko(lang: str) -> Callable[[str], list]:
    import libvoikko

    voikko = libvoikko.Voikko("fi")
    names = {"SIJAMUOTO": "case", "NUMBER": "number", "TENSE": "tense", "PERSON": "person"}
    skip = {"BASEFORM", "CLASS", "FSTOUTPUT", "STRUCTURE", "WORDBASES", "WORDIDS", "POSSIBLE_GEOGRAPHICAL_NAME"}
    return lambda word: [(a["BASEFORM"], a["CLASS"], {names.get(k, k): v for k, v in a.items() if k not in skip})
                         for a in voikko.analyze(word)]


ET_VERB = {"n": ("pres", "1sg"), "d": ("pres", "2sg"), "b": ("pres", "3sg"), "me": ("pres", "1pl"),
           "te": ("pres", "2pl"), "vad": ("pres", "3pl"), "sin": ("past", "1sg"), "s": ("past", "3sg"),
           "sime": ("past", "1pl"), "site": ("past", "2pl")}


def _vabamorf(lang: str) -> Callable[[str], list]:
    from estnltk.vabamorf.morf import Vabamorf

    vm = Vabamorf.instance()

    def analyse(word: str) -> list:
        out = []
        for a in vm.analyze([word], disambiguate=False, guess=False, propername=False)[0]["analysis"]:
            form = a["form"].split()
            if len(form) == 2:
                cats = {"number": form[0], "case": form[1]}
            elif a["form"] == "adt":
                cats = {"number": "sg", "case": "adt"}
            elif a["form"] in ET_VERB:
                tense, pn = ET_VERB[a["form"]]
                cats = {"tense": tense, "person": pn[0], "number": pn[1:]}
            elif a["form"] == "sid":  # 2sg or 3pl past
                out += [(a["lemma"], a["partofspeech"], {"tense": "past", "person": pn[0], "number": pn[1:],
                                                         "clitic": a["clitic"]}) for pn in ("2sg", "3pl")]
                continue
            else:
                cats = {"form": a["form"]}
            out.append((a["lemma"], a["partofspeech"], {**cats, "clitic": a["clitic"]}))
        return out
    return analyse


HU_CASES = {"NOM", "ACC", "DAT", "INSTR", "CAUS", "TRANS", "ESS", "INE", "ILL", "ELA", "SUE", "SBL", "DEL", "ALL",
            "ADE", "ABL", "TERM", "FORM", "TEMP"}


def _hunspell(lang: str) -> Callable[[str], list]:
    import hunspell

    h = hunspell.HunSpell("/usr/share/hunspell/hu_HU.dic", "/usr/share/hunspell/hu_HU.aff")

    def analyse(word: str) -> list:
        out = []
        for raw in h.analyze(word):
            fields = [f.split(":", 1) for f in raw.decode().split() if ":" in f]
            stems = "+".join(v for k, v in fields if k == "st")
            pos = "+".join(v for k, v in fields if k in ("po", "ds"))
            # is: fields inflect the form; without any, the entry's own ts: fields are the form's (házak: ts:PLUR)
            kind = "is" if any(k == "is" and v for k, v in fields) else "ts"
            cats: dict[str, str] = {}
            for k, v in fields:
                if k != kind or not v:
                    continue
                if v in HU_CASES:
                    cats["case"] = v
                elif v == "PLUR":
                    cats["number"] = "PL"
                elif v.startswith(("PRES_", "PAST_", "FUTURE_")):
                    tense, mood, *rest = v.split("_")
                    if rest[-2:-1] == ["OBJ"]:  # PRES_INDIC_SG_1_OBJ_2 (-lak/-lek)
                        rest = ["OBJ_" + rest[-1], *rest[:-2]]
                    cats.update(zip(("tense", "mood", "definiteness", "number", "person"), (tense, mood, *rest),
                                    strict=False))
                else:
                    cats[v] = v
            if "tense" not in cats:
                cats.setdefault("case", "NOM")
                cats.setdefault("number", "SG")
            out.append((stems, pos, cats))
        return out
    return analyse


def _german(lang: str) -> Callable[[str], list]:
    from german_nouns.lookup import Nouns

    nouns = Nouns()

    def analyse(word: str) -> list:
        out = []
        for entry in nouns[word]:
            if "Substantiv" not in entry["pos"] or {"Eigenname", "Nachname", "Vorname", "Toponym"} & set(entry["pos"]):
                continue
            for column, form in entry["flexion"].items():
                if form == word:
                    case, number, *variant = column.replace("*", " *").split()
                    out.append((entry["lemma"], "NOUN", {"case": case, "number": number,
                                                         "variant": "".join(variant).strip("*") + str(entry.get("genus"))}))
        return out
    return analyse


def _unimorph(lang: str) -> Callable[[str], list]:
    iso3 = {"tr": "tur", "ar": "ara", "qu": "que"}[lang]
    by_form: dict[str, list] = {}
    groups = {"case": {"NOM", "ACC", "GEN", "DAT", "LOC", "ABL", "INS", "ESS", "COM", "EQTV", "BEN", "PRIV"},
              "number": {"SG", "PL"}, "tense": {"PRS", "PST", "FUT"}}
    for line in (DATA / "unimorph" / f"{iso3}.tsv").read_text(encoding="utf-8").splitlines():
        lemma, form, feats = line.split("\t")[:3]
        tags = feats.split(";")
        cats = {g: "+".join(sorted(t for t in tags if t in members)) for g, members in groups.items()}
        rest = "+".join(sorted(t for t in tags if not any(t in m for m in groups.values())))
        by_form.setdefault(form.lower(), []).append((lemma, rest, cats))
    return lambda word: by_form.get(word.lower().replace("I", "ı").replace("İ", "i"), [])


RAW = {"ru": _pymorphy, "uk": _pymorphy, "fi": _voikko, "et": _vabamorf, "hu": _hunspell, "de": _german,
       "tr": _unimorph}
GROUP_NAMES = {"case": {"case"}, "number": {"number"}, "tense": {"tense"}}


def grammatical(raw: Callable[[str], list], old: str, new: str, asked: set[str]) -> bool:
    """Some reading of ``new`` has the lemma and POS of a reading of ``old`` and differs only in ``asked``."""
    allowed = set().union(*(GROUP_NAMES[a] for a in asked))
    for lemma, pos, a in raw(old):
        for lemma2, pos2, b in raw(new):
            if (lemma, pos) == (lemma2, pos2):
                diff = _changed(a, b)
                if diff and diff <= allowed:
                    return True
    return False


def _swaps(cond: P.Condition, lang: str) -> list[tuple[str, str]]:
    """(old, new) word pairs the condition made on UD-POS tokens and XNLI sentences of ``lang``."""
    pairs: list[tuple[str, str]] = []
    examples = tokens(lang, 400)
    if examples:
        out, _ = P.perturb_examples(examples, task_type="token_classification", fields=["tokens"], lang=lang,
                                    condition=cond, strict=False)
        for a, b in zip(examples, out, strict=True):
            pairs += [(x, y) for x, y in zip(a["tokens"], b["tokens"], strict=True) if x != y]
    if lang in ("ru", "tr", "de"):
        examples = xnli(lang, 150)
        out, _ = P.perturb_examples(examples, task_type="pair_classification", fields=["text_a", "text_b"],
                                    lang=lang, condition=cond, strict=False)
        for a, b in zip(examples, out, strict=True):
            for field in ("text_a", "text_b"):
                pairs += [(x, y) for x, y in zip(WORD_RE.findall(a[field]), WORD_RE.findall(b[field]), strict=True)
                          if x != y]
    return pairs


GRAMMATICALITY = [(c, lang) for c in FEATURES for lang in ("ru", "fi", "et", "hu", "tr", "de")]


@pytest.mark.data
@pytest.mark.parametrize(("cond_name", "lang"), GRAMMATICALITY)
def test_swaps_reanalyse_as_the_same_lemma_with_only_the_requested_features_changed(
        cond_name: str, lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    cond = suite("inflection").condition(cond_name)
    if lang not in cond.languages:
        assert cond_name in ("inflection_tense", "inflection_case", "inflection_number"), "core claim missing"
        return
    raw = RAW[lang](lang)
    pairs = _swaps(cond, lang)
    assert len(pairs) >= 5, f"{cond_name} made only {len(pairs)} swaps in {lang}"
    asked = FEATURES[cond_name]
    # a sentence-initial word is analysed as written, else lower-cased (the engines read "Házak" as a proper noun)
    bad = [(old, new) for old, new in pairs if not (grammatical(raw, old, new, asked)
                                                    or grammatical(raw, old.lower(), new.lower(), asked))]
    good = len(pairs) - len(bad)
    rate = good / len(pairs)
    with capsys.disabled():
        print(f"\n{cond_name} {lang}: {good}/{len(pairs)} swaps grammatical ({rate:.1%})")
    assert rate >= MIN_RATE, bad[:10]


@pytest.mark.data
@pytest.mark.parametrize("lang", ["ru", "fi", "et", "hu", "tr", "de"])
def test_case_number_attack_candidates_change_only_case_and_number(lang: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The whole menu the greedy_case_number attack searches (not only the random draws) passes the same check."""
    cond = suite("adversarial").condition("greedy_case_number")
    assert cond.attack is not None and lang in cond.languages
    generator = CandidateGenerator(cond.steps, lang, max_candidates=cond.attack.max_candidates, seed=1,
                                   inflection_prefix=cond.attack.inflection_prefix)
    examples = tokens(lang, 150) or []
    if lang in ("ru", "tr", "de"):
        examples += [{"id": e["id"], "tokens": WORD_RE.findall(e["text_a"])} for e in xnli(lang, 100)]
    pairs = [(word, new) for e in examples for i, token in enumerate(e["tokens"]) for word in WORD_RE.findall(token)
             for family, new in generator.word_options(word, False, e["id"], str(i))]
    assert len(pairs) >= 20, f"greedy_case_number offered only {len(pairs)} candidates in {lang}"
    assert all(len(generator.word_options(w, False, "x", "0")) <= cond.attack.max_candidates for w, _ in pairs)
    raw = RAW[lang](lang)
    bad = [(old, new) for old, new in pairs if not (grammatical(raw, old, new, {"case", "number"})
                                                    or grammatical(raw, old.lower(), new.lower(), {"case", "number"}))]
    rate = 1 - len(bad) / len(pairs)
    with capsys.disabled():
        print(f"\ngreedy_case_number {lang}: {len(pairs) - len(bad)}/{len(pairs)} candidates grammatical ({rate:.1%})")
    assert rate >= MIN_RATE, bad[:10]


@pytest.mark.data
def test_ambiguous_words_are_skipped() -> None:
    from perturbations.morph import swap_finder

    finder = swap_finder("ru", frozenset({"case", "number"}))
    assert finder.get("стали") == ()  # стать (verb) or сталь (noun)
    assert finder.get("книга") and all(f.startswith("книг") for f in finder.get("книга") or ())
    assert swap_finder("de", frozenset({"case"})).get("Haus") == ()  # Haus, or the genitive of Hau
    assert set(swap_finder("de", frozenset({"case"})).get("Mann") or ()) == {"Mannes", "Manns"}


@pytest.mark.data
def test_simplemma_fallback_keeps_the_stem_so_no_cross_pos_swaps() -> None:
    index = lemma_index("de")
    assert index.lookup("du") is None  # dir/dich/deiner are pronoun forms on another stem
    hast = index.lookup("hast")
    assert hast is not None and "gehabt" not in hast.every() and all(f.startswith("ha") for f in hast.every())
    cond = suite("inflection").condition("inflection_any")
    examples = xnli("de", 200)
    out, _ = P.perturb_examples(examples, task_type="pair_classification", fields=["text_a"], lang="de",
                                condition=cond)
    changed = 0
    for a, b in zip(examples, out, strict=True):
        for x, y in zip(WORD_RE.findall(a["text_a"]), WORD_RE.findall(b["text_a"]), strict=True):
            if x != y:
                changed += 1
                stem = min(len(x), 2)
                assert y.lower()[:stem] == x.lower()[:stem], (x, y)
    assert changed > 50


@pytest.mark.data
def test_missing_engine_is_one_line_naming_the_package(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from perturbations.morph.voikko import Voikko

    monkeypatch.setattr(Voikko, "packages", (("no_such_module_for_xrobust", "libvoikko"),))
    path = tmp_path / "fi.yaml"
    path.write_text("seed: 1\nconditions:\n  c:\n    steps:\n      - inflection: {change: [case], languages: [fi]}\n")
    with pytest.raises(PerturbationError) as err:
        P.load_suite(str(path), resources_dir=DATA)
    text = str(err.value)
    assert "'libvoikko'" in text and "voikko-fi" in text and "xrobust[morph]" in text and str(path) in text
    assert "field 'conditions.c.steps[0].inflection.languages'" in text and "\n" not in text


@pytest.mark.data
@pytest.mark.parametrize("lang", ["ru", "fi", "et", "hu", "de"])
def test_engine_swaps_are_deterministic(lang: str) -> None:
    cond = suite("inflection").condition("inflection_any")
    examples = tokens(lang, 120)
    assert examples is not None
    first, _ = P.perturb_examples(examples, task_type="token_classification", fields=["tokens"], lang=lang,
                                  condition=cond)
    shuffled = examples[:]
    random.Random(3).shuffle(shuffled)
    again, _ = P.perturb_examples(shuffled, task_type="token_classification", fields=["tokens"], lang=lang,
                                  condition=cond)
    assert {e["id"]: e for e in again} == {e["id"]: e for e in first}
    assert any(a != b for a, b in zip(examples, first, strict=True))
