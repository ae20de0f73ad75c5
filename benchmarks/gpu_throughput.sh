#!/usr/bin/env bash
# One GPU measurement for the inference engine: a random-init xlm-roberta-base-sized classifier on XNLI pairs
# and UD-POS sentences, xrobust vs the best plain loop, a naive loop, transformers.pipeline and the FLOP
# ceiling, padded and (when flash-attn is installed) padding-free. Prints every table; JSON under $OUT.
#
#   TOKENIZER=/path/to/multilingual-e5-small bash benchmarks/gpu_throughput.sh
#
# TOKENIZER: any checkpoint directory with the XLM-R sentencepiece tokenizer (the offline e5 built by
# `xrobust models offline-e5` has one); only its tokenizer is used. The data come from ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/xrobust-gpu}"
mkdir -p "$OUT"
TOKENIZER="${TOKENIZER:-$HOME/.cache/xrobust/offline-e5}"
N="${N:-40000}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.version.cuda, \
'transformers', transformers.__version__)"
python -c "import flash_attn; print('flash-attn', flash_attn.__version__)" 2>/dev/null || echo "flash-attn: not installed"
run() {
    python benchmarks/throughput.py --model "$TOKENIZER" --random-xlmr-base --device cuda --n "$N" \
        --pipeline-n 2000 --repeats 3 "$@"
}
run --padding-free off --json "$OUT/padded.json"
if python -c "import flash_attn" 2>/dev/null; then
    run --padding-free on --json "$OUT/packed.json"
fi
run --padding-free on --attn sdpa --tasks xnli --json "$OUT/packed_portable.json"  # portable packed kernel
