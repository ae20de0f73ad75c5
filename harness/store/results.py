"""run.json and results.json, for run dirs of both kinds: model runs (``xrobust run``) and imported submissions
(``xrobust import``). The kinds differ only in the submission metadata and in how the signature is made.

results.json::

    {"submission": {...}, "signature": "xrobust:…", "ranked_metrics": {task: metric},
     "scores": [flat score records], "task_averages": [...],
     "units": [{"task", "lang", "split", "condition", "n", "fingerprint"[, "change"]}, ...]}
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Callable

from harness.errors import XRobustError
from harness.store.conditions import ConditionId
from harness.store.rundir import RunStore, write_json
from harness.store.scoring import scores_from_store, task_averages
from harness.store.signature import signature

Signer = Callable[[dict, dict[str, dict]], str]  # (submission, unit name -> unit meta) -> signature
UNIT_KEYS = ("task", "lang", "split", "condition", "n", "fingerprint")
PINNED_KEYS = ("seed",)  # submission settings every stored unit depends on (the others are in fingerprints)


def claim_run_dir(store: RunStore, submission: Callable[[dict | None], dict]) -> dict:
    """Write run.json and return it. ``submission(old)`` builds this run's submission metadata from the one
    stored in the run dir (None for a new dir) and raises :class:`XRobustError` if the dir belongs to another
    submission. ``created`` is kept from the stored metadata, else set to now; the signature is kept until
    :func:`write_results` rebuilds it.

    The directory's lock is taken first (another writer gets a one-line error naming this one) and kept until
    the process ends, and the store re-checks before every unit it commits that run.json still names this
    submission. Settings that pin every stored unit without being part of the unit fingerprints (the seed of
    freshly initialised heads) must match the stored run's while it holds units."""
    store.acquire()
    existing = store.read_run()
    old = None if existing is None else existing.get("submission", {})
    sub = submission(old)
    if old is not None and store.complete_units():
        for key in PINNED_KEYS:
            if old.get(key) != sub.get(key):
                raise XRobustError(f"run directory holds units made with {key} {old.get(key)!r}, not "
                                   f"{sub.get(key)!r}; use the same {key} or another --out", file=store.run_file,
                                   field=f"submission.{key}")
    created = old.get("created") if old is not None else sub.get("created")
    sub["created"] = created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    run = {"submission": sub, "signature": (existing or {}).get("signature", "")}
    store.write_run(run)
    store.claim(sub)
    return run


def write_results(store: RunStore, run: dict, sign: Signer) -> dict:
    """Rebuild results.json from the stored units (and run.json's signature); returns the results dict."""
    scores = scores_from_store(store)
    metas = {str(u): m for u, m in store.complete_units()}
    sub = run["submission"]
    sig = sign(sub, metas)
    run["signature"] = sig
    store.write_run(run)
    results = {
        "submission": sub,
        "signature": sig,
        "ranked_metrics": {m["task"]: m.get("ranked_metric") for m in metas.values()},
        "scores": scores,
        "task_averages": task_averages(scores),
        "units": [{k: m[k] for k in UNIT_KEYS} | ({"change": m["change"]} if "change" in m else {})
                  for m in metas.values()],
    }
    write_json(store.results_file, results)
    return results


def _task_configs(metas: dict[str, dict]) -> dict[str, str]:
    return {m["task"]: m.get("task_config", "") for m in metas.values()}


def model_signature(sub: dict, metas: dict[str, dict]) -> str:
    """A model run: its model, checkpoint files, dtype and seed, the task configs, the conditions' signatures
    (extra variants and worst cases are pinned by their condition's signature), the units' attention/packing,
    and ``remote-code:yes`` when the checkpoint's own code was allowed to run (``--trust-remote-code``)."""
    conds = {m["condition"]: (m.get("condition_signature") or "") for m in metas.values()
             if not ConditionId.parse(m["condition"]).repeats_base}
    settings = sorted({f"{m['inference']['attn']}/{m['inference']['packing']}" for m in metas.values()
                       if isinstance(m.get("inference"), dict)})
    remote = any(isinstance(m.get("inference"), dict) and m["inference"].get("remote_code") is True
                 for m in metas.values()) or sub.get("trust_remote_code") is True
    return signature(model=sub["model"], revision=sub.get("revision"), weights=sub["weights_sha256"],
                     tasks=_task_configs(metas), dtype=sub["dtype"], seed=sub["seed"], conditions=conds or None,
                     inference="+".join(settings) or None, data=_data_digest(metas), remote_code=remote)


def _data_digest(metas: dict[str, dict]) -> str | None:
    """12 hex over the units' data digests (what each read), None for runs stored before digests existed."""
    digests = sorted(f"{key}={m['data_digest']}" for key, m in metas.items() if m.get("data_digest"))
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()[:12] if digests else None


def import_signature(sub: dict, metas: dict[str, dict]) -> str:
    """An imported submission: no weights, so the stored units' fingerprints stand in for them."""
    blob = "\n".join(f"{k}={m['fingerprint']}" for k, m in sorted(metas.items())).encode()
    digest = hashlib.sha256(blob).hexdigest()[:16]
    return signature(model=sub.get("model") or "none", revision=None, weights=f"imported-{digest}",
                     tasks=_task_configs(metas), dtype="imported", seed=0, conditions={"clean": ""})
