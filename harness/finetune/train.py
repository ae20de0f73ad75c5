"""``xrobust finetune``: fine-tune a checkpoint on a task's training split with the head its task type needs,
optionally after intermediate tasks (X-STILTs, arXiv 2005.13013) and with perturbed training copies, and
save a normal checkpoint (model, tokenizer, ``xrobust-card.json``, README.md) that ``xrobust run`` evaluates.

Between stages the head is replaced: each stage loads the base checkpoint with a fresh head of its own
class, then copies in the encoder weights the previous stage trained (``model.base_model``).

:func:`finetune_seeds` trains one checkpoint per seed of the same recipe (``xrobust finetune --seeds``);
``select_on="dev"`` keeps the weights with the best source-language dev score (:mod:`.select`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import tasktypes
from harness.data.examples import load_examples, local_path
from harness.errors import XRobustError
from harness.finetune.card import build_card, write_card
from harness.finetune.data import TrainingData, augment, check_labels, ids_hash, load_training, parse_limits
from harness.finetune.features import PadCollator, build_features
from harness.finetune.params import HyperParams, resolve_params
from harness.finetune.select import DevSet, Selector, check_selection
from harness.models.loading import weights_fingerprint
from harness.spec.taskspec import TaskSpec, builtin_task_files, resolve_task

log = logging.getLogger(__name__)


@dataclass
class FinetuneRequest:
    """Everything ``xrobust finetune`` was asked to do."""

    model: str
    task: str
    out: Path
    train_langs: list[str] = field(default_factory=list)  # empty: the task's source language
    train_split: str | None = None  # default: the task's `splits.train`
    train_limit: str | None = None  # N (every stage) or LANG=N,… (target stage)
    intermediate: list[str] = field(default_factory=list)  # TASK[:SPLIT], trained in order before the task
    augment: str | None = None  # perturbation suite (target stage only)
    augment_copies: int = 1
    resources: str | None = None
    data_dir: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # CLI hyper-parameters (every stage)
    overwrite: bool = False
    progress: bool = True
    device: str = "auto"
    command: list[str] = field(default_factory=list)
    select_on: str = "last"  # last | dev (keep the best source-language dev checkpoint)
    eval_steps: int | None = None  # score the dev set every N optimizer steps (select_on="dev")
    dev_split: str | None = None  # default: the task's `splits.dev`, else validation
    dev_holdout: int = 0  # > 0: the last N training examples per language are the dev set instead
    dev_limit: int | None = None  # first N dev examples per language
    seeds: list[int] = field(default_factory=list)  # the seed set this checkpoint belongs to (for the card)


@dataclass
class Stage:
    spec: TaskSpec
    split: str
    langs: list[str]
    role: str  # intermediate | target
    params: HyperParams
    data: TrainingData | None = None
    dev: DevSet | None = None


def task_for(ref: str, flag: str) -> TaskSpec:
    """A built-in task name or a task YAML path; unknown names are a one-line error naming ``flag``."""
    path = Path(ref)
    if path.suffix not in (".yaml", ".yml") and not path.exists() and ref not in builtin_task_files():
        raise XRobustError(f"unknown task {ref!r} (built-in: {', '.join(builtin_task_files())}; or a path to a "
                           "task YAML file)", field=flag)
    return resolve_task(ref)


def plan_stages(req: FinetuneRequest) -> list[Stage]:
    stages = []
    for item in req.intermediate:
        ref, _, split = item.partition(":")
        spec = task_for(ref.strip(), "--intermediate")
        stages.append(Stage(spec, split.strip() or spec.splits.get("train", "train"), [spec.source_language],
                            "intermediate", resolve_params(spec, req.overrides)))
    spec = task_for(req.task, "--task")
    split = req.train_split or spec.splits.get("train", "train")
    stages.append(Stage(spec, split, list(req.train_langs) or [spec.source_language], "target",
                        resolve_params(spec, req.overrides)))
    return stages


def load_head(base: str, spec: TaskSpec, seed: int) -> tuple[Any, list[str]]:
    """``base`` with a fresh head for ``spec``'s type; returns (model, names of newly initialised weights)."""
    import torch
    import transformers

    task_type = tasktypes.get(spec.type)
    kwargs = task_type.head_kwargs(spec)
    transformers.set_seed(seed)
    auto = getattr(transformers, task_type.head)
    try:
        model, info = auto.from_pretrained(base, dtype=torch.float32, ignore_mismatched_sizes=True,
                                           output_loading_info=True, **kwargs)
    except Exception as err:
        line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise XRobustError(f"cannot load {base} as {task_type.head}: {type(err).__name__}: {line}",
                           field="--model") from None
    fresh = sorted({str(k) for k in info.get("missing_keys", ())} |
                   {str(k[0] if isinstance(k, tuple) else k) for k in info.get("mismatched_keys", ())})
    return model, fresh


def carry_encoder(model: Any, encoder: dict[str, Any] | None) -> int:
    """Copy a previous stage's encoder weights into ``model.base_model``; returns how many tensors."""
    if encoder is None:
        return 0
    target = set(model.base_model.state_dict())
    missing, _ = model.base_model.load_state_dict(encoder, strict=False)
    log.info("carried %d encoder tensors (%d left as in the base)", len(target & set(encoder)), len(missing))
    return len(target & set(encoder))


def _scheduler(params: HyperParams) -> str:
    warm = params.warmup_steps or params.warmup_ratio
    return "constant_with_warmup" if params.lr_scheduler == "constant" and warm else params.lr_scheduler


def train_stage(model: Any, tok: Any, rows: list[dict], params: HyperParams, *, progress: bool, device: str,
                workdir: Path, callbacks: list[Any] | None = None) -> dict[str, Any]:
    """Train with transformers' Trainer (no checkpoints on disk; ``callbacks`` may score and keep weights);
    returns what the card records."""
    import torch
    from transformers import PrinterCallback, Trainer, TrainingArguments

    args = TrainingArguments(
        output_dir=str(workdir), per_device_train_batch_size=params.batch_size, learning_rate=params.learning_rate,
        num_train_epochs=params.epochs, max_steps=params.max_steps,
        warmup_steps=params.warmup_steps or params.warmup_ratio, weight_decay=params.weight_decay,
        seed=params.seed, optim="adamw_torch", max_grad_norm=params.max_grad_norm,
        lr_scheduler_type=_scheduler(params), save_strategy="no", eval_strategy="no", report_to=[],
        dataloader_num_workers=0, dataloader_pin_memory=torch.cuda.is_available() and device != "cpu",
        logging_steps=0.05, disable_tqdm=not progress, use_cpu=device == "cpu", remove_unused_columns=False)
    trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=PadCollator(tok.pad_token_id or 0),
                      callbacks=callbacks or None)
    trainer.remove_callback(PrinterCallback)  # the CLI prints its own summary
    started = time.monotonic()
    result = trainer.train()
    losses = [round(entry["loss"], 4) for entry in trainer.state.log_history if "loss" in entry]
    model.eval()
    return {"steps": int(trainer.state.global_step), "epochs_done": round(float(trainer.state.epoch or 0), 4),
            "train_loss": round(float(result.training_loss), 4), "loss_log": losses,
            "optimizer": str(args.optim.value if hasattr(args.optim, "value") else args.optim),
            "lr_scheduler": str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)),
            "device": str(args.device), "runtime_s": round(time.monotonic() - started, 1)}


def save_atomically(out: Path, write: Callable[[Path], None], overwrite: bool) -> Path:
    """Write into a temp dir next to ``out``, then rename it into place (the old dir is replaced last)."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        write(tmp)
        tmp.chmod(0o755)
        if out.exists():
            if not overwrite and (not out.is_dir() or any(out.iterdir())):
                raise XRobustError("output directory exists; pass --overwrite to replace it", file=out,
                                   field="--out")
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _load_suite(req: FinetuneRequest) -> Any:
    from perturbations import load_suite

    return load_suite(req.augment, resources_dir=req.resources or req.data_dir)


def load_dev(req: FinetuneRequest, stage: Stage) -> DevSet:
    """The dev examples of the target stage (:mod:`.select`); a holdout is removed from its training data."""
    assert stage.data is not None
    spec, examples = stage.spec, []
    if req.dev_holdout:
        if req.dev_holdout < 1:
            raise XRobustError("must be at least 1", field="--dev-holdout")
        for lang in stage.langs:
            rows = load_examples(spec, lang, stage.split, data_dir=req.data_dir)[-req.dev_holdout:]
            for row in rows:
                row["_lang"] = lang
            examples += rows
        held = {(e["_lang"], e["id"]) for e in examples}
        kept = [e for e in stage.data.examples if (e["_lang"], e["id"]) not in held]
        per_language = {lang: sum(e["_lang"] == lang for e in kept) for lang in stage.langs}
        if not kept:
            raise XRobustError("the dev holdout leaves no training examples", field="--dev-holdout")
        stage.data = dataclasses.replace(stage.data, examples=kept, per_language=per_language,
                                         ids_sha256=ids_hash(spec, stage.split, kept))
        return DevSet(examples, stage.split, list(stage.langs), req.dev_holdout)
    split = req.dev_split or spec.splits.get("dev", "validation")
    for lang in stage.langs:
        if req.data_dir is not None and not local_path(spec, lang, split, req.data_dir).is_file():
            raise XRobustError(f"no {split!r} split of task {spec.name} for language {lang!r} to select on (pass "
                               "--dev-split, or --dev-holdout N to hold out training examples)",
                               file=local_path(spec, lang, split, req.data_dir), field="--dev-split")
        rows = load_examples(spec, lang, split, data_dir=req.data_dir, limit=req.dev_limit)
        origin = str(local_path(spec, lang, split, req.data_dir)) if req.data_dir is not None else spec.source_file
        check_labels(spec, rows, origin)
        for row in rows:
            row["_lang"] = lang
        examples += rows
    if not examples:
        raise XRobustError(f"no {split!r} examples of task {spec.name} to select on", field="--dev-split")
    return DevSet(examples, split, list(stage.langs))


def prepare(req: FinetuneRequest) -> list[Stage]:
    """Plan every stage and load (and augment) its data before any training starts (fail fast)."""
    if req.out.exists() and any(req.out.iterdir()) and not req.overwrite:
        raise XRobustError("output directory exists and is not empty; pass --overwrite", file=req.out,
                           field="--out")
    if req.data_dir is not None and not Path(req.data_dir).is_dir():
        raise XRobustError("not a directory", file=req.data_dir, field="--data-dir")
    check_selection(req.select_on, req.eval_steps)
    stages = plan_stages(req)
    suite = _load_suite(req) if req.augment else None
    for stage in stages:
        per_lang = stage.role == "intermediate" and not (req.train_limit or "").strip().isdigit()
        limits = {} if per_lang else parse_limits(req.train_limit, stage.langs)
        stage.data = load_training(stage.spec, stage.split, stage.langs, data_dir=req.data_dir, limits=limits)
        if stage.role == "target" and req.select_on == "dev":
            stage.dev = load_dev(req, stage)
        if suite is not None and stage.role == "target":
            stage.data = augment(stage.data, stage.spec, suite, req.augment_copies, seed=stage.params.seed)
    return stages


def finetune(req: FinetuneRequest) -> Path:
    """Run every stage and save the final checkpoint with its card; returns the output directory."""
    import importlib.util

    from transformers import AutoTokenizer

    if importlib.util.find_spec("accelerate") is None:
        raise XRobustError("transformers' Trainer needs the accelerate package: pip install accelerate",
                           field="finetune")
    stages = prepare(req)
    try:
        tok = AutoTokenizer.from_pretrained(req.model)
    except Exception as err:
        raise XRobustError(f"cannot load tokenizer: {type(err).__name__}: {err}".splitlines()[0],
                           field="--model") from None
    base_info = {"ref": req.model, "path": str(Path(req.model).resolve()) if Path(req.model).exists() else None,
                 "weights_sha256": weights_fingerprint(req.model)}
    encoder: dict[str, Any] | None = None
    stage_cards: list[dict[str, Any]] = []
    model = None
    selection: dict[str, Any] | None = None
    for index, stage in enumerate(stages):
        assert stage.data is not None
        log.info("stage %d/%d: %s (%s, %d examples)", index + 1, len(stages), stage.spec.name, stage.role,
                 len(stage.data.examples))
        features = build_features(stage.spec, stage.data.examples, tok, stage.params)
        model = None  # free the previous stage's model first
        model, fresh = load_head(req.model, stage.spec, stage.params.seed)
        carried = carry_encoder(model, encoder)
        selector = Selector(stage.spec, tok, stage.dev, req.eval_steps or 0) if stage.dev is not None else None
        with tempfile.TemporaryDirectory(prefix="xrobust-trainer-") as workdir:
            outcome = train_stage(model, tok, features.rows, stage.params, progress=req.progress,
                                  device=req.device, workdir=Path(workdir),
                                  callbacks=[selector.callback()] if selector else None)
        if selector is not None:
            selection = selector.card(outcome["steps"])
        if index < len(stages) - 1:  # the next stage starts from this encoder, with a fresh head
            encoder = {k: v.detach().clone() for k, v in model.base_model.state_dict().items()}
        stage_cards.append({
            "stage": index, "role": stage.role, "task": stage.spec.name, "task_type": stage.spec.type,
            "task_config": stage.spec.config_hash(), "head": tasktypes.get(stage.spec.type).head,
            "labels": list(stage.spec.labels) if tasktypes.get(stage.spec.type).labelled_head else [],
            "encoder_from": "base" if index == 0 else stages[index - 1].spec.name,
            "encoder_tensors_carried": carried, "head_initialised": fresh,
            "data": stage.data.card(), "features": {"n": len(features.rows), **features.stats},
            "augmentation": stage.data.augmentation, "training": {**stage.params.to_dict(), **outcome}})
    card = build_card(base=base_info, stages=stage_cards, command=req.command, data_dir=req.data_dir,
                      selection=selection, seeds=req.seeds)

    def write(directory: Path) -> None:
        model.save_pretrained(directory)
        tok.save_pretrained(directory)
        write_card(directory, card)

    return save_atomically(req.out, write, req.overwrite)


def seed_out(out: Path, seed: int) -> Path:
    """Checkpoint directory of one seed: ``out`` with ``{seed}`` filled in, else ``out/seed-<seed>``."""
    text = str(out)
    return Path(text.replace("{seed}", str(seed))) if "{seed}" in text else out / f"seed-{seed}"


def finetune_seeds(req: FinetuneRequest, seeds: list[int]) -> list[Path]:
    """One checkpoint per seed of the same recipe (the card records the seed and the seed set); returns their
    directories in seed order. Seeds whose checkpoint exists are refused unless ``req.overwrite``."""
    if len(set(seeds)) != len(seeds) or not seeds:
        raise XRobustError(f"expected distinct seeds, got {seeds}", field="--seeds")
    if "seed" in {k for k, v in req.overrides.items() if v is not None}:
        raise XRobustError("give either --seed or --seeds", field="--seeds")
    outs = []
    for seed in seeds:
        one = dataclasses.replace(req, out=seed_out(req.out, seed), overrides={**req.overrides, "seed": seed},
                                  seeds=list(seeds))
        log.info("seed %d -> %s", seed, one.out)
        outs.append(finetune(one))
    return outs
