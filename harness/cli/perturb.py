"""``xrobust perturb``: look at what a suite does to a task's examples, or export the perturbed examples."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.data.examples import load_examples
from harness.errors import XRobustError
from harness.spec.taskspec import TaskSpec, resolve_task
from harness.store.rundir import atomic_write_text


def to_source_fields(example: dict, spec: TaskSpec, source: str) -> dict[str, Any]:
    """A canonical example back in the task's own column names (``source``: "local" or "hub")."""
    mapping = spec.fields_for(source)
    out: dict[str, Any] = {}
    for canonical, value in example.items():
        column: Any = mapping.get(canonical, canonical)
        if isinstance(column, list) and isinstance(value, list):  # e.g. choices → choice1, choice2
            out.update(zip(column, value, strict=False))
        else:
            out[str(column)] = value
    return out


def _text(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def cmd_perturb(args: argparse.Namespace) -> int:
    from perturbations import load_suite, mark_edits, perturb_examples

    spec = resolve_task(args.task)
    if args.lang not in spec.all_languages:
        raise XRobustError(f"language {args.lang!r} is not a language of task {spec.name}", field="--lang")
    suite = load_suite(args.suite, resources_dir=args.resources or args.data_dir)
    conditions = [c for c in suite.conditions if not args.condition or c.name == args.condition]
    if not conditions:
        raise XRobustError(f"no condition {args.condition!r} in suite {suite.name}", field="--condition")
    examples = load_examples(spec, args.lang, args.split, data_dir=args.data_dir, limit=args.limit)
    fields = list(spec.perturb_fields)
    source = "local" if args.data_dir else "hub"
    lines: list[str] = []
    for condition in conditions:
        if not condition.claims(args.lang):
            print(f"# {suite.name}/{condition.name}: does not claim {args.lang}; skipped")
            continue
        perturbed, change = perturb_examples(examples, task_type=spec.type, fields=fields, lang=args.lang,
                                             condition=condition)
        stats = change.to_dict()
        print(f"# {suite.name}/{condition.name}: {stats['frac_examples_changed']:.0%} of examples and "
              f"{stats['frac_words_changed']:.1%} of words changed, mean character edit distance "
              f"{stats['mean_char_edit_distance']:.2f}")
        shown = 0
        for clean, new in zip(examples, perturbed, strict=True):
            if shown >= args.show:
                break
            edited = [f for f in fields if clean.get(f) != new.get(f)]
            if not edited:
                continue
            shown += 1
            print(f"  id {clean['id']}")
            for name in edited:
                print(f"    {name}: {mark_edits(_text(clean[name]), _text(new[name]))}")
        for new in perturbed:
            record = to_source_fields(new, spec, source)
            record.update({"id": new["id"], "condition": f"{suite.name}.{condition.name}", "language": args.lang})
            lines.append(json.dumps(record, ensure_ascii=False))
    if args.out:
        atomic_write_text(Path(args.out), "".join(line + "\n" for line in lines))
        print(f"wrote {len(lines)} perturbed examples to {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("perturb", help="show or export a task's examples under a perturbation suite")
    p.add_argument("--task", required=True, help="task name or YAML path")
    p.add_argument("--lang", required=True)
    p.add_argument("--suite", required=True, help="suite name (perturbations/suites) or YAML path")
    p.add_argument("--condition", help="only this condition of the suite")
    p.add_argument("--data-dir", help="read DIR/<task>/<lang>.<split>.jsonl instead of the hub")
    p.add_argument("--resources", help="folder with unimorph/ and muse/ (default: --data-dir)")
    p.add_argument("--split")
    p.add_argument("--limit", type=int)
    p.add_argument("--show", type=int, default=5, help="clean/perturbed pairs to print per condition")
    p.add_argument("--out", help="write perturbed examples (task's own fields + id + condition) as JSON lines")
    p.set_defaults(func=cmd_perturb)
