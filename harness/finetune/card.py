"""The card of a fine-tuned checkpoint: ``xrobust-card.json`` (machine-readable) and ``README.md``."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import shlex
from pathlib import Path
from typing import Any

from harness import __version__
from harness.stats.systems import recipe_digest
from harness.store.signature import library_versions

CARD_FILE = "xrobust-card.json"
CARD_FORMAT = "xrobust-card/1"


def _versions() -> dict[str, str]:
    out = library_versions()
    for name in ("accelerate", "numpy", "tokenizers"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "none"
    out["xrobust"] = __version__
    return out


def build_card(*, base: dict[str, Any], stages: list[dict[str, Any]], command: list[str],
               data_dir: str | Path | None, selection: dict[str, Any] | None = None,
               seeds: list[int] | None = None) -> dict[str, Any]:
    """Top level = the target (last) stage; ``stages`` = every stage in training order. ``seed`` is the
    training seed, ``seeds`` the seed set it was trained in (``--seeds``), ``recipe`` a digest equal for every
    seed of one recipe (:func:`harness.stats.systems.recipe_digest`), ``selection`` the dev-set model
    selection (``--select-on dev``) with the step whose weights were kept."""
    target = stages[-1]
    card = {
        "format": CARD_FORMAT,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["xrobust", *command]) if command else "",
        "base_model": base,
        "task": target["task"],
        "task_type": target["task_type"],
        "task_config": target["task_config"],
        "head": target["head"],
        "labels": target["labels"],
        "data": {**target["data"], "data_dir": str(Path(data_dir).resolve()) if data_dir else "hub"},
        "training": target["training"],
        "intermediate": [s["task"] for s in stages[:-1]],
        "augmentation": target["augmentation"],
        "stages": stages,
        "seed": target["training"]["seed"],
        "seeds": list(seeds or [target["training"]["seed"]]),
        "selection": selection or {"select_on": "last"},
        "libraries": _versions(),
    }
    card["recipe"] = recipe_digest(card)
    return card


def read_card(directory: str | Path) -> dict[str, Any] | None:
    path = Path(directory) / CARD_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_card(directory: Path, card: dict[str, Any]) -> None:
    (directory / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (directory / "README.md").write_text(render_readme(card), encoding="utf-8")


def _fmt_aug(aug: dict[str, Any] | None) -> str:
    if not aug:
        return "none"
    conditions = sorted({c["condition"] for c in aug["copies_detail"]})
    return (f"suite `{aug['suite']}`, {aug['copies']} perturbed cop{'y' if aug['copies'] == 1 else 'ies'} per "
            f"example (conditions: {', '.join(conditions)}); {aug['n_added']} added to {aug['n_original']} "
            f"originals, {aug['n_changed']} of them differ from their original")


def _fmt_selection(sel: dict[str, Any] | None) -> str:
    if not sel or sel.get("select_on") != "dev":
        return "last step"
    dev = sel["dev"]
    source = f"last {dev['holdout']} training examples per language" if dev.get("holdout") else \
        f"split `{dev['split']}`"
    return (f"best dev {sel['metric']} {sel['best_score']} at step {sel['best_step']} of {sel['final_step']} "
            f"(scored every {sel['eval_steps']} steps on {dev['n']} examples, {source} of "
            f"{', '.join(dev['languages'])})")


def render_readme(card: dict[str, Any]) -> str:
    data, train = card["data"], card["training"]
    chain = " → ".join(s["task"] for s in card["stages"])
    aug_total = f" ({data['n_training_examples']} with perturbed copies)" if card["augmentation"] else ""
    lines = [
        f"# {card['task']} fine-tune of {card['base_model']['ref']}",
        "",
        f"Made by `xrobust finetune` ({card['created']}); evaluate with `xrobust run --model <this dir> "
        f"--tasks {card['task']}`.",
        "",
        "| | |",
        "|---|---|",
        f"| base model | `{card['base_model']['ref']}` (weights sha256 {card['base_model']['weights_sha256']}) |",
        f"| task | {card['task']} ({card['task_type']}, config {card['task_config']}), head {card['head']} |",
        f"| training data | split `{data['split']}` of {', '.join(data['languages'])}: "
        f"{data['n_examples']} examples{aug_total}, "
        f"ids sha256 {data['ids_sha256'][:16]}… |",
        f"| stages | {chain} |",
        f"| steps / epochs | {train['steps']} / {train['epochs_done']} (max_steps {train['max_steps']}, "
        f"epochs {train['epochs']}) |",
        f"| lr / batch / seed | {train['learning_rate']} / {train['batch_size']} / {train['seed']} |",
        f"| final train loss | {train['train_loss']} |",
        f"| seed set / recipe | {', '.join(str(s) for s in card.get('seeds', [train['seed']]))} / "
        f"{card.get('recipe', '–')} |",
        f"| model selection | {_fmt_selection(card.get('selection'))} |",
        f"| augmentation | {_fmt_aug(card['augmentation'])} |",
        f"| libraries | {', '.join(f'{k} {v}' for k, v in card['libraries'].items())} |",
        "",
        "## Stages",
        "",
    ]
    for stage in card["stages"]:
        t = stage["training"]
        lines.append(f"{stage['stage'] + 1}. **{stage['task']}** ({stage['role']}, {stage['head']}): "
                     f"{stage['data']['n_training_examples']} examples, encoder from {stage['encoder_from']}; "
                     f"{t['steps']} steps, lr {t['learning_rate']}, loss {t['train_loss']}; fresh head weights: "
                     f"{', '.join(stage['head_initialised']) or 'none'}")
    if card["command"]:
        lines += ["", "## Command", "", "```", card["command"], "```"]
    lines += ["", f"Full record: `{CARD_FILE}`.", ""]
    return "\n".join(lines)
