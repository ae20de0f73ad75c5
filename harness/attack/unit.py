"""Attack units: an attack condition searched with the model under test (another submission's stored
adversarial inputs are replayed by :mod:`harness.attack.transfer`).

The unit's records are ordinary prediction records of the adversarial inputs (so scores, statistics, the
report and its example browser treat the unit like any condition), each with an ``attack`` entry (the edits,
the texts scored and, for QA, the gold answers' offsets in the adversarial context). What the search scores,
which words it may edit and what counts as a success are the task type's declaration (:mod:`.support`). The unit meta gets ``change`` (the random conditions' change statistics, which the
report's drop table shows, plus ``success_rate``, ``mean_edited_words``, ``model_calls``, …) and ``attack``
(the search parameters, timing and counts).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from harness.attack.search import run_attack
from harness.attack.stats import change_stats, success_stats
from harness.attack.support import attack_support, protected_fields
from perturbations.candidates import CandidateGenerator
from perturbations.params import params_to_dict
from perturbations.suite import Condition


def attack_unit(predictor: Any, examples: list[dict], lang: str, condition: Condition, *, fields: Sequence[str],
                desc: str) -> tuple[list[dict], list[dict], dict]:
    """(adversarial inputs, prediction records, meta entries) of ``condition``'s search on ``examples``."""
    params = condition.attack
    assert params is not None
    support = attack_support(predictor, examples, params)
    generator = CandidateGenerator(condition.steps, lang, max_candidates=params.max_candidates, seed=condition.seed,
                                   real_word_typos=params.real_word_typos,
                                   inflection_prefix=params.inflection_prefix)
    with predictor.progress(len(examples), f"{desc} (attack)") as bar:
        result = run_attack(examples, support.score, generator, params, fields=fields, policy=support.policy,
                            seed=condition.seed, group_size=predictor.options.batch_size or 32, progress=bar)
    outcomes = result.outcomes
    adversarial = result.examples()
    records = predictor.predict(adversarial, desc=desc)
    kept = protected_fields(support.policy, fields)
    for record, o, example in zip(records, outcomes, adversarial, strict=True):
        record["attack"] = {"queries": o.queries, "edits": [
            [o.words.slots[slot].word, new, family] for slot, (family, new) in sorted(o.edits.items())]}
        record["attack"] |= {name: example[name] for name in kept}
    families = Counter(family for o in outcomes for family, _ in o.edits.values())
    change = change_stats(examples, adversarial, fields, support.policy.tokens, dict(sorted(families.items())))
    n = max(len(outcomes), 1)
    change |= success_stats([o.clean_correct for o in outcomes], support.correct(records),
                            [len(o.edits) for o in outcomes])
    change |= {"mean_budget": round(sum(o.budget for o in outcomes) / n, 4), "model_calls": result.model_calls,
               "model_calls_per_example": round(result.model_calls / n, 2)}
    stats = {**params_to_dict(params), "score_calls": result.score_calls, "seconds": round(result.seconds, 2),
             "examples_per_second": round(len(examples) / result.seconds, 3) if result.seconds > 0 else 0.0,
             "eligible_words": sum(len({s.group for s in o.words.slots}) for o in outcomes)}
    meta = {"condition_params": condition.to_dict(), "variant": 0, "condition_signature": condition.signature(),
            "change": change, "attack": stats}
    return adversarial, records, meta
