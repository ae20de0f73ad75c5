"""Task types: one module per type (:mod:`.base` says what a task type holds). Importing the package registers
the built-in types, in this order; :func:`register` adds more."""

from harness.tasktypes import (
    candidate_retrieval,
    multiple_choice,
    pair_classification,
    qa,
    retrieval,
    token_classification,
)
from harness.tasktypes.base import (
    AttackSupport,
    Section,
    Submission,
    TaskType,
    Training,
    all_types,
    get,
    names,
    register,
    resolve,
    section_owner,
    unregister,
)

for _module in (pair_classification, retrieval, token_classification, qa, multiple_choice, candidate_retrieval):
    register(_module.TYPE)

__all__ = ["AttackSupport", "Section", "Submission", "TaskType", "Training", "all_types", "get", "names", "register", "resolve",
           "section_owner", "unregister"]
