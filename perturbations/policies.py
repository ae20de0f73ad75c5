"""Field policies: which fields of a task type's examples :func:`~perturbations.perturb_examples` may edit,
and how, so that labels survive.

A task type declares one policy; :data:`POLICIES` names the policies of the XTREME-R task types, so the
library works on its own, and :func:`register_policy` adds more (the harness registers each task type's).
"""

from __future__ import annotations

from dataclasses import dataclass

# fields that carry labels or ids: never perturbed, whatever the policy
NEVER_PERTURBED = frozenset({"id", "label", "tags", "answers", "positives"})


@dataclass(frozen=True)
class FieldPolicy:
    """How the text fields of one task type's examples are perturbed.

    A string field is perturbed as text. A list-of-strings field is perturbed as aligned tokens when ``tokens``
    (one output token per input token, so per-token tags stay aligned), else element-wise (``choices[0]``,
    ``choices[1]`` … each with its own RNG). ``protected`` pairs a text field with the SQuAD-style answers field
    whose spans (widened to whole words) it must keep: the text around them is perturbed and every
    ``answer_start`` recomputed.
    """

    tokens: bool = False
    protected: tuple[tuple[str, str], ...] = ()

    def answers_for(self, name: str) -> str | None:
        """The answers field whose spans ``name`` must keep, if any."""
        return dict(self.protected).get(name)


TEXT = FieldPolicy()
ALIGNED_TOKENS = FieldPolicy(tokens=True)
ANSWER_SPANS = FieldPolicy(protected=(("context", "answers"),))

POLICIES: dict[str, FieldPolicy] = {
    "pair_classification": TEXT,
    "retrieval": TEXT,
    "token_classification": ALIGNED_TOKENS,
    "qa": ANSWER_SPANS,
    "multiple_choice": TEXT,
    "candidate_retrieval": TEXT,  # the query only; the pool and the relevance list are never fields
}
BUILTIN_TASK_TYPES = tuple(POLICIES)


def register_policy(task_type: str, policy: FieldPolicy) -> None:
    """Declare the policy of ``task_type``; a different policy for a name already known is an error."""
    if POLICIES.get(task_type, policy) != policy:
        raise ValueError(f"task type {task_type!r} already has another field policy")
    POLICIES[task_type] = policy


def unregister_policy(task_type: str) -> None:
    """Forget a registered task type's policy (the XTREME-R ones stay)."""
    if task_type not in BUILTIN_TASK_TYPES:
        POLICIES.pop(task_type, None)
