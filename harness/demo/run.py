"""``xrobust demo``: fully offline, clean and under the demo perturbation suite, rendered as an HTML leaderboard.

With ``--data-dir`` holding ``udpos/``: the zero-shot protocol in miniature — the rebuilt multilingual-e5-small
fine-tuned on English UD-POS, plainly and with perturbed training copies (robust training), each evaluated on
de/fi/tr/ru/hu UD-POS and on the embedded Tatoeba-style retrieval mini-benchmark. Fine-tuned checkpoints are
cached (``$XROBUST_CACHE``, else ``~/.cache/xrobust``) under a hash of base weights, training data and recipe,
so only the first demo pays for training. Without UD-POS data: the untuned encoder against its 4-layer cut on
the mini-benchmark."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.models.loading import RuntimeOptions
from harness.run.runner import Runner, RunRequest
from harness.spec.taskspec import TaskSpec, load_task, resolve_task

log = logging.getLogger(__name__)

DEMO_DATA = Path(__file__).resolve().parent / "data"
DEMO_SUITE = DEMO_DATA / "demo_suite.yaml"
POS_LANGS = ["de", "fi", "tr", "ru", "hu"]
POS_EVAL_LIMIT = 80  # sentences per language
# A CPU-sized English UD-POS fine-tune (~1 minute on 2 cores): 40 steps of 16 sentences from the first 640.
POS_RECIPE = {"max_steps": 40, "batch_size": 16, "learning_rate": 3e-4, "max_length": 48, "seed": 1}
POS_TRAIN_LIMIT = "640"
ROBUST_SUITE = "typos"  # one keyboard-typo / character-noise copy of every English training sentence


@dataclass(frozen=True)
class Submission:
    name: str
    model: Path
    slug: str
    description: str


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


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def finetuned_pos(base: Path, data_dir: Path, cache: Path, *, augment: str | None, progress: bool) -> Path:
    """e5-small fine-tuned on English UD-POS with the demo recipe (optionally with ``augment`` copies), built once
    and cached under a hash of the base weights, the training file, the recipe and the augmentation."""
    from harness.finetune.card import read_card
    from harness.finetune.train import FinetuneRequest, finetune
    from harness.models.loading import weights_fingerprint

    train_file = data_dir / "udpos" / "en.train.jsonl"
    blob = json.dumps([weights_fingerprint(str(base)), _file_sha(train_file), POS_RECIPE, POS_TRAIN_LIMIT,
                       augment], sort_keys=True)
    key = hashlib.sha256(blob.encode()).hexdigest()[:10]
    out = cache / f"demo-e5-udpos-{'robust' if augment else 'baseline'}-{key}"
    if read_card(out) is not None:
        return out
    log.warning("demo: fine-tuning e5-small on English UD-POS%s (once; cached in %s)",
                f" + {augment} copies" if augment else "", out)
    request = FinetuneRequest(
        model=str(base), task="udpos", out=out, train_limit=POS_TRAIN_LIMIT, data_dir=data_dir,
        augment=augment, augment_copies=1, overrides=dict(POS_RECIPE), overwrite=True, progress=progress,
        device="cpu", command=["xrobust", "demo"])
    return finetune(request)


def pos_part(e5: Path, data_dir: Path | None, cache: Path, *, progress: bool
             ) -> tuple[TaskSpec | None, list[Submission]]:
    """The fine-tuned UD-POS submissions, or nothing (with a warning) when ``data_dir`` lacks UD-POS."""
    if data_dir is None or not (data_dir / "udpos" / "en.train.jsonl").is_file():
        log.warning("demo: no udpos/en.train.jsonl under --data-dir (%s); the fine-tuned UD-POS part is skipped",
                    data_dir)
        return None, []
    task = resolve_task("udpos")
    baseline = finetuned_pos(e5, data_dir, cache, augment=None, progress=progress)
    robust = finetuned_pos(e5, data_dir, cache, augment=ROBUST_SUITE, progress=progress)
    recipe = (f"{POS_RECIPE['max_steps']} steps x {POS_RECIPE['batch_size']} English UD-POS sentences, "
              f"lr {POS_RECIPE['learning_rate']}")
    return task, [
        Submission("e5-small fine-tuned on English UD-POS", baseline, "e5-udpos",
                   f"zero-shot baseline: {recipe}"),
        Submission("e5-small fine-tuned on English UD-POS + typo copies", robust, "e5-udpos-robust",
                   f"robust training: {recipe}, plus one perturbed copy of each sentence ({ROBUST_SUITE} suite)"),
    ]


def _evaluate(task: TaskSpec, sub: Submission, out: Path, *, suite: Any, data_dir: Path, langs: list[str] | None,
              limit: int | None, options: RuntimeOptions) -> Path:
    """Clean and every condition of the demo suite (one run; clean is part of it) into ``out/runs/<slug>``."""
    run_dir = out / "runs" / sub.slug
    request = RunRequest(tasks=[task], model=str(sub.model), out=run_dir, name=sub.name, data_dir=data_dir,
                         langs=langs, limit=limit, suite=suite, options=options,
                         metadata={"description": sub.description})
    Runner(request).run()
    return run_dir


def run_demo(out: Path, *, data_dir: Path | None = None, progress: bool = True) -> Path:
    """Run the demo into ``out`` (runs/ and site/); returns the report's index.html.

    With UD-POS data: the two fine-tuned submissions, each evaluated on zero-shot UD-POS and on the retrieval
    mini-benchmark (so every submission covers every task and the overall leaderboard is defined). Without it:
    the untuned encoder against its 4-layer cut on the retrieval mini-benchmark only."""
    from harness.models.offline_e5 import default_cache_dir, ensure_checkpoint
    from perturbations import load_suite
    from reports import build_site

    e5 = ensure_checkpoint()
    cache = default_cache_dir().parent
    options = RuntimeOptions(batch_size=32, progress=progress)
    retrieval = load_task(DEMO_DATA / "demo_tatoeba.yaml")
    suite = load_suite(DEMO_SUITE, resources_dir=None)
    pos_task, subs = pos_part(e5, data_dir, cache, progress=progress)
    if not subs:
        small = truncated_encoder(e5, cache / "offline-e5-4layers", layers=4)
        subs = [Submission("multilingual-e5-small (4-bit, dequantized)", e5, "e5-small",
                           "untuned encoder, mean-pooled sentence embeddings"),
                Submission("e5-small, first 4 layers", small, "e5-small-4layers",
                           "the same encoder cut to its first 4 layers")]
    run_dirs = []
    for sub in subs:
        run_dir = _evaluate(retrieval, sub, out, suite=suite, data_dir=DEMO_DATA, langs=None, limit=None, options=options)
        if pos_task is not None and data_dir is not None:
            _evaluate(pos_task, sub, out, suite=suite, data_dir=data_dir, langs=POS_LANGS, limit=POS_EVAL_LIMIT,
                      options=options)
        run_dirs.append(run_dir)
    title = ("xrobust demo: e5-small fine-tuned on English UD-POS, plain vs robust — zero-shot UD-POS and retrieval"
             if pos_task is not None else "xrobust demo leaderboard (embedded mini-benchmark)")
    return build_site(run_dirs, out / "site", title=title)
