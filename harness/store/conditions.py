"""Condition ids: the typed form of the condition part of a unit's name.

Grammar of the names stored on disk (``predictions/<task>/<lang>.<split>.<condition>.jsonl``)::

    clean                               no perturbation
    <suite>.<cond>                      a suite condition (``xling.b-<lang>``: cross-language pairs)
    <suite>.<cond>~v<k>                 seeded variant k >= 1 of a condition with ``variants: K``
    <suite>.<cond>@worst                per-example worst case over a condition's variants
    <suite>.<cond>@from-<submission>    another submission's adversarial inputs (attack transfer)

Condition names (``[a-z0-9_-]``) and submission suffixes (``[A-Za-z0-9_.-]``) contain neither ``@`` nor ``~``,
and condition names no ``.``, so a name is read from the right: suffix, then condition, then suite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from harness.errors import XRobustError

SUFFIX = re.compile(r"(?:~v(?P<variant>[1-9][0-9]*)|(?P<worst>@worst)|@from-(?P<source>[A-Za-z0-9_.-]+))$")


@dataclass(frozen=True)
class ConditionId:
    """A condition's identity; ``str()`` gives the name stored on disk, :meth:`parse` reads it back."""

    suite: str = ""  # empty for clean
    name: str = "clean"
    variant: int = 0  # seeded variant (0: the condition itself)
    worst: bool = False  # worst case over the variants
    source: str = ""  # file-name-safe name of the submission whose adversarial inputs are replayed

    def __post_init__(self) -> None:
        if not self.suite and (self.name != "clean" or self.variant or self.worst or self.source):
            raise ValueError(f"a condition other than clean needs a suite: {self!r}")
        if bool(self.variant) + self.worst + bool(self.source) > 1 or self.variant < 0:
            raise ValueError(f"at most one of variant, worst, source: {self!r}")

    @classmethod
    def parse(cls, text: str) -> ConditionId:
        """The id of a stored condition name; raises :class:`XRobustError` for a name outside the grammar."""
        if text == "clean":
            return CLEAN
        match = SUFFIX.search(text)
        base = text[:match.start()] if match else text
        suite, _, name = base.rpartition(".")
        if not suite or not name:
            raise XRobustError(f"bad condition name {text!r} (expected clean or <suite>.<condition>[~v<k>|@worst|"
                               "@from-<submission>])", field="condition")
        if match is None:
            return cls(suite, name)
        return cls(suite, name, variant=int(match["variant"] or 0), worst=bool(match["worst"]),
                   source=match["source"] or "")

    def __str__(self) -> str:
        if not self.suite:
            return self.name
        suffix = f"~v{self.variant}" if self.variant else "@worst" if self.worst else \
            f"@from-{self.source}" if self.source else ""
        return f"{self.suite}.{self.name}{suffix}"

    @property
    def is_clean(self) -> bool:
        return not self.suite

    @property
    def base(self) -> ConditionId:
        """The condition without variant, worst-case or transfer suffix."""
        return replace(self, variant=0, worst=False, source="")

    @property
    def repeats_base(self) -> bool:
        """An extra variant or the worst case: pinned by the signature of its base condition."""
        return bool(self.variant) or self.worst

    def with_variant(self, variant: int) -> ConditionId:
        return replace(self.base, variant=variant)

    def worst_case(self) -> ConditionId:
        return replace(self.base, worst=True)

    def transferred(self, source: str) -> ConditionId:
        return replace(self.base, source=source)


CLEAN = ConditionId()
