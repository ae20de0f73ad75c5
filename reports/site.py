"""Render the leaderboard site: index, per-task pages, pairwise page, example browser, CSV and JSON exports."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from harness import __version__
from harness.errors import XRobustError
from harness.spec.languages import load_languages
from harness.spec.paths import confined
from harness.spec.slices import load_buckets
from harness.stats.analysis import Analysis
from harness.stats.runs import load_runs
from harness.stats.systems import group_systems
from harness.store.rundir import atomic_write_text
from reports.csvcells import to_csv
from reports.pages import example_context, index_context, task_context

DEFAULT_SLICES = ("morphologically_rich", "agglutinative", "low_resource", "non_latin_script")
INLINE_SECTIONS = 200  # example sections examples.html shows itself; beyond, it only links the per-task pages
SPLIT_CELLS = 2000  # languages × systems × conditions beyond which a task gets one page per condition


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
               slices: tuple[str, ...] = DEFAULT_SLICES, examples_per_section: int = 12,
               resampling: str = "seeds", draws: str = "per-test", aso: bool = False, jobs: int = 1,
               cache_dir: Path | None = None, verify: str = "stamp", progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the site into ``out``; returns the path of ``index.html``. Runs that are seeds of one system
    (:func:`harness.stats.systems.group_systems`) are one row; ``resampling`` "seeds" (two-level bootstrap) or
    "examples" (seeds fixed); ``draws`` "per-test" (each cell, comparison and gain draws its own resamples) or
    "shared" (one draw per task, language and example set serves all of them: much faster at scale); ``aso``: Almost Stochastic Order against the baseline on per-seed scores.
    ``jobs`` processes compute the (task, language) cells; ``cache_dir`` (default ``out/.cache``) keeps unit
    digests and cell results for the next report; ``verify`` "stamp" rehashes only predictions files whose
    size or modification time changed since they were hashed, "full" every file."""
    if correction not in ("holm", "bh", "none"):
        raise XRobustError("must be holm, bh or none", field="--correction")
    if resampling not in ("seeds", "examples"):
        raise XRobustError("must be seeds or examples", field="--resampling")
    if draws not in ("per-test", "shared"):
        raise XRobustError("must be per-test or shared", field="--draws")
    systems = group_systems(load_runs(run_dirs))
    names = [s.name for s in systems]
    if baseline is not None and baseline not in names:
        raise XRobustError(f"no submission named {baseline!r} (have: {', '.join(names)})", field="--baseline")
    table = load_languages()
    lang_groups = {name: table.select(name) for name in slices if name in table.slices}
    buckets = load_buckets()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file in the way, no permission
        raise XRobustError(f"cannot create the site folder ({err.strerror or type(err).__name__})", file=out,
                           field="--out") from None
    analysis = Analysis(systems, baseline=baseline, alpha=alpha, n_resamples=n_resamples, correction=correction,
                        resampling=resampling, draws=draws, with_aso=aso, jobs=jobs,
                        cache_dir=cache_dir if cache_dir is not None else out / ".cache", verify=verify,
                        buckets=buckets, examples_per_section=examples_per_section, slices=lang_groups,
                        progress=progress)
    board = analysis.leaderboard()
    change = {(s.name, key): value for s in systems for key, value in s.first.change.items()}
    env = environment()
    common = {"title": title, "tasks": board["tasks"], "conditions": board["conditions"], "alpha": alpha,
              "correction": correction, "baseline": analysis.baseline, "n_resamples": n_resamples,
              "resampling": resampling, "draws": draws, "seeded": any(s.n_seeds > 1 for s in systems), "aso": aso,
              "incomplete": analysis.incomplete}

    def render(template: str, target: str, **context: object) -> None:
        page = confined(out, target, field="--out")  # a page named after a task stays in the site folder
        atomic_write_text(page, env.get_template(template).render(**common, **context))

    render("index.html.j2", "index.html", systems=systems, **index_context(analysis, board))
    slice_rows: list[dict] = []
    gains = {task: analysis.gain_robustness(task) for task in board["tasks"]}
    split_any = False
    for task in board["tasks"]:
        context = task_context(analysis, task, change, lang_groups, buckets)
        slice_rows += [{"task": task, "kind": "language_group", **r} for r in context["groups"]]
        slice_rows += [{"task": task, "kind": "bucket", **r} for r in context["buckets"]]
        conds = analysis.task_conditions(task)
        if len(conds) < 2 or len(context["langs"]) * len(analysis.names) * len(conds) <= SPLIT_CELLS:
            render("task.html.j2", f"task-{task}.html", names=analysis.names, **context, pages=[], condition=None,
                   gains=[])
            continue
        split_any = True  # one page per condition: a full XTREME-R task page would hold ~100,000 table cells
        pages = [(c, f"task-{task}.html" if k == 0 else f"task-{task}--{c}.html") for k, c in enumerate(conds)]
        for cond, href in pages:
            render("task.html.j2", href, names=analysis.names, **_only(context, cond), pages=pages, condition=cond,
                   gains=[g for g in gains[task] if g["condition"] == cond])
    pairwise = [((scope, cond), matrix) for scope in ["overall", *board["tasks"]] for cond in board["conditions"]
                if (matrix := analysis.pairwise(scope, cond))]
    flat_gains = [row for task in board["tasks"] for row in gains[task]]
    render("pairwise.html.j2", "pairwise.html", matrices=pairwise, gains=[] if split_any else flat_gains,
           gains_on_task_pages=split_any)
    per_task = {task: example_context(analysis, task) for task in board["tasks"]}
    for task, sections in per_task.items():
        render("examples.html.j2", f"examples-{task}.html", sections=sections, pages=[], task=task)
    inline = sum(len(s) for s in per_task.values()) <= INLINE_SECTIONS
    render("examples.html.j2", "examples.html", sections=[s for t in per_task.values() for s in t] if inline else [],
           pages=[(t, f"examples-{t}.html", len(s)) for t, s in per_task.items()], task=None)
    _exports(out, analysis, board, slice_rows, flat_gains)
    return out / "index.html"


def _only(context: dict, condition: str) -> dict:
    """A task page's context cut to one condition (its rows that name one; the rest as they are)."""
    out = dict(context)
    for key in ("heatmaps", "comparisons", "drops", "groups", "buckets"):
        out[key] = [r for r in context[key] if r.get("condition") == condition]
    return out


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
        atomic_write_text(out / f"{name}.csv", to_csv(frame))
        records = json.loads(frame.to_json(orient="records", force_ascii=False))
        atomic_write_text(out / f"{name}.json", json.dumps(records, ensure_ascii=False, indent=1) + "\n")
