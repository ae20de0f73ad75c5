"""Per-example random generators derived from a stable hash (never Python's salted ``hash()``)."""

from __future__ import annotations

import hashlib
import random


def example_rng(seed: int, step: int, name: str, example_id: str, field: str, variant: int = 0) -> random.Random:
    """RNG for one (suite seed, step index, perturbation name, example id, field, variant).

    The result depends only on these values, so a perturbed example is identical across runs,
    processes, batch sizes and example orders.
    """
    key = f"{seed}\x1f{step}\x1f{name}\x1f{example_id}\x1f{field}\x1f{variant}".encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))
