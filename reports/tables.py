"""A task page's table rows as HTML, built in Python: the markup of the Jinja loops they replaced, byte for byte
(tested against them), every value escaped by :func:`reports.escaping.fast_escape`. A full XTREME-R site has
~110 task pages of ~2,000 rows and heatmap cells each; Jinja spent most of the report's main process on them.
Each builder returns its rows with their newlines (none for no row), for the template's ``<tbody>``."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup

from reports.escaping import fast_escape as _e


def fmt(value: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals; "–" for none or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def pfmt(value: float | None) -> str:
    """A p-value with three decimals ("<0.001" below); "–" for none or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _f(value: float | None, digits: int = 1) -> str:
    return _e(fmt(value, digits))


def heatmap_rows(heatmap: dict, names: Sequence[str], langs: Sequence[str]) -> Markup:
    """Per submission a row of its score per language: colour, interval, n and seeds in the title."""
    table, out = heatmap["table"], []
    for name in names:
        out.append(f'<tr><td class="name">{_e(name)}</td>\n')
        for lang in langs:
            v = table.get((name, lang))
            if v:
                seeds = (f', {_e(v["seeds"])} seeds {_f(v["seed_min"])}–{_f(v["seed_max"])}' if v["seeds"] > 1
                         else "")
                out.append(f'<td style="background: {_e(v["bg"])}" title="[{_f(v["ci_low"])}, {_f(v["ci_high"])}], '
                           f'n={_e(v["n"])}{seeds}" data-v="{_e(v["value"])}">{_f(v["value"])}{_e(v["spread"])}</td>\n')
            else:
                out.append(f'<td class="missing">{_f(None)}</td>\n')
        out.append("</tr>\n")
    return Markup("".join(out))


def _tested(row: dict, digits: int) -> str:
    """A test's cells: interval, p-value, corrected p-value (starred when significant), test, n; the row's end."""
    star = " *" if row.get("significant") else ""
    return (f'<td class="ci">[{_f(row["ci_low"], digits)}, {_f(row["ci_high"], digits)}]</td>'
            f'<td>{_e(pfmt(row["p_value"]))}</td><td>{_e(pfmt(row["p_adjusted"]))}{star}</td>'
            f'<td class="name">{_e(row["test"])}</td><td>{_e(row["n"])}</td></tr>\n')


def comparison_rows(rows: Sequence[dict]) -> Markup:
    """Each submission against the baseline per language and condition."""
    if not rows:
        return Markup('<tr><td class="name" colspan="9">one submission: nothing to compare</td></tr>\n')
    return Markup("".join(
        f'<tr><td class="name">{_e(c["submission"])}</td><td class="name">{_e(c["language"])}</td>'
        f'<td class="name">{_e(c["condition"])}</td><td>{_f(c["difference"], 2)}</td>\n{_tested(c, 2)}' for c in rows))


def drop_rows(rows: Sequence[dict]) -> Markup:
    """Clean, perturbed and drop per submission, language and condition, with what the condition changed."""
    out = []
    for d in rows:
        change = d["change"]
        rate = change.get("success_rate")
        success = "–" if rate is None else f"{_f(rate * 100)}%"
        out.append(
            f'<tr><td class="name">{_e(d["submission"])}</td><td class="name">{_e(d["language"])}</td>'
            f'<td class="name">{_e(d["condition"])}</td><td>{_f(d["clean"])}</td><td>{_f(d["perturbed"])}</td>'
            f'<td>{_f(d["drop"])}</td>\n'
            f'<td>{_f((change.get("frac_examples_changed") or 0) * 100)}%</td>'
            f'<td>{_f((change.get("frac_words_changed") or 0) * 100)}%</td>'
            f'<td>{_f(change.get("mean_char_edit_distance"), 2)}</td>\n'
            f'<td>{success}</td><td>{_f(change.get("mean_edited_words"), 2)}</td></tr>\n')
    return Markup("".join(out))


def gain_rows(rows: Sequence[dict]) -> Markup:
    """The gain contrast of each submission over the baseline per language."""
    return Markup("".join(f'<tr><td class="name">{_e(g["submission"])}</td><td class="name">{_e(g["language"])}</td>'
                          f'<td>{_f(g["contrast"], 2)}</td>{_tested(g, 2)}' for g in rows))


def group_rows(rows: Sequence[dict]) -> Markup:
    """Scores over each language group (slice)."""
    if not rows:
        return Markup('<tr><td class="name" colspan="6">no evaluated language falls in a declared slice</td></tr>\n')
    return Markup("".join(
        f'<tr><td class="name">{_e(r["slice"])}</td><td class="name">{_e(r["condition"])}</td>'
        f'<td class="name">{_e(r["submission"])}</td><td>{_f(r["value"])}</td>'
        f'<td class="ci">[{_f(r["ci_low"])}, {_f(r["ci_high"])}]</td>'
        f'<td class="name">{_e(", ".join(map(str, r["languages"])))}</td></tr>\n' for r in rows))


def bucket_rows(rows: Sequence[dict]) -> Markup:
    """Scores per example bucket."""
    return Markup("".join(
        f'<tr><td class="name">{_e(r["bucket"])} ({_e(r["attribute"])})</td><td class="name">{_e(r["label"])}</td>'
        f'<td class="name">{_e(r["condition"])}</td><td class="name">{_e(r["submission"])}</td>'
        f'<td>{_f(r["value"])}</td><td class="ci">[{_f(r["ci_low"])}, {_f(r["ci_high"])}]</td>'
        f'<td>{_e(r["n"])}</td></tr>\n' for r in rows))
