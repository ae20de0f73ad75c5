"""``xrobust demo``: fully offline — the rebuilt multilingual-e5-small and a smaller variant of it, evaluated
on the embedded mini-benchmark (clean and under perturbation suites), rendered as an HTML leaderboard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.modeling import RuntimeOptions
from harness.runner import Runner, RunRequest
from harness.taskspec import load_task

DEMO_DATA = Path(__file__).resolve().parent / "demo_data"
DEMO_SUITE = DEMO_DATA / "demo_suite.yaml"


def truncated_encoder(source: Path, out: Path, layers: int) -> Path:
    """Save ``source`` cut to its first ``layers`` transformer layers (a smaller, weaker submission)."""
    marker = out / "xrobust-truncated.json"
    if marker.exists():
        return out
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(source)
    model.encoder.layer = model.encoder.layer[:layers]
    model.config.num_hidden_layers = layers
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    AutoTokenizer.from_pretrained(source).save_pretrained(tmp)
    (tmp / "xrobust-truncated.json").write_text(json.dumps({"source": str(source), "layers": layers}) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def _suites() -> list:
    from perturbations import load_suite

    return [load_suite(DEMO_SUITE, resources_dir=None)]


def run_demo(out: Path, *, progress: bool = True) -> Path:
    """Run the demo into ``out`` (runs/ and site/); returns the report's index.html."""
    from harness.offline_e5 import default_cache_dir, ensure_checkpoint
    from reports import build_site

    e5 = ensure_checkpoint()
    small = truncated_encoder(e5, default_cache_dir().parent / "offline-e5-4layers", layers=4)
    task = load_task(DEMO_DATA / "demo_tatoeba.yaml")
    options = RuntimeOptions(batch_size=32, progress=progress)
    submissions = [("multilingual-e5-small (4-bit, dequantized)", e5, "e5-small"),
                   ("e5-small, first 4 layers", small, "e5-small-4layers")]
    run_dirs = []
    for name, model, slug in submissions:
        run_dir = out / "runs" / slug
        for suite in [None, *_suites()]:
            request = RunRequest(tasks=[task], model=str(model), out=run_dir, name=name, data_dir=DEMO_DATA,
                                 suite=suite, options=options,
                                 metadata={"description": "xrobust offline demo submission"})
            Runner(request).run()
        run_dirs.append(run_dir)
    return build_site(run_dirs, out / "site", title="xrobust demo leaderboard (embedded mini-benchmark)")
