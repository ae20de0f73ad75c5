"""A short signature string that pins everything a score depends on (in the spirit of sacrebleu's)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from typing import Any

from harness import __version__


def library_versions() -> dict[str, str]:
    out = {}
    for name in ("torch", "transformers", "datasets", "tokenizers"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "none"
    return out


def model_id(model: str, revision: str | None, weights: str) -> str:
    rev = f"@{revision}" if revision else ""
    return f"{model}{rev}#{weights}"


def signature(*, model: str, revision: str | None, weights: str, tasks: dict[str, str], dtype: str, seed: int,
              conditions: dict[str, str] | None = None, inference: str | None = None, data: str | None = None,
              remote_code: bool = False) -> str:
    """``xrobust:0.1.0|model:<ref>#<weights>|tasks:xnli@<hash>+…|cond:clean+typos@<hash>|dtype:…|seed:…|…``;
    ``data`` (a digest of the data every unit read: file contents or resolved hub commits) follows the
    conditions and ``inference`` (attention implementation and packing, e.g. ``sdpa/padded``) the dtype;
    ``remote-code:yes`` follows when the checkpoint's own Python code ran (``--trust-remote-code``).

    ``<weights>`` is the checkpoint fingerprint: weights, config and tokenizer files
    (:func:`harness.models.loading.weights_fingerprint`). ``seed`` is the run's ``--seed``: it seeds freshly
    initialised heads, and perturbation conditions built with it (:func:`harness.run.conditions.seeded`); the
    ``cond:`` hashes pin the seed each condition actually used, so they change when it does."""
    versions = library_versions()
    parts = [
        f"xrobust:{__version__}",
        f"model:{model_id(model, revision, weights)}",
        "tasks:" + "+".join(f"{name}@{h}" for name, h in sorted(tasks.items())),
        "cond:" + "+".join(f"{name}@{h}" if h else name for name, h in sorted((conditions or {"clean": ""}).items())),
        *([f"data:{data}"] if data else []),
        f"dtype:{dtype}",
        *([f"inference:{inference}"] if inference else []),
        *(["remote-code:yes"] if remote_code else []),
        f"seed:{seed}",
        f"torch:{versions['torch']}",
        f"transformers:{versions['transformers']}",
        f"datasets:{versions['datasets']}",
    ]
    return "|".join(parts)


def fingerprint(**parts: Any) -> str:
    """Stable 16-hex hash of keyword parts (what makes a cached unit reusable)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
