#!/usr/bin/env bash
# Zero-shot cross-lingual transfer under perturbations, end to end and reproducible:
#
#   1. fine-tune multilingual-e5-small on ENGLISH training data of UD-POS, PAN-X, TyDiQA-GoldP and XCOPA,
#      three ways per task:
#        baseline  plain fine-tune on the task
#        chain     an intermediate task first, head replaced in between (X-STILTs, arXiv 2005.13013)
#        robust    + one perturbed copy of every training example from the `mixed` suite (arXiv 2104.08645)
#   2. evaluate every checkpoint zero-shot on fi, tr, et, hu, ru, ar, ko, de (where the task has data),
#      clean and under the typos, inflection and codeswitch suites;
#   3. render the leaderboard with `xrobust report` (and its tables as markdown, examples/zero_shot_table.py): the per-task runs of one variant share a submission name
#      ("e5-small baseline", …), so the report treats them as one system with a checkpoint per task.
#
# Every checkpoint carries xrobust-card.json (data hash, steps, lr, seed, chain, augmentation, versions) and
# every run directory results.json with a signature, so a rerun recomputes nothing that is already done.
#
# Full XTREME epochs take days on a CPU. For a CPU-sized pass set MAX_STEPS (e.g. MAX_STEPS=120 BATCH=32);
# TASKS / VARIANTS / SUITES narrow the grid, e.g.  TASKS=udpos VARIANTS=baseline ./examples/zero_shot_experiment.sh
# (with few steps, TRAIN_ARGS="--lr 5e-5 --lr-scheduler constant --warmup-ratio 0" trains faster than the
# warm-up + linear decay the task files schedule for full epochs).
set -euo pipefail

cd "$(dirname "$0")/.."
MODEL=${MODEL:-$HOME/.cache/xrobust/offline-e5}   # real multilingual-e5-small, rebuilt offline if missing
DATA=${DATA:-../shared/data}                      # <task>/<lang>.<split>.jsonl, unimorph/, muse/
OUT=${OUT:-experiments/zero-shot}
TASKS=${TASKS:-"udpos panx tydiqa xcopa"}
VARIANTS=${VARIANTS:-"baseline chain robust"}
SUITES=${SUITES:-"typos inflection codeswitch"}
MAX_STEPS=${MAX_STEPS:-}                          # empty: the task's epochs (task YAML `training:`)
BATCH=${BATCH:-}                                  # empty: the task's batch size
SEED=${SEED:-1}
TRAIN_ARGS=${TRAIN_ARGS:-}                        # extra finetune flags, e.g. "--lr 5e-5 --lr-scheduler constant"
# per-task extra finetune flags: TRAIN_ARGS_<task>, e.g. TRAIN_ARGS_tydiqa="--max-length 256 --max-steps 60"
LIMIT=${LIMIT:-}                                  # first N eval examples per language (quick passes only)
XR=(nice -n 10 python -m harness.cli.main)

# Zero-shot languages per task: the requested set, restricted to what the task covers AND has labelled
# data for in $DATA (TyDiQA-GoldP offline: only the ko/sw TRAIN samples are labelled; XCOPA has no fi/hu/ru/ar/ko/de).
# English (the training language) is scored too where the task lists it (XCOPA does not), as the reference the zero-shot drop is measured from.
declare -A LANGS=([udpos]=en,fi,tr,et,hu,ru,ar,ko,de [panx]=en,fi,tr,et,hu,ru,ar,ko,de [tydiqa]=ko [xcopa]=et,tr)
declare -A EVAL_SPLIT=([udpos]= [panx]= [tydiqa]=train [xcopa]=)
# Intermediate task per target (English data): PAN-X <-> UD-POS, English MLQA dev -> TyDiQA, English XNLI
# dev (the only English NLI data offline) -> XCOPA.
declare -A CHAIN=([udpos]=panx [panx]=udpos [tydiqa]=mlqa:validation [xcopa]=xnli:validation)

[ -d "$MODEL" ] || "${XR[@]}" models offline-e5 --out "$MODEL"

train_opts=(--data-dir "$DATA" --seed "$SEED" --no-progress)
[ -n "$MAX_STEPS" ] && train_opts+=(--max-steps "$MAX_STEPS")
[ -n "$BATCH" ] && train_opts+=(--batch-size "$BATCH")
read -r -a extra_train <<< "$TRAIN_ARGS"
eval_opts=(--data-dir "$DATA" --no-progress)
[ -n "$LIMIT" ] && eval_opts+=(--limit "$LIMIT")

runs=()
for task in $TASKS; do
  for variant in $VARIANTS; do
    ckpt="$OUT/models/e5-$task-$variant"
    case $variant in
      baseline) extra=() ;;
      chain)    extra=(--intermediate "${CHAIN[$task]}") ;;
      robust)   extra=(--augment mixed --augment-copies 1) ;;
      *) echo "unknown variant $variant" >&2; exit 2 ;;
    esac
    task_args_var="TRAIN_ARGS_$task"
    read -r -a task_train <<< "${!task_args_var:-}"
    if [ ! -f "$ckpt/xrobust-card.json" ]; then
      echo "== fine-tune $task ($variant)"
      "${XR[@]}" finetune --model "$MODEL" --task "$task" --out "$ckpt" "${train_opts[@]}" \
        "${extra_train[@]}" "${task_train[@]}" "${extra[@]}"
    fi
    run="$OUT/runs/e5-$task-$variant"
    split=()
    [ -n "${EVAL_SPLIT[$task]}" ] && split=(--split "${EVAL_SPLIT[$task]}")
    for suite in $SUITES; do   # clean is part of every run and computed once
      echo "== evaluate $task ($variant) under $suite"
      "${XR[@]}" run --tasks "$task" --model "$ckpt" --name "e5-small $variant" --langs "${LANGS[$task]}" \
        --suite "$suite" --out "$run" "${eval_opts[@]}" "${split[@]}"
    done
    runs+=("$run")
  done
done

"${XR[@]}" report "${runs[@]}" --out "$OUT/site" --resamples 10000 --title "Zero-shot transfer of e5-small under perturbations"
python examples/zero_shot_table.py "$OUT" > "$OUT/results.md"   # the tables with CIs, as markdown
echo "leaderboard: $OUT/site/index.html; tables: $OUT/results.md"
