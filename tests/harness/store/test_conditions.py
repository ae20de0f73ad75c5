"""Condition ids: every stored condition name parses to a typed id and formats back to the same name."""

from __future__ import annotations

import pytest

from harness.errors import XRobustError
from harness.store.conditions import CLEAN, ConditionId
from harness.store.rundir import Unit

NAMES = {
    "clean": CLEAN,
    "typos.keyboard": ConditionId("typos", "keyboard"),
    "typos.keyboard~v2": ConditionId("typos", "keyboard", variant=2),
    "typos.keyboard@worst": ConditionId("typos", "keyboard", worst=True),
    "xling.b-en": ConditionId("xling", "b-en"),
    "adversarial.greedy@from-tiny-xnli": ConditionId("adversarial", "greedy", source="tiny-xnli"),
    "adversarial.greedy@from-e5.small_v2": ConditionId("adversarial", "greedy", source="e5.small_v2"),
    "my.suite.typos_1": ConditionId("my.suite", "typos_1"),  # a suite named after a file stem with a dot
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_parse_and_format_round_trip(name: str) -> None:
    cid = ConditionId.parse(name)
    assert cid == NAMES[name]
    assert str(cid) == name
    assert Unit("xnli", "de", "test", name).condition_id == cid


def test_derived_ids() -> None:
    base = ConditionId("typos", "keyboard")
    assert str(base.with_variant(3)) == "typos.keyboard~v3"
    assert str(base.with_variant(3).worst_case()) == "typos.keyboard@worst"
    assert str(base.transferred("run-a")) == "typos.keyboard@from-run-a"
    assert ConditionId.parse("typos.keyboard~v3").base == base
    assert [ConditionId.parse(n).repeats_base for n in ("clean", "a.b", "a.b~v1", "a.b@worst", "a.b@from-x")] == \
        [False, False, True, True, False]
    assert CLEAN.is_clean and not base.is_clean


@pytest.mark.parametrize("name", ["", "keyboard", ".keyboard", "typos.", "clean~v1", "@worst"])
def test_names_outside_the_grammar_are_refused(name: str) -> None:
    with pytest.raises(XRobustError, match="bad condition name"):
        ConditionId.parse(name)


def test_inconsistent_ids_cannot_be_built() -> None:
    with pytest.raises(ValueError):
        ConditionId("", "keyboard")
    with pytest.raises(ValueError):
        ConditionId("typos", "keyboard", variant=1, worst=True)
    with pytest.raises(ValueError):
        ConditionId("typos", "keyboard", variant=-1)
