"""Generalised cross-lingual transfer pairs (text_a in one language, text_b in another)."""

from __future__ import annotations

from perturbations.errors import PerturbationError


def _by_id(examples: list[dict], which: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for ex in examples:
        ex_id = ex.get("id")
        if ex_id in out:
            raise PerturbationError(f"duplicate id {ex_id!r} in the {which} language's examples", field="id")
        out[ex_id] = ex
    return out


def crosslingual_pairs(examples_a_lang: list[dict], examples_b_lang: list[dict]) -> list[dict]:
    """Pair examples of two parallel test sets by ``id``: ``text_a`` from the first, ``text_b`` from the
    second (arXiv 2104.08645). Order and all other fields follow the first list. Raises
    :class:`PerturbationError` if the id sets differ or an aligned pair disagrees on its label."""
    first = _by_id(examples_a_lang, "first")
    second = _by_id(examples_b_lang, "second")
    if first.keys() != second.keys():
        only_a = sorted(first.keys() - second.keys(), key=str)
        only_b = sorted(second.keys() - first.keys(), key=str)
        raise PerturbationError(f"example ids do not align: {len(only_a)} only in the first language (e.g. {only_a[:3]}), "
                           f"{len(only_b)} only in the second (e.g. {only_b[:3]})", field="id")
    out = []
    for ex in examples_a_lang:
        other = second[ex["id"]]
        if "label" in ex and "label" in other and ex["label"] != other["label"]:
            raise PerturbationError(f"example {ex['id']!r}: labels differ across languages ({ex['label']!r} vs "
                               f"{other['label']!r})", field="label")
        out.append({**ex, "text_b": other["text_b"]})
    return out
