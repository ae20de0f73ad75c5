"""Render the leaderboard site: index, per-task pages, pairwise page, example browser, CSV and JSON exports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pandas as pd
from jinja2 import Environment, PackageLoader, Template, select_autoescape

from harness import __version__
from harness.errors import XRobustError
from harness.spec.languages import load_languages
from harness.spec.paths import confined
from harness.spec.slices import load_buckets
from harness.stats.analysis import Analysis
from harness.stats.runs import load_runs
from harness.stats.systems import group_systems
from harness.store.rundir import MetaIndex, atomic_write_text, loads
from reports.browser import sections_html
from reports.csvcells import to_csv
from reports.escaping import fast_escape
from reports.pages import example_context, index_context, task_context
from reports.tables import (
    bucket_rows,
    comparison_rows,
    drop_rows,
    fmt,
    gain_rows,
    group_rows,
    heatmap_rows,
    pfmt,
)

DEFAULT_SLICES = ("morphologically_rich", "agglutinative", "low_resource", "non_latin_script")
INLINE_SECTIONS = 200  # example sections examples.html shows itself; beyond, it only links the per-task pages
SPLIT_CELLS = 2000  # languages × systems × conditions beyond which a task gets one page per condition


_DICT_NAMES = frozenset(dir(dict))


class _Environment(Environment):
    """Jinja's environment with ``row.field`` on a plain dict looked up as the key first: the answer Jinja gives
    (a dict has no such attribute, so it falls back to the key), without the AttributeError it raises and
    catches on the way (31 of 73 CPU-s of a full-size site's rendering, profiled). Names of dict methods (``.get``, ``.items``)
    take Jinja's own path, attribute first."""

    def getattr(self, obj: object, attribute: str) -> object:
        if type(obj) is dict and attribute not in _DICT_NAMES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


class _Template(Template):
    """A template whose ``{{ value }}`` outputs escape with :func:`fast_escape`."""

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN206, A002
        template = super().from_code(environment, code, globals, uptodate)
        template.root_render_func.__globals__["escape"] = fast_escape  # the compiled module's own name
        return template


def environment() -> Environment:
    env = _Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.template_class = _Template
    env.filters["fmt"] = fmt
    env.filters["pfmt"] = pfmt
    for builder in (heatmap_rows, comparison_rows, drop_rows, gain_rows, group_rows, bucket_rows):
        env.filters[builder.__name__] = builder
    env.filters["sections_html"] = sections_html
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
    cache = cache_dir if cache_dir is not None else out / ".cache"
    metas = MetaIndex(cache / "metas") if verify == "stamp" else None  # "full": every meta file read
    systems = group_systems(load_runs(run_dirs, metas))
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
    change = {(s.name, key): value for s in systems for key, value in s.first.change.items()}
    common = {"title": title, "tasks": [], "conditions": [], "alpha": alpha,
              "correction": correction, "baseline": None, "n_resamples": n_resamples,
              "resampling": resampling, "draws": draws, "seeded": any(s.n_seeds > 1 for s in systems), "aso": aso,
              "incomplete": []}
    site = _Site(out, systems, change, lang_groups, buckets, common)
    analysis = Analysis(systems, baseline=baseline, alpha=alpha, n_resamples=n_resamples, correction=correction,
                        resampling=resampling, draws=draws, with_aso=aso, jobs=jobs,
                        cache_dir=cache, verify=verify,
                        buckets=buckets, examples_per_section=examples_per_section, slices=lang_groups,
                        progress=progress, on_task=site.task_done)
    board = analysis.leaderboard()
    site.finish(analysis, board)
    pages = [("index", ""), ("pairwise", ""), ("examples", "")]
    _each(site, pages)
    slice_rows = [row for task in board["tasks"] for row in site.slice_rows[task]]
    _each(site, [("export", name) for name in EXPORTS], slice_rows)
    return out / "index.html"


EXPORTS = ("leaderboard", "scores", "comparisons", "slices", "gain_robustness")


def _split(analysis: Analysis, task: str) -> bool:
    """Whether ``task`` gets one page per condition (a full XTREME-R task page would hold ~100,000 table
    cells)."""
    conds = analysis.task_conditions(task)
    langs = {k[1] for k in analysis.cells if k[0] == task}
    return len(conds) >= 2 and len(langs) * len(analysis.names) * len(conds) > SPLIT_CELLS


class _Site:
    """What every page is rendered from (one report's analysis, in memory), and the rendering of each page. A
    task's pages are written as soon as its numbers are in (:meth:`task_done`, while the analysis goes on with
    the next tasks), under the tasks and conditions the analysis planned; :meth:`finish` rewrites them in the
    rare case the leaderboard's differ (a planned task or condition without a cell)."""

    def __init__(self, out: Path, systems: list, change: dict, lang_groups: dict[str, list[str]], buckets: list,
                 common: dict) -> None:
        self.out, self.systems, self.change = out, systems, change
        self.lang_groups, self.buckets, self.common = lang_groups, buckets, common
        self.env = environment()
        self.analysis: Analysis | None = None
        self.board: dict = {}
        self.split_any = False
        self.gains: dict[str, list[dict]] = {}  # corrected once per task
        self.slice_rows: dict[str, list[dict]] = {}
        self.written: dict[str, list[Path]] = {}  # task → its pages

    def task_done(self, analysis: Analysis, task: str) -> None:
        """Write ``task``'s pages (its numbers are all in); the nav names the planned tasks and conditions."""
        if self.analysis is None:
            self.analysis = analysis
            self.common.update(tasks=analysis.planned_tasks, conditions=analysis.planned_conditions,
                               baseline=analysis.baseline, incomplete=analysis.incomplete)
        self._task_pages(task)
        for cond in analysis.task_conditions(task):  # the task's leaderboard part and pairwise matrices, while the
            analysis.scope_board(task, cond)         # pool runs (not all at the end)
            analysis.pairwise(task, cond)

    def finish(self, analysis: Analysis, board: dict) -> None:
        """The leaderboard is in: the task pages rewritten if its tasks or conditions are not the planned ones."""
        self.analysis, self.board = analysis, board
        planned = (self.common["tasks"], self.common["conditions"])
        self.common.update(tasks=board["tasks"], conditions=board["conditions"], baseline=analysis.baseline,
                           incomplete=analysis.incomplete)
        self.split_any = any(_split(analysis, task) for task in board["tasks"])
        if planned != (board["tasks"], board["conditions"]):
            for task in list(self.written):
                for page in self.written.pop(task):
                    page.unlink(missing_ok=True)
                self.slice_rows.pop(task, None)
            for task in board["tasks"]:
                self._task_pages(task)

    def _task_pages(self, task: str) -> None:
        self.written[task] = []
        self.slice_rows[task] = self._task(task)
        self.render("examples.html.j2", f"examples-{task}.html", sections=example_context(self._analysis, task),
                    pages=[], task=task)

    @property
    def _analysis(self) -> Analysis:
        assert self.analysis is not None
        return self.analysis

    def task_gains(self, task: str) -> list[dict]:
        if task not in self.gains:
            self.gains[task] = self._analysis.gain_robustness(task)
        return self.gains[task]

    def render(self, template: str, target: str, **context: object) -> None:
        page = confined(self.out, target, field="--out")  # a page named after a task stays in the site folder
        atomic_write_text(page, self.env.get_template(template).render(**self.common, **context))
        task = context.get("task")
        if isinstance(task, str) and task in self.written:
            self.written[task].append(page)

    def all_gains(self) -> list[dict]:
        return [row for task in self.board["tasks"] for row in self.task_gains(task)]

    def page(self, kind: str, name: str, slice_rows: list[dict] | None = None) -> None:
        """Write one page (or export) of the site (the leaderboard's: the task pages are written already)."""
        analysis, board = self._analysis, self.board
        if kind == "index":
            self.render("index.html.j2", "index.html", systems=self.systems, **index_context(analysis, board))
        elif kind == "pairwise":
            matrices = [((scope, cond), matrix) for scope in ["overall", *board["tasks"]]
                        for cond in board["conditions"] if (matrix := analysis.pairwise(scope, cond))]
            self.render("pairwise.html.j2", "pairwise.html", matrices=matrices,
                        gains=[] if self.split_any else self.all_gains(), gains_on_task_pages=self.split_any)
        elif kind == "examples":
            counts = {t: sum(1 for s in analysis.examples if s["task"] == t) for t in board["tasks"]}
            inline = sum(counts.values()) <= INLINE_SECTIONS
            sections = [s for t in board["tasks"] for s in example_context(analysis, t)] if inline else []
            self.render("examples.html.j2", "examples.html", sections=sections,
                        pages=[(t, f"examples-{t}.html", n) for t, n in counts.items()], task=None)
        elif kind == "export":
            _export(self.out, name, self._frame(name, slice_rows or []))

    def _task(self, task: str) -> list[dict]:
        """Write the task's page (one per condition when split); its slice rows (for the slices export)."""
        analysis = self._analysis
        context = task_context(analysis, task, self.change, self.lang_groups, self.buckets)
        rows = [{"task": task, "kind": "language_group", **r} for r in context["groups"]]
        rows += [{"task": task, "kind": "bucket", **r} for r in context["buckets"]]
        if not _split(analysis, task):
            self.render("task.html.j2", f"task-{task}.html", names=analysis.names, **context, pages=[],
                        condition=None, gains=[])
            return rows
        gains = self.task_gains(task)
        conds = analysis.task_conditions(task)
        pages = [(c, f"task-{task}.html" if k == 0 else f"task-{task}--{c}.html") for k, c in enumerate(conds)]
        for cond, href in pages:
            self.render("task.html.j2", href, names=analysis.names, **_only(context, cond), pages=pages,
                        condition=cond, gains=[g for g in gains if g["condition"] == cond])
        return rows

    def _frame(self, name: str, slice_rows: list[dict]) -> pd.DataFrame:
        if name == "leaderboard":
            flat = [{"submission": n, "scope": scope, "condition": cond, **{k: v for k, v in cell.items() if k != "over"},
                     "over": ",".join(cell["over"])} for (n, scope, cond), cell in sorted(self.board["rows"].items())]
            return pd.DataFrame(flat)
        if name == "scores":
            return pd.DataFrame(self._analysis.cell_rows())
        if name == "comparisons":
            return pd.DataFrame(self.board["comparisons"])
        if name == "slices":
            return pd.DataFrame(slice_rows)
        return pd.DataFrame(self.all_gains())


def _each(site: _Site, pages: list[tuple[str, str]], slice_rows: list[dict] | None = None) -> None:
    """Write ``pages`` in order, in this process: rendering in forked processes made a full XTREME-R warm report
    no faster (135.0 s against 133.8 s) while each process touched the whole analysis (peak RSS 3,955 MB
    against 2,876 MB); the task pages, most of the site, are instead written while the analysis runs
    (:meth:`_Site.task_done`)."""
    for kind, name in pages:
        site.page(kind, name, slice_rows)


def _only(context: dict, condition: str) -> dict:
    """A task page's context cut to one condition (its rows that name one; the rest as they are)."""
    out = dict(context)
    for key in ("heatmaps", "comparisons", "drops", "groups", "buckets"):
        out[key] = [r for r in context[key] if r.get("condition") == condition]
    return out


def _export(out: Path, name: str, frame: pd.DataFrame) -> None:
    atomic_write_text(out / f"{name}.csv", to_csv(frame))
    records = loads(frame.to_json(orient="records", force_ascii=False))  # pandas' numbers, NaN as null
    atomic_write_text(out / f"{name}.json", orjson.dumps(records, option=orjson.OPT_INDENT_2).decode() + "\n")
