"""The typed-config checker shared by task files, option sections, suite parameters and training settings."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from perturbations.validation import (
    Invalid,
    Rule,
    check_known,
    coerce,
    read,
    rules_from_defaults,
    rules_from_hints,
)


def test_kinds_convert_and_reject() -> None:
    assert coerce(Rule(float), 2) == 2.0 and isinstance(coerce(Rule(float), 2), float)
    assert coerce(Rule(tuple), "de, fi,") == ("de", "fi")
    assert coerce(Rule(tuple, lone_string="item"), "de, fi") == ("de, fi",)
    assert coerce(Rule(int, whole_floats=True), 4.0) == 4
    for rule, value in [(Rule(int), True), (Rule(int), 4.0), (Rule(bool), 1), (Rule(float), "1"),
                        (Rule(str), 3), (Rule(tuple), [1]), (Rule(dict, string_values=True), {"a": 1}),
                        (Rule(int, whole_floats=True), 4.5)]:
        with pytest.raises(Invalid):
            coerce(rule, value)
    assert coerce(Rule(), object) is object


def test_messages_follow_the_callers_wording() -> None:
    with pytest.raises(Invalid, match=r"^must be an integer, got bool$"):
        coerce(Rule(int), True)
    with pytest.raises(Invalid, match=r"^expected a number, got 'x'$"):
        coerce(Rule(float), "x", "expected {what}, got {value!r}")
    positive = Rule(int, "a positive integer", lambda v: v > 0, whole_floats=True)
    with pytest.raises(Invalid, match=r"^must be a positive integer, got -2$"):  # the converted value
        coerce(positive, -2.0, "must be {what}, got {value!r}")


def test_read_names_the_field_and_checks_unknown_keys() -> None:
    rules = {"a": Rule(int), "b": Rule(read=lambda v: read(v, {"c": Rule(str)}))}
    assert read({"b": {"c": "x"}, "a": 1}, rules) == {"b": {"c": "x"}, "a": 1}
    with pytest.raises(Invalid) as err:
        read({"a": 1, "b": {"c": 2}}, rules)
    assert (err.value.field, err.value.message) == ("b.c", "must be a string, got int")
    with pytest.raises(Invalid) as err:
        read({"a": "x", "zz": 1}, rules, unknown="unknown {key!r} (known: {known})", sort_known=False)
    assert err.value.field == "a"  # read in the mapping's order
    with pytest.raises(Invalid) as err:
        read({"zz": 1, "a": "x"}, rules, unknown="unknown {key!r} (known: {known})")
    assert (err.value.field, err.value.message) == ("zz", "unknown 'zz' (known: a, b)")
    with pytest.raises(Invalid, match=r"^unknown field \(known: a, b\)$"):
        check_known({"a": 1, "q": 2}, ["b", "a", "hidden"], "unknown field (known: {known})", shown=["b", "a"])
    assert read({"lr": 0.1}, {"learning_rate": Rule(float)}, aliases={"lr": "learning_rate"}) == {"learning_rate": 0.1}
    order = []
    read({"b": 1, "a": 2}, {"a": Rule(read=order.append), "b": Rule(read=order.append)}, in_rule_order=True)
    assert order == [2, 1]


def test_rules_from_dataclasses() -> None:
    @dataclass(frozen=True)
    class Options:
        n: int = 1
        names: tuple[str, ...] = ()
        table: dict = None  # type: ignore[assignment]
        prefix: str | None = None

    by_default = rules_from_defaults(Options)
    assert (by_default["n"].kind, by_default["names"].kind, by_default["prefix"].kind) == (int, tuple, None)

    @dataclass(frozen=True)
    class Params:
        rate: float = 0.1
        into: tuple[str, ...] = ("en",)

    by_hint = rules_from_hints(Params)
    assert by_hint["rate"].kind is float and by_hint["into"].lone_string == "item"
