"""A task page's table rows built in Python give the markup of the Jinja loops they replaced, byte for byte:
hostile names escaped, NaN and missing values as "–", p-values below 0.001, seeds, attacks, empty tables."""

from __future__ import annotations

import math

import pytest
from markupsafe import Markup

from reports.site import environment
from reports.tables import bucket_rows, comparison_rows, drop_rows, gain_rows, group_rows, heatmap_rows

# the loops task.html.j2 held before its rows were built in Python (their whitespace control as it was)
LOOPS = {
    "heatmap": """{% for name in names %}
<tr><td class="name">{{ name }}</td>
{% for lang in langs %}{% set v = h.table.get((name, lang)) %}
<td{% if v %} style="background: {{ v.bg }}" title="[{{ v.ci_low | fmt }}, {{ v.ci_high | fmt }}], n={{ v.n }}{% if v.seeds > 1 %}, {{ v.seeds }} seeds {{ v.seed_min | fmt }}–{{ v.seed_max | fmt }}{% endif %}" data-v="{{ v.value }}"{% else %} class="missing"{% endif %}>{{ (v.value if v else none) | fmt }}{% if v %}{{ v.spread }}{% endif %}</td>
{% endfor %}</tr>
{% endfor %}
""",
    "comparisons": """{% for c in rows %}
<tr><td class="name">{{ c.submission }}</td><td class="name">{{ c.language }}</td><td class="name">{{ c.condition }}</td><td>{{ c.difference | fmt(2) }}</td>
<td class="ci">[{{ c.ci_low | fmt(2) }}, {{ c.ci_high | fmt(2) }}]</td><td>{{ c.p_value | pfmt }}</td><td>{{ c.p_adjusted | pfmt }}{% if c.significant %} *{% endif %}</td><td class="name">{{ c.test }}</td><td>{{ c.n }}</td></tr>
{% else %}<tr><td class="name" colspan="9">one submission: nothing to compare</td></tr>
{% endfor %}
""",
    "drops": """{% for d in rows %}
<tr><td class="name">{{ d.submission }}</td><td class="name">{{ d.language }}</td><td class="name">{{ d.condition }}</td><td>{{ d.clean | fmt }}</td><td>{{ d.perturbed | fmt }}</td><td>{{ d.drop | fmt }}</td>
<td>{{ ((d.change.get("frac_examples_changed") or 0) * 100) | fmt }}%</td><td>{{ ((d.change.get("frac_words_changed") or 0) * 100) | fmt }}%</td><td>{{ d.change.get("mean_char_edit_distance") | fmt(2) }}</td>
<td>{% if d.change.get("success_rate") is not none %}{{ (d.change.get("success_rate") * 100) | fmt }}%{% else %}–{% endif %}</td><td>{{ d.change.get("mean_edited_words") | fmt(2) }}</td></tr>
{% endfor %}
""",
    "gains": """{% for g in rows %}
<tr><td class="name">{{ g.submission }}</td><td class="name">{{ g.language }}</td><td>{{ g.contrast | fmt(2) }}</td><td class="ci">[{{ g.ci_low | fmt(2) }}, {{ g.ci_high | fmt(2) }}]</td><td>{{ g.p_value | pfmt }}</td><td>{{ g.p_adjusted | pfmt }}{% if g.significant %} *{% endif %}</td><td class="name">{{ g.test }}</td><td>{{ g.n }}</td></tr>
{% endfor %}
""",
    "groups": """{% for r in rows %}
<tr><td class="name">{{ r.slice }}</td><td class="name">{{ r.condition }}</td><td class="name">{{ r.submission }}</td><td>{{ r.value | fmt }}</td><td class="ci">[{{ r.ci_low | fmt }}, {{ r.ci_high | fmt }}]</td><td class="name">{{ r.languages | join(", ") }}</td></tr>
{% else %}<tr><td class="name" colspan="6">no evaluated language falls in a declared slice</td></tr>
{% endfor %}
""",
    "buckets": """{% for r in rows %}
<tr><td class="name">{{ r.bucket }} ({{ r.attribute }})</td><td class="name">{{ r.label }}</td><td class="name">{{ r.condition }}</td><td class="name">{{ r.submission }}</td><td>{{ r.value | fmt }}</td><td class="ci">[{{ r.ci_low | fmt }}, {{ r.ci_high | fmt }}]</td><td>{{ r.n }}</td></tr>
{% endfor %}
""",
}
EVIL = "<img src=x onerror=alert('x')> & \"q\""
VALUES = [73.25, math.nan, None, -0.05, 0.0004, 12]


def _loop(kind: str, **context: object) -> str:
    return environment().from_string(LOOPS[kind]).render(**context)


def _stats(k: int) -> dict:
    value = VALUES[k % len(VALUES)]
    return {"value": value, "ci_low": VALUES[(k + 1) % len(VALUES)], "ci_high": VALUES[(k + 2) % len(VALUES)],
            "p_value": VALUES[(k + 3) % len(VALUES)], "p_adjusted": VALUES[(k + 4) % len(VALUES)],
            "significant": k % 2 == 0, "n": 100 + k, "test": f"paired {EVIL}", "condition": f"typos<{k}>",
            "submission": f"sys-{k} {EVIL}", "language": f"l{k}&"}


def test_heatmap_rows_are_the_loops() -> None:
    names, langs = [f"a<{i}>" for i in range(3)], ["de", "sw&", "ja"]
    table = {}
    for i, name in enumerate(names):
        for j, lang in enumerate(langs):
            if (i + j) % 4 == 3:
                continue  # a missing cell
            seeds = 1 + (i + j) % 3
            table[(name, lang)] = {**_stats(i + j), "bg": "#a0b0c0", "seeds": seeds, "seed_min": 70.04,
                                   "seed_max": math.nan if j == 2 else 75.0,
                                   "spread": Markup("<svg></svg>") if seeds > 1 else ""}
    heatmap = {"table": table}
    assert heatmap_rows(heatmap, names, langs) == _loop("heatmap", h=heatmap, names=names, langs=langs)
    assert heatmap_rows({"table": {}}, [], langs) == _loop("heatmap", h={"table": {}}, names=[], langs=langs) == ""


@pytest.mark.parametrize("n", [0, 1, 7])
def test_row_tables_are_the_loops(n: int) -> None:
    rows = [_stats(k) for k in range(n)]
    comparisons = [{**r, "difference": r["value"]} for r in rows]
    assert comparison_rows(comparisons) == _loop("comparisons", rows=comparisons)
    gains = [{**r, "contrast": r["value"]} for r in rows]
    assert gain_rows(gains) == _loop("gains", rows=gains)
    changes = [{}, {"frac_examples_changed": 0.5, "frac_words_changed": None, "mean_char_edit_distance": 1.234},
               {"success_rate": 0.25, "mean_edited_words": 2.5}, {"success_rate": 0.0}]
    drops = [{**r, "clean": r["value"], "perturbed": r["ci_low"], "drop": r["ci_high"],
              "change": changes[k % len(changes)]} for k, r in enumerate(rows)]
    assert drop_rows(drops) == _loop("drops", rows=drops)
    groups = [{**r, "slice": f"low<{k}>", "languages": ["sw", f"yo&{k}"][: k % 3]} for k, r in enumerate(rows)]
    assert group_rows(groups) == _loop("groups", rows=groups)
    buckets = [{**r, "bucket": "length<", "attribute": "n_words&", "label": f"<{k}"} for k, r in enumerate(rows)]
    assert bucket_rows(buckets) == _loop("buckets", rows=buckets)
    if n:
        assert "<img" not in comparison_rows(comparisons) and "&lt;img" in comparison_rows(comparisons)
        assert "&lt;0.001" in comparison_rows(comparisons)  # p below 0.001, escaped
