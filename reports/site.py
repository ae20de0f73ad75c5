"""Render the leaderboard site: index, one page per task, CSV and JSON exports."""

from __future__ import annotations

import json
import math
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from harness import __version__
from harness.store import atomic_write_text
from reports.collect import leaderboard_rows, load_submission, score_frame, unique_names


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def environment() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.globals["version"] = __version__
    return env


def build_site(run_dirs: list[Path], out: Path, *, title: str = "xrobust leaderboard") -> Path:
    """Write ``out/index.html`` (+ task pages, leaderboard.csv/json, scores.csv/json); returns the index."""
    subs = [load_submission(Path(d)) for d in run_dirs]
    unique_names(subs)
    tasks, conditions, rows = leaderboard_rows(subs)
    frame = score_frame(subs)
    env = environment()
    out.mkdir(parents=True, exist_ok=True)
    common = {"title": title, "tasks": tasks, "conditions": conditions}
    atomic_write_text(out / "index.html", env.get_template("index.html.j2").render(rows=rows, subs=subs, **common))
    for task in tasks:
        part = frame[frame.task == task]
        langs = sorted(part.language.unique())
        metrics = sorted(part.metric.unique())
        table = {}
        for rec in part.to_dict("records"):
            table[(rec["submission"], rec["condition"], rec["metric"], rec["language"])] = rec
        html = env.get_template("task.html.j2").render(task=task, langs=langs, metrics=metrics, table=table,
                                                      names=[r["submission"] for r in rows], **common)
        atomic_write_text(out / f"task-{task}.html", html)
    flat = []
    for row in rows:
        entry = {"submission": row["submission"], "model": row["model"], "signature": row["signature"]}
        for cond, value in row["overall"].items():
            entry[f"overall/{cond}"] = value
        for task, per_cond in row["tasks"].items():
            for cond, avg in per_cond.items():
                entry[f"{task}/{cond}"] = avg["value"] if avg else None
        flat.append(entry)
    import pandas as pd

    atomic_write_text(out / "leaderboard.csv", pd.DataFrame(flat).to_csv(index=False))
    atomic_write_text(out / "leaderboard.json", json.dumps(flat, ensure_ascii=False, indent=2) + "\n")
    atomic_write_text(out / "scores.csv", frame.to_csv(index=False))
    atomic_write_text(out / "scores.json", frame.to_json(orient="records", force_ascii=False, indent=1) + "\n")
    return out / "index.html"
