"""Candidate forms for analysis-only engines: every form simplemma's dictionary lists for a lemma.

Voikko (fi) and zeyrek (tr) analyse but do not generate; their candidates are the forms that
simplemma's form -> lemma dictionary maps to the engine's lemma (or to simplemma's own lemma of the
word), and the engine's re-analysis decides which of them are allowed swaps.
"""

from __future__ import annotations

from collections.abc import Iterator

from perturbations.lemmas import lemma_index, simplemma_languages
from perturbations.text import lower


def lexicon_forms(lang: str, word: str, lemmas: tuple[str, ...]) -> Iterator[str]:
    """Forms of ``lemmas`` and of simplemma's lemma of ``word`` (the lemmas themselves first)."""
    if lang not in simplemma_languages():
        return
    index = lemma_index(lang)
    keys = [lemma.encode() for lemma in lemmas]
    own = index.form_to_lemma.get(lower(word, lang).encode()) or index.form_to_lemma.get(word.encode())
    if own is not None:
        keys.append(own)
    fold = not word[:1].isupper()  # a lower-case word gets lower-case candidates (not "Olemme" for "olen")
    for key in dict.fromkeys(keys):
        for raw in (key, *index.lemma_to_forms.get(key, ())):
            form = raw.decode()
            yield lower(form, lang) if fold else form
