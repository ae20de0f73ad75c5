"""Render the leaderboard site: index, per-task pages, pairwise page, example browser, CSV and JSON exports."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from harness import __version__
from harness.errors import XRobustError
from harness.spec.languages import load_languages
from harness.spec.slices import load_buckets
from harness.stats.analysis import Analysis
from harness.stats.runs import load_runs, merge_per_task, unique_names
from harness.store.rundir import atomic_write_text
from reports.pages import example_context, index_context, task_context

DEFAULT_SLICES = ("morphologically_rich", "agglutinative", "low_resource", "non_latin_script")


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _pfmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def environment() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["pfmt"] = _pfmt
    env.globals["version"] = __version__
    return env


def build_site(run_dirs: list[Path], out: Path, *, title: str = "xrobust leaderboard", baseline: str | None = None,
               alpha: float = 0.05, correction: str = "holm", n_resamples: int = 2000,
               slices: tuple[str, ...] = DEFAULT_SLICES, examples_per_section: int = 12) -> Path:
    """Write the site into ``out``; returns the path of ``index.html``."""
    if correction not in ("holm", "bh", "none"):
        raise XRobustError("must be holm, bh or none", field="--correction")
    subs = merge_per_task(load_runs(run_dirs))
    unique_names(subs)
    names = [s.name for s in subs]
    if baseline is not None and baseline not in names:
        raise XRobustError(f"no submission named {baseline!r} (have: {', '.join(names)})", field="--baseline")
    analysis = Analysis(subs, baseline=baseline, alpha=alpha, n_resamples=n_resamples, correction=correction)
    board = analysis.leaderboard()
    table = load_languages()
    lang_groups = {name: table.select(name) for name in slices if name in table.slices}
    buckets = load_buckets()
    change = {(s.name, key): value for s in subs for key, value in s.change.items()}
    env = environment()
    out.mkdir(parents=True, exist_ok=True)
    common = {"title": title, "tasks": board["tasks"], "conditions": board["conditions"], "alpha": alpha,
              "correction": correction, "baseline": analysis.baseline, "n_resamples": n_resamples}

    def render(template: str, target: str, **context: object) -> None:
        atomic_write_text(out / target, env.get_template(template).render(**common, **context))

    render("index.html.j2", "index.html", subs=subs, **index_context(analysis, board))
    slice_rows: list[dict] = []
    for task in board["tasks"]:
        context = task_context(analysis, task, change, lang_groups, buckets)
        slice_rows += [{"task": task, "kind": "language_group", **r} for r in context["groups"]]
        slice_rows += [{"task": task, "kind": "bucket", **r} for r in context["buckets"]]
        render("task.html.j2", f"task-{task}.html", names=analysis.names, **context)
    pairwise = [((scope, cond), matrix) for scope in ["overall", *board["tasks"]] for cond in board["conditions"]
                if (matrix := analysis.pairwise(scope, cond))]
    gains = [row for task in board["tasks"] for row in analysis.gain_robustness(task)]
    render("pairwise.html.j2", "pairwise.html", matrices=pairwise, gains=gains)
    render("examples.html.j2", "examples.html", sections=example_context(analysis, examples_per_section))
    _exports(out, analysis, board, slice_rows, gains)
    return out / "index.html"


def _exports(out: Path, analysis: Analysis, board: dict, slice_rows: list[dict], gains: list[dict]) -> None:
    flat = []
    for (name, scope, cond), cell in sorted(board["rows"].items()):
        flat.append({"submission": name, "scope": scope, "condition": cond,
                     **{k: v for k, v in cell.items() if k != "over"}, "over": ",".join(cell["over"])})
    frames = {
        "leaderboard": pd.DataFrame(flat),
        "scores": pd.DataFrame(analysis.cell_rows()),
        "comparisons": pd.DataFrame(board["comparisons"]),
        "slices": pd.DataFrame(slice_rows),
        "gain_robustness": pd.DataFrame(gains),
    }
    for name, frame in frames.items():
        atomic_write_text(out / f"{name}.csv", frame.to_csv(index=False))
        records = json.loads(frame.to_json(orient="records", force_ascii=False))
        atomic_write_text(out / f"{name}.json", json.dumps(records, ensure_ascii=False, indent=1) + "\n")
