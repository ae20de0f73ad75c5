"""Benchmark: ``xrobust report`` at XTREME-R scale — submissions × tasks × languages × conditions × examples.

Run directories are fabricated with :mod:`harness.store.synthetic` (every task type's records: labels, tags, answers,
rankings; correctness correlated between submissions and between clean and perturbed conditions), in parallel.
The full grid is fabricated once; a smaller scale (a fraction of the languages: ¼, ½, all by default) is the
same run dirs restricted to its languages (hard links). Per scale, the report runs as a subprocess the way
users run it (``python -m harness.cli report … --jobs N``):

- **cold**: N submissions, empty cache (every unit's columns read, or its predictions parsed where it has
  none; every cell computed);
- **warm**: one submission added (N + 1), same cache. With shared draws only the new submission's parts are
  computed (with the baseline's columns its comparisons need); the old submissions are read from their parts'
  heads and their cached task averages and bucket rows, and the pages are rendered again. With per-test draws
  every job that now has one more system is recomputed (its cache key names the systems it holds).

``--draws`` is the report's (default here ``shared``: the draws that make this scale feasible; ``per-test``
times the earlier estimator).

Per report: wall seconds and peak RSS (the report process plus its largest worker, from ``getrusage``), and how
long headless Chromium takes to load the index. ``--json PATH`` writes
``{"cells": …, "seconds_cold": …, "seconds_warm": …, "peak_rss_mb": …, "scales": [...]}`` for the largest scale.

    python benchmarks/report_scale.py                                   # 12 × 11 × 40 × 10 × 1,000 (the goal)
    python benchmarks/report_scale.py --langs 8 --examples 500 --scales 1 --keep /tmp/rs   # a quick look
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.store.synthetic import CONDITIONS, LANGUAGES, TASKS, write_submission  # noqa: E402

PEAK = """
import resource, runpy, sys
sys.argv = ["xrobust", *sys.argv[1:]]
try:
    runpy.run_module("harness.cli", run_name="__main__")
except SystemExit as done:
    code = done.code
else:
    code = 0
self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"PEAK {self_mb:.0f} {child_mb:.0f}", file=sys.stderr)
sys.exit(code)
"""


def _write(args: tuple) -> str:
    root, index, n_subs, tasks, langs, conds, n_examples = args
    write_submission(root, index, n_subs, [t for t in TASKS if t.name in tasks], langs, conds, n_examples,
                     results=False)
    return root


def fabricate(root: Path, n_subs: int, tasks: list[str], langs: list[str], conds: list[str], n_examples: int,
              jobs: int) -> list[Path]:
    """``n_subs`` run dirs under ``root`` (reused when a marker says they hold this grid)."""
    marker = root / "grid.json"
    params = {"subs": n_subs, "tasks": tasks, "langs": langs, "conds": conds, "examples": n_examples}
    dirs = [root / f"run-{i:02d}" for i in range(n_subs)]
    if marker.is_file() and json.loads(marker.read_text()) == params:
        return dirs
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    t0 = time.perf_counter()
    work = [(str(d), i, n_subs, tasks, langs, conds, n_examples) for i, d in enumerate(dirs)]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for done in pool.imap_unordered(_write, work):
            print(f"  fabricated {done}", flush=True)
    marker.write_text(json.dumps(params))
    print(f"fabricated {n_subs} submissions in {time.perf_counter() - t0:.0f} s", flush=True)
    return dirs


def subset(full: list[Path], root: Path, langs: list[str]) -> list[Path]:
    """Run dirs under ``root`` holding the units of ``langs`` only: hard links to the files of ``full`` (a
    smaller scale of the same grid, without fabricating it again)."""
    shutil.rmtree(root, ignore_errors=True)
    dirs = []
    for src in full:
        dst = root / src.name
        (dst / "predictions").mkdir(parents=True)
        shutil.copy2(src / "run.json", dst / "run.json")
        for task in (src / "predictions").iterdir():
            (dst / "predictions" / task.name).mkdir()
            for f in task.iterdir():
                if f.name.split(".", 1)[0] in langs:
                    os.link(f, dst / "predictions" / task.name / f.name)
        dirs.append(dst)
    return dirs


def report(runs: list[Path], site: Path, cache: Path, resamples: int, jobs: int, draws: str) -> tuple[float, float]:
    """Wall seconds and peak MB (process + largest worker) of one ``xrobust report``."""
    command = [sys.executable, "-c", PEAK, "report", *map(str, runs), "--out", str(site), "--cache", str(cache),
               "--resamples", str(resamples), "--jobs", str(jobs), "--no-progress", "--draws", draws]
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"report failed ({done.returncode}):\n{done.stderr[-3000:]}")
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK ")][-1].split()
    return wall, float(peak[1]) + float(peak[2])


def browser_seconds(page: Path) -> float | None:
    """Seconds headless Chromium takes to load and lay out ``page`` (None without Chromium)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    with tempfile.TemporaryDirectory() as profile:
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}"]
        subprocess.run([browser, *flags, "--dump-dom", "about:blank"], capture_output=True, timeout=120)
        t0 = time.perf_counter()
        subprocess.run([browser, *flags, "--dump-dom", page.resolve().as_uri()], capture_output=True, timeout=300,
                       check=True)
        loaded = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([browser, *flags, "--dump-dom", "about:blank"], capture_output=True, timeout=120)
        return loaded - (time.perf_counter() - t0)  # less the browser's own start-up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subs", type=int, default=12)
    parser.add_argument("--tasks", type=int, default=len(TASKS), help=f"first N of the {len(TASKS)} tasks")
    parser.add_argument("--langs", type=int, default=len(LANGUAGES))
    parser.add_argument("--conds", type=int, default=len(CONDITIONS))
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=0, help="report processes (0: one per core)")
    parser.add_argument("--scales", default="0.25,0.5,1", help="fractions of the languages to time")
    parser.add_argument("--draws", default="shared", choices=["per-test", "shared"], help="the report's --draws")
    parser.add_argument("--keep", help="directory for the fabricated run dirs, reused when already there")
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args()
    jobs = args.jobs or len(os.sched_getaffinity(0))
    tasks = [t.name for t in TASKS[: args.tasks]]
    conds = list(CONDITIONS[: args.conds])
    rows = []
    with tempfile.TemporaryDirectory(prefix="report-scale-") as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        every = list(LANGUAGES[: args.langs])
        full = fabricate(base / f"runs-{len(every)}", args.subs + 1, tasks, every, conds, args.examples, jobs)
        for scale in (float(x) for x in args.scales.split(",")):
            langs = list(LANGUAGES[: max(1, round(args.langs * scale))])
            runs = full if langs == every else subset(full, Path(tmp) / f"runs-{len(langs)}", langs)
            site, cache = Path(tmp) / f"site-{len(langs)}", Path(tmp) / f"cache-{len(langs)}"
            cold, cold_mb = report(runs[:-1], site, cache, args.resamples, jobs, args.draws)
            warm, warm_mb = report(runs, site, cache, args.resamples, jobs, args.draws)
            index = browser_seconds(site / "index.html")
            cells = args.subs * len(tasks) * len(langs) * len(conds)
            row = {"scale": scale, "cells": cells, "submissions": args.subs, "tasks": len(tasks),
                   "languages": len(langs), "conditions": len(conds), "examples": args.examples,
                   "resamples": args.resamples, "draws": args.draws, "jobs": jobs, "seconds_cold": round(cold, 1),
                   "seconds_warm": round(warm, 1), "peak_rss_mb": round(max(cold_mb, warm_mb)),
                   "index_load_s": None if index is None else round(index, 2)}
            rows.append(row)
            print(f"scale {scale:g}: {cells} cells ({args.subs} × {len(tasks)} × {len(langs)} × {len(conds)}, "
                  f"{args.examples} examples, {args.resamples} resamples, draws {args.draws}, {jobs} jobs): cold {cold:.1f} s "
                  f"{cold_mb:.0f} MB; warm (+1 submission) {warm:.1f} s {warm_mb:.0f} MB; index in Chromium "
                  f"{'n/a' if index is None else f'{index:.2f} s'}", flush=True)
            shutil.rmtree(cache, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({**rows[-1], "scales": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
