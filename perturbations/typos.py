"""Typo perturbations: keyboard-neighbour substitution, insertion, deletion and transposition of keystrokes.

Every language is typed through its input model (:mod:`perturbations.inputs`): a national layout (one key
per character), the Korean 2-set automaton (jamo keys, syllables recomposed), a romaji IME (kana as
romaji keys) or a pinyin IME (a hanzi's "neighbours" are its homophones). An edit acts on the keys and
is kept only if the text it produces is well-formed: layout scripts keep their grapheme clusters valid
(:mod:`perturbations.graphemes`: no dangling vowel sign, virama or combining mark), IME scripts convert
fully. ``unit: word`` edits one key of each selected word (eligible: words with at least one key the
edit can act on), choosing a position uniformly among those with a valid edit; ``unit: char`` visits the
keys in order and edits each one that has a valid edit with probability ``rate``. No edit empties a
word or introduces whitespace, so token tasks keep one token per token.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from perturbations.base import WordPerturbation, register
from perturbations.graphemes import ok_between
from perturbations.inputs import InputModel, input_model, model_languages
from perturbations.pinyin import version as pinyin_version

Payload = object  # what an edit at a key needs: a neighbouring key, (key, side), or nothing (None)
NONE = object()  # no valid edit


class _Typo(WordPerturbation):
    units = ("word", "char")

    def supported_languages(self) -> frozenset[str]:
        return model_languages()

    def prepare(self, lang: str) -> None:
        input_model(lang)

    def source(self, lang: str) -> str:
        """What serves ``lang``: its input model, e.g. ``layout:de``, ``dubeolsik``, ``pinyin-ime``."""
        return input_model(lang).source

    def fingerprint(self) -> dict[str, str]:
        out = {"layouts": ",".join(sorted({self.source(lang) for lang in self.languages}))}
        if "zh" in self.languages:
            out["pypinyin"] = pinyin_version()
        return out

    # --- per operation ---------------------------------------------------------------------
    def payloads(self, model: InputModel, keys: list[str], i: int) -> Iterator[Payload]:
        """The edits conceivable at key ``i`` (before checking that the result is well-formed)."""
        raise NotImplementedError

    def put(self, keys: list[str], i: int, payload: Payload) -> tuple[list[str], int]:
        """``keys`` with the edit made, and the index to continue from."""
        raise NotImplementedError

    def fits(self, keys: list[str], i: int, payload: Payload) -> bool:
        """Layout scripts: the grapheme check of the edit's neighbourhood (see :mod:`graphemes`)."""
        raise NotImplementedError

    def prefilter(self, model: InputModel) -> Callable[[str], object]:
        return model.prefilter.search

    # --- shared ----------------------------------------------------------------------------
    def options_for(self, lang: str) -> Callable[[str], object]:
        return self.prefilter(input_model(lang))

    def _valid(self, model: InputModel, keys: list[str], i: int, current: str) -> Iterator[Payload]:
        """The edits at key ``i`` whose result is well-formed and differs, lazily."""
        for payload in self.payloads(model, keys, i):
            if model.identity:
                if self.fits(keys, i, payload):
                    yield payload
            else:
                text = model.render(self.put(keys, i, payload)[0])
                if text and text != current:
                    yield payload

    def edit(self, word: str, options: object, rng: random.Random, lang: str) -> str:
        model = input_model(lang)
        keys = model.keys(word)
        if keys is None:
            return word
        per_position = [(i, opts) for i in range(len(keys)) if (opts := list(self._valid(model, keys, i, word)))]
        if not per_position:
            return word
        i, opts = rng.choice(per_position)
        return model.render(self.put(keys, i, rng.choice(opts))[0]) or word

    def candidates(self, word: str, options: object, lang: str) -> Iterator[str]:
        model = input_model(lang)
        keys = model.keys(word)
        if keys is None:
            return
        for i in range(len(keys)):
            for payload in self._valid(model, keys, i, word):
                text = model.render(self.put(keys, i, payload)[0])
                if text:
                    yield text

    def edit_chars(self, word: str, rng: random.Random, lang: str, rate: float) -> tuple[str, int, int]:
        model = input_model(lang)
        keys = model.keys(word)
        if keys is None:
            return word, 0, 0
        n_ok = n_edit = 0
        current = word
        i = 0
        while i < len(keys):
            valid = self._valid(model, keys, i, current)
            first = next(valid, NONE)
            if first is NONE:
                i += 1
                continue
            n_ok += 1
            if rng.random() < rate:
                opts = [first, *valid]
                keys, i = self.put(keys, i, opts[0] if len(opts) == 1 else rng.choice(opts))
                n_edit += 1
                current = model.render(keys) or current
                continue
            i += 1
        return (current if n_edit else word), n_ok, n_edit


def _fits(keys: list[str], i: int, j: int, seq: list[str]) -> bool:
    """Whether ``seq`` may replace ``keys[i:j]``: grapheme checks against the keys around it."""
    return ok_between(keys[i - 1] if i > 0 else None, seq, keys[j] if j < len(keys) else None)


@register
class KeyboardTypo(_Typo):
    """Replace a key with a neighbouring key of the language's layout (ko: a jamo key; zh: a homophone)."""

    name = "keyboard"

    def payloads(self, model: InputModel, keys: list[str], i: int) -> Iterator[Payload]:
        return iter(model.near(keys[i]))

    def put(self, keys: list[str], i: int, payload: Payload) -> tuple[list[str], int]:
        return keys[:i] + [payload] + keys[i + 1:], i + 1  # type: ignore[list-item]

    def fits(self, keys: list[str], i: int, payload: Payload) -> bool:
        return _fits(keys, i, i + 1, [payload])  # type: ignore[list-item]


@register
class CharInsert(_Typo):
    """Hit a neighbouring key as well, just before or after a key."""

    name = "char_insert"

    def supported_languages(self) -> frozenset[str]:
        return frozenset(lang for lang in model_languages() if input_model(lang).inserts)

    def payloads(self, model: InputModel, keys: list[str], i: int) -> Iterator[Payload]:
        for near in model.near(keys[i]):
            yield near, 0
            yield near, 1

    def put(self, keys: list[str], i: int, payload: Payload) -> tuple[list[str], int]:
        near, side = payload  # type: ignore[misc]
        return keys[:i + side] + [near] + keys[i + side:], i + 2

    def fits(self, keys: list[str], i: int, payload: Payload) -> bool:
        near, side = payload  # type: ignore[misc]
        return _fits(keys, i, i + 1, [keys[i], near] if side else [near, keys[i]])


@register
class CharDelete(_Typo):
    """Drop a key; a word is never emptied, and a deletion that strands a mark is not made."""

    name = "char_delete"

    def prefilter(self, model: InputModel) -> Callable[[str], object]:
        if model.identity:
            return lambda word: len(word) > 1 and (model.source != "pinyin-ime" or model.prefilter.search(word))
        return model.prefilter.search

    def payloads(self, model: InputModel, keys: list[str], i: int) -> Iterator[Payload]:
        if len(keys) > 1 and model.editable(keys[i]):
            yield None

    def put(self, keys: list[str], i: int, payload: Payload) -> tuple[list[str], int]:
        return keys[:i] + keys[i + 1:], i

    def fits(self, keys: list[str], i: int, payload: Payload) -> bool:
        return _fits(keys, i, i + 1, [])


@register
class CharSwap(_Typo):
    """Transpose two adjacent, different keys."""

    name = "char_swap"

    def prefilter(self, model: InputModel) -> Callable[[str], object]:
        if model.identity:
            return lambda word: len(word) > 1 and word.count(word[0]) != len(word)
        return model.prefilter.search

    def payloads(self, model: InputModel, keys: list[str], i: int) -> Iterator[Payload]:
        if i + 1 < len(keys) and keys[i] != keys[i + 1] and model.editable(keys[i]) and model.editable(keys[i + 1]):
            yield None

    def put(self, keys: list[str], i: int, payload: Payload) -> tuple[list[str], int]:
        return keys[:i] + [keys[i + 1], keys[i]] + keys[i + 2:], i + 2

    def fits(self, keys: list[str], i: int, payload: Payload) -> bool:
        return _fits(keys, i, i + 2, [keys[i + 1], keys[i]])
