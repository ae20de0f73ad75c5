"""The example browser's sections built in Python give the markup of the Jinja loop they replaced, byte for
byte, escaping every value (hostile names and texts included)."""

from __future__ import annotations

import pytest

from reports.browser import sections_html
from reports.site import environment

# the loop examples.html.j2 held before the sections were built in Python (its whitespace control as it was)
LOOP = """{% for s in sections %}
<details{% if loop.first %} open{% endif %}>
<summary>{{ s.task }} · {{ s.language }} · {{ s.condition }} ({{ s.examples | length }})</summary>
{% for ex in s.examples %}
<div class="example">
  <div class="muted">id {{ ex.id }} · gold <b>{{ ex.gold }}</b></div>
  {% for f in ex.fields %}
  <div class="field"><span class="label">{{ f.field }}</span>{% for seg in f.segments %}{% if seg.kind == "del" %}<del>{{ seg.text }}</del> {% elif seg.kind == "ins" %}<ins>{{ seg.text }}</ins> {% else %}{{ seg.text }} {% endif %}{% endfor %}</div>
  {% endfor %}
  <table>
  <thead><tr><th class="name">Submission</th><th class="name">clean</th><th class="name">{{ s.condition }}</th></tr></thead>
  <tbody>
  {% for p in ex.preds %}
  <tr><td class="name">{{ p.submission }}</td><td class="name">{{ p.clean }}</td><td class="name {{ 'ok' if p.correct else 'wrong' }}">{{ p.perturbed }}</td></tr>
  {% endfor %}
  </tbody>
  </table>
</div>
{% endfor %}
</details>
{% else %}
<p class="muted">No example changed its prediction.</p>
{% endfor %}
"""

HOSTILE = "<script>alert('x')</script> & \"q\""


def _section(k: int, n_examples: int) -> dict:
    examples = []
    for e in range(n_examples):
        segments = [{"kind": "same", "text": f"word{e} {HOSTILE}"}, {"kind": "del", "text": "<b>gone</b>"},
                    {"kind": "ins", "text": "new & 'odd'"}][: 1 + e % 3]
        examples.append({"id": f"id-{e}<", "gold": HOSTILE if e % 2 else "entailment",
                         "fields": [{"field": "premise", "segments": segments},
                                    {"field": "hyp&thesis", "segments": []}][: 1 + e % 2],
                         "preds": [{"submission": name, "clean": "a" if e % 2 else "", "perturbed": "<i>b</i>",
                                    "correct": (e + i) % 2 == 0}
                                   for i, name in enumerate(["base", "sys <evil>", "o'neil"])]})
    return {"task": f"xnli{k}", "language": "de\"", "condition": f"typos.{k}<x>", "examples": examples}


@pytest.mark.parametrize("sections", [[], [_section(0, 0)], [_section(0, 3)],
                                      [_section(k, k % 4) for k in range(6)]])
def test_sections_are_the_jinja_loops_markup(sections: list[dict]) -> None:
    expected = environment().from_string(LOOP).render(sections=sections)
    assert sections_html(sections) + "\n" == expected
    if any(s["examples"] for s in sections):
        assert "<script>" not in sections_html(sections) and "&lt;script&gt;" in sections_html(sections)
