"""Helpers shared by the sub-commands: list and mapping options, runtime flags, score printing."""

from __future__ import annotations

import argparse

from harness.errors import XRobustError
from harness.models.inference import ATTENTIONS, DTYPES, SWITCHES, RuntimeOptions


def csv_list(value: str | None) -> list[str]:
    """Comma-separated values, stripped, empty ones dropped."""
    if not value:
        return []
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_label_map(value: str) -> dict[str, str]:
    out = {}
    for pair in csv_list(value):
        if "=" not in pair:
            raise XRobustError(f"expected MODEL_LABEL=TASK_LABEL, got {pair!r}", field="--label-map")
        key, val = pair.split("=", 1)
        out[key.strip()] = val.strip()
    return out


def add_runtime_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1 …")
    p.add_argument("--dtype", default="auto", choices=list(DTYPES),
                   help="weights' dtype: auto = bfloat16 on GPUs that support it, float32 otherwise")
    p.add_argument("--attn", default="auto", choices=list(ATTENTIONS),
                   help="attention implementation: auto = the fastest measured for the model and device")
    p.add_argument("--padding-free", default="auto", choices=list(SWITCHES),
                   help="pack sequences without padding (auto: on CUDA with flash-attn for supported encoders)")
    p.add_argument("--max-tokens", type=int, help="tokens per batch, padding included (default: 2048 on CPU, "
                   "65536 on CUDA)")
    p.add_argument("--batch-size", type=int, help="rows per batch at most (default: 64 on CPU, 4096 on CUDA)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="allow a checkpoint's own Python code (auto_map) to run; off by default, never asked "
                        "interactively; recorded in the run signature (remote-code:yes)")


def runtime_options(args: argparse.Namespace, **extra: object) -> RuntimeOptions:
    """:class:`RuntimeOptions` from the flags of :func:`add_runtime_options` (checked: one-line errors)."""
    options = RuntimeOptions(device=args.device, dtype=args.dtype, attn=args.attn, padding_free=args.padding_free,
                             batch_size=args.batch_size, max_tokens=args.max_tokens,
                             progress=not args.no_progress,
                             trust_remote_code=bool(getattr(args, "trust_remote_code", False)),
                             **extra)  # type: ignore[arg-type]
    options.check()
    return options


def print_scores(results: dict) -> None:
    ranked = results.get("ranked_metrics", {})
    for row in results["scores"]:
        if ranked.get(row["task"]) == row["metric"]:
            print(f"{row['task']:<12} {row['language']:<4} {row['split']:<11} {row['condition']:<14} "
                  f"{row['metric']:<16} {row['value']:7.2f}  n={row['n']}")


def print_attacks(results: dict) -> None:
    for unit in results["units"]:
        change = unit.get("change") or {}
        if "success_rate" in change:
            print(f"attack {unit['task']:<6} {unit['lang']:<4} {unit['condition']:<34} success "
                  f"{100 * change['success_rate']:5.1f}% of {change['n_attacked']:<4} edited words "
                  f"{change['mean_edited_words']:.2f}  model calls/example {change['model_calls_per_example']:.1f}")
