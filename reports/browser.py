"""The example browser's sections as HTML, built in Python: the markup the Jinja loop it replaced wrote, byte
for byte (tested against it), every value escaped by :func:`reports.escaping.fast_escape`. A full XTREME-R site
holds ~4,000 sections of 12 examples × every submission; Jinja spent several seconds of the report's main
process on them."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from reports.escaping import fast_escape as _e

_SEGMENT = {"del": ("<del>", "</del> "), "ins": ("<ins>", "</ins> ")}


def _example(ex: dict, condition: str, out: list[str]) -> None:
    out.append(f'<div class="example">\n  <div class="muted">id {_e(ex["id"])} · gold <b>{_e(ex["gold"])}</b></div>\n')
    for f in ex["fields"]:
        out.append(f'  <div class="field"><span class="label">{_e(f["field"])}</span>')
        for seg in f["segments"]:
            before, after = _SEGMENT.get(seg["kind"], ("", " "))
            out.append(f"{before}{_e(seg['text'])}{after}")
        out.append("</div>\n")
    out.append('  <table>\n  <thead><tr><th class="name">Submission</th><th class="name">clean</th>'
               f'<th class="name">{condition}</th></tr></thead>\n  <tbody>\n')
    for p in ex["preds"]:
        out.append(f'  <tr><td class="name">{_e(p["submission"])}</td><td class="name">{_e(p["clean"])}</td>'
                   f'<td class="name {"ok" if p["correct"] else "wrong"}">{_e(p["perturbed"])}</td></tr>\n')
    out.append("  </tbody>\n  </table>\n</div>\n")


def sections_html(sections: Sequence[dict]) -> Markup:
    """The ``<details>`` of each section (:func:`reports.pages.example_context`), the first one open; a note
    when there is none. Without the last newline (the template's line gives it)."""
    if not sections:
        return Markup('<p class="muted">No example changed its prediction.</p>')
    out: list[str] = []
    for k, s in enumerate(sections):
        condition = _e(s["condition"])
        out.append(f'<details{" open" if k == 0 else ""}>\n<summary>{_e(s["task"])} · {_e(s["language"])} · '
                   f'{condition} ({len(s["examples"])})</summary>\n')
        for ex in s["examples"]:
            _example(ex, condition, out)
        out.append("</details>\n")
    return Markup("".join(out)[:-1])
