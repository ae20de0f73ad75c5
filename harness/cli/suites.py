"""``xrobust suites``: which languages each shipped suite condition perturbs, and what serves each one.

For every condition of every shipped suite and every language it claims, the source is asked of the step
that claims it (a perturbation's ``source(lang)``: the input model or layout of a typo step, the MUSE files
of a code-switching step, …; else its ``sources`` parameter). Coverage is counted against the XTREME-R
languages of ``tasks/languages.yaml``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from harness.errors import XRobustError


@dataclass(frozen=True)
class Claim:
    """One (condition, language) a suite claims, with the steps and sources that serve it."""

    suite: str
    condition: str
    lang: str
    steps: tuple[str, ...]
    sources: tuple[str, ...]

    @property
    def cell(self) -> str:
        """Short description for a table: the source(s) when one source or one perturbation serves the
        language, else the perturbations (a mixed condition; their sources are in the other columns)."""
        if self.sources and (len(self.sources) == 1 or len(set(self.steps)) == 1):
            return "; ".join(self.sources)
        return "+".join(dict.fromkeys(self.steps))


def step_source(step: Any, lang: str) -> str:
    """What serves ``lang`` in ``step``: its ``source(lang)``, else its ``sources`` parameter, else ''."""
    source = getattr(step, "source", None)
    if callable(source):
        return str(source(lang))
    sources = getattr(step.params, "sources", None)
    return "+".join(sources) if sources else ""


def collect(resources: str | None, names: list[str] | None = None) -> list[Claim]:
    """Every (suite, condition, language) claimed by the shipped suites (or ``names``), in file order."""
    from perturbations import list_suites, load_suite

    shipped = list_suites()
    for name in names or []:
        if name not in shipped:
            raise XRobustError(f"unknown suite {name!r} (shipped: {', '.join(shipped)})", field="--suite")
    claims = []
    for name in names or shipped:
        suite = load_suite(name, resources_dir=resources)
        for cond in suite.conditions:
            for lang in sorted(cond.languages):
                steps = [s for s in cond.steps if s.claims(lang)]
                sources = tuple(dict.fromkeys(f for s in steps if (f := step_source(s, lang))))
                claims.append(Claim(suite.name, cond.name, lang, tuple(s.name for s in steps), sources))
    return claims


def coverage(claims: list[Claim], languages: list[str]) -> dict[str, Any]:
    """Totals: per condition and per suite, how many of ``languages`` are claimed, and which are not."""
    known = set(languages)
    per_condition: dict[str, set[str]] = {}
    per_suite: dict[str, set[str]] = {}
    for c in claims:
        per_condition.setdefault(f"{c.suite}.{c.condition}", set()).add(c.lang)
        per_suite.setdefault(c.suite, set()).add(c.lang)

    def summary(langs: set[str]) -> dict[str, Any]:
        return {"claimed": len(langs & known), "of": len(languages),
                "missing": [lang for lang in languages if lang not in langs],
                "outside_table": sorted(langs - known)}

    everything = set().union(*per_suite.values()) if per_suite else set()
    return {"conditions": {k: summary(v) for k, v in per_condition.items()},
            "suites": {k: summary(v) for k, v in per_suite.items()}, "any": summary(everything)}


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        return out + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]


def render(claims: list[Claim], languages: list[str], scripts: dict[str, str], markdown: bool) -> str:
    totals = coverage(claims, languages)
    conds = list(totals["conditions"])
    lines = _table(["condition", "languages", "not claimed"],
                   [[name, f"{t['claimed']}/{t['of']}", ", ".join(t["missing"]) or "-"]
                    for name, t in totals["conditions"].items()], markdown)
    lines.append("")
    suites = ", ".join(f"{name} {t['claimed']}/{t['of']}" for name, t in totals["suites"].items())
    lines.append(f"Languages with at least one condition: {suites}; any suite {totals['any']['claimed']}/"
                 f"{totals['any']['of']}.")
    lines.append("")
    cells = {(f"{c.suite}.{c.condition}", c.lang): c.cell for c in claims}
    rows = [[lang, scripts.get(lang, "")] + [cells.get((cond, lang), "-") for cond in conds] for lang in languages]
    lines += _table(["lang", "script", *conds], rows, markdown)
    return "\n".join(lines)


def cmd_suites(args: argparse.Namespace) -> int:
    from harness.spec.languages import load_languages

    table = load_languages()
    languages = table.codes()
    claims = collect(args.resources, args.suite)
    if args.json:
        records = [{"suite": c.suite, "condition": c.condition, "lang": c.lang, "steps": list(c.steps),
                    "sources": list(c.sources)} for c in claims]
        print(json.dumps({"claims": records, "coverage": coverage(claims, languages)}, ensure_ascii=False,
                         indent=1))
        return 0
    scripts = {iso: table[iso].script for iso in languages}
    print(render(claims, languages, scripts, args.markdown))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("suites", help="list each suite condition's languages and what serves them, with coverage")
    p.add_argument("--resources", help="folder with unimorph/ and muse/ (default: $XROBUST_RESOURCES)")
    p.add_argument("--suite", action="append", help="only this shipped suite (repeatable)")
    p.add_argument("--json", action="store_true", help="claims and coverage totals as JSON")
    p.add_argument("--markdown", action="store_true", help="tables in Markdown (as in the README)")
    p.set_defaults(func=cmd_suites)
