"""Perturbation suites for robustness tests of zero-shot cross-lingual transfer.

Families: typos (keyboard neighbours on national layouts, insertion, deletion, transposition,
diacritic stripping), morphological inflection swaps (UniMorph, simplemma) and code-switching (MUSE).

* :func:`load_suite` reads ``perturbations/suites/<name>.yaml``: a seed and named conditions, each an
  ordered list of perturbation steps with parameters.
* :func:`perturb_examples` applies one :class:`Condition` to canonical examples of a task type and
  returns new dicts plus :class:`ChangeStats`. Every (condition seed, step, example id, field,
  variant) gets its own RNG from a stable hash, so outputs do not depend on runs, processes,
  batches or order.
* A condition claims a language if any step does; steps that do not claim it are skipped, and
  perturbing an unclaimed language is an error (check :meth:`Condition.claims` first).
"""

from perturbations import codeswitch, diacritics, inflection, typos  # noqa: F401  (register perturbations)
from perturbations.apply import TASK_TYPES, perturb_examples
from perturbations.base import REGISTRY, Perturbation, Tally, WordPerturbation
from perturbations.diffing import DiffSpan, diff_spans, mark_edits
from perturbations.pairs import crosslingual_pairs
from perturbations.seeding import example_rng
from perturbations.stats import ChangeStats
from perturbations.suite import Condition, Suite, list_suites, load_suite

__all__ = [
    "REGISTRY", "TASK_TYPES", "ChangeStats", "Condition", "DiffSpan", "Perturbation", "Suite", "Tally",
    "WordPerturbation", "crosslingual_pairs", "diff_spans", "example_rng", "list_suites", "load_suite",
    "mark_edits", "perturb_examples",
]
