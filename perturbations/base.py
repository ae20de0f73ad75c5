"""Perturbation base classes, the edit tally, and the name -> class registry."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from perturbations.errors import PerturbationError
from perturbations.params import BaseParams, ParamError, params_to_dict
from perturbations.text import WORD_SPLIT


@dataclass
class Tally:
    """How many units a step could edit (eligible), did edit, and was expected to edit (sum of rates)."""

    eligible: int = 0
    edited: int = 0
    expected: float = 0.0

    def add(self, eligible: int, edited: int, expected: float) -> None:
        self.eligible += eligible
        self.edited += edited
        self.expected += expected


class Perturbation:
    """One perturbation: a registered ``name``, frozen ``params``, the ``languages`` it claims.

    Subclasses implement :meth:`apply` (text) and may override :meth:`apply_tokens`; the public
    :meth:`perturb` / :meth:`perturb_tokens` wrap them without a tally. Token outputs always have
    exactly one token per input token.
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type] = BaseParams
    units: ClassVar[tuple[str, ...]] = ("word",)

    def __init__(self, params: Any, *, resources_dir: Path | None = None) -> None:
        self.params = params
        self.resources_dir = resources_dir
        self.check_params()
        if params.languages:
            for lang in params.languages:
                if not self.is_supported(lang):
                    raise ParamError(self.unsupported_reason(lang), "languages")
            self.languages: frozenset[str] = frozenset(params.languages)
        else:
            supported = self.supported_languages()
            if not supported:
                raise ParamError("no language is supported with the given parameters and resources", "languages")
            self.languages = frozenset(supported)

    # --- to override -------------------------------------------------------------------------
    def check_params(self) -> None:
        """Raise :class:`ParamError` for parameter combinations the dataclass types cannot express."""

    def supported_languages(self) -> frozenset[str]:
        """Every language this perturbation can change, given its parameters and resources."""
        raise NotImplementedError

    def is_supported(self, lang: str) -> bool:
        return lang in self.supported_languages()

    def unsupported_reason(self, lang: str) -> str:
        return f"unsupported language {lang!r} for {self.name} (supported: {', '.join(sorted(self.supported_languages()))})"

    def prepare(self, lang: str) -> None:
        """Build per-language lookup tables now (otherwise they are built on first use)."""

    def fingerprint(self) -> dict[str, str]:
        """Identity of the resources this step reads (file hashes, library versions)."""
        return {}

    def apply(self, text: str, rng: random.Random, lang: str, tally: Tally | None) -> str:
        raise NotImplementedError

    # --- shared --------------------------------------------------------------------------------
    def apply_tokens(self, tokens: list[str], rng: random.Random, lang: str, tally: Tally | None) -> list[str]:
        """Per-token word-level edits; never splits or merges tokens."""
        out = []
        for tok in tokens:
            new = self.apply(tok, rng, lang, tally)
            if new != tok and (not new or len(new.split()) != len(tok.split())):
                raise RuntimeError(f"{self.name} changed token boundaries: {tok!r} -> {new!r}")
            out.append(new)
        return out

    def perturb(self, text: str, rng: random.Random, lang: str) -> str:
        """Perturbed copy of ``text``; ``lang`` must be claimed."""
        self._check_claimed(lang)
        return self.apply(text, rng, lang, None)

    def perturb_tokens(self, tokens: list[str], rng: random.Random, lang: str) -> list[str]:
        """Perturbed copy of a token list, one output token per input token; ``lang`` must be claimed."""
        self._check_claimed(lang)
        return self.apply_tokens(tokens, rng, lang, None)

    def _check_claimed(self, lang: str) -> None:
        if lang not in self.languages:
            raise PerturbationError(f"{self.name} does not claim language {lang!r} (claims: "
                               f"{', '.join(sorted(self.languages))})", field="lang")

    def claims(self, lang: str) -> bool:
        return lang in self.languages

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "params": params_to_dict(self.params)}
        fp = self.fingerprint()
        if fp:
            out["resources"] = fp
        return out

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and other.params == self.params  # type: ignore[attr-defined]
                and other.resources_dir == self.resources_dir)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.params, self.resources_dir))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


JOINERS = frozenset("-'’‘‐‑`´_")


def _attached(before: str, after: str) -> bool:
    """True if a word between separators ``before`` and ``after`` is glued to a digit, hyphen or
    apostrophe (``C124'ün``, ``X-O``)."""
    b = before[-1:] or " "
    a = after[:1] or " "
    return b in JOINERS or a in JOINERS or b.isdigit() or a.isdigit()


class WordPerturbation(Perturbation):
    """Word-level perturbations: each eligible word is edited with probability ``rate``.

    Subclasses implement :meth:`options` (falsy = ineligible; or :meth:`options_for` for a faster
    per-language callable) and :meth:`edit`; typo classes also implement :meth:`edit_chars` for
    ``unit: char``. With ``standalone_only`` (lexical substitutions), words glued to digits, hyphens
    or apostrophes (suffixes like Turkish ``'ün``, parts of codes and compounds) are not eligible.
    """

    standalone_only: ClassVar[bool] = False

    def options(self, word: str, lang: str) -> Any:
        """What :meth:`edit` needs to edit ``word``; falsy if the word is not eligible."""
        return self.options_for(lang)(word)

    def options_for(self, lang: str) -> Callable[[str], Any]:
        """``word -> options`` for one language (override this or :meth:`options`)."""
        return lambda word: self.options(word, lang)

    def edit(self, word: str, options: Any, rng: random.Random, lang: str) -> str:
        raise NotImplementedError

    def word_eligibility(self, text: str, lang: str) -> list[tuple[str, bool]]:
        """Every word of ``text`` with whether ``unit: word`` editing could change it (diagnostics)."""
        parts = WORD_SPLIT.split(text)
        options = self.options_for(lang)
        return [(parts[k], not (self.standalone_only and _attached(parts[k - 1], parts[k + 1]))
                 and bool(options(parts[k]))) for k in range(1, len(parts), 2)]

    def edit_chars(self, word: str, rng: random.Random, lang: str, rate: float) -> tuple[str, int, int]:
        """Character-rate edit of one word: (new word, eligible characters, edited characters)."""
        raise NotImplementedError

    def candidates(self, word: str, options: Any, lang: str) -> Iterator[str]:
        """Every replacement :meth:`edit` can make of an eligible ``word``, in a fixed order (may repeat, may
        include ``word``; :mod:`perturbations.candidates` filters). Used by model-guided attacks."""
        raise NotImplementedError(f"{self.name} cannot enumerate its edits")

    def apply(self, text: str, rng: random.Random, lang: str, tally: Tally | None) -> str:
        parts = WORD_SPLIT.split(text)  # separators at even, words at odd positions
        if len(parts) == 1:
            return text
        rate = self.params.rate
        eligible = edited = 0
        if self.params.unit == "char":
            for k in range(1, len(parts), 2):
                new, n_ok, n_edit = self.edit_chars(parts[k], rng, lang, rate)
                eligible += n_ok
                if n_edit:
                    edited += n_edit
                    parts[k] = new
        else:
            options = self.options_for(lang)
            standalone = self.standalone_only
            random_ = rng.random
            for k in range(1, len(parts), 2):
                word = parts[k]
                if standalone and _attached(parts[k - 1], parts[k + 1]):
                    continue
                opts = options(word)
                if not opts:
                    continue
                eligible += 1
                if random_() < rate:
                    new = self.edit(word, opts, rng, lang)
                    if new and new != word:
                        parts[k] = new
                        edited += 1
        if tally is not None:
            tally.add(eligible, edited, eligible * rate)
        return "".join(parts) if edited else text


REGISTRY: dict[str, type[Perturbation]] = {}


def register(cls: type[Perturbation]) -> type[Perturbation]:
    """Class decorator: make ``cls`` available to suites under ``cls.name``."""
    if not cls.name or cls.name in REGISTRY:
        raise ValueError(f"bad or duplicate perturbation name {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls
