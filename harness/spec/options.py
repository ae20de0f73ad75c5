"""Per-task-type option sections of a task file (``tagging:``, ``qa:``, ``choice:``, ``candidates:``)
and their checks. A section only counts for (and is only hashed into) tasks of its own type."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import XRobustError

# section name → the task type it configures
SECTION_TYPES = {"tagging": "token_classification", "qa": "qa", "choice": "multiple_choice",
                 "candidates": "candidate_retrieval"}
# canonical fields that may be mapped to a LIST of columns (their values are collected in order)
LIST_FIELDS = frozenset({"choices"})


@dataclass(frozen=True)
class TaggingOptions:
    """Token classification: the label predicted for words that truncation (or the tokenizer) dropped."""

    fallback_label: str = "O"


@dataclass(frozen=True)
class QAOptions:
    """Extractive QA: sliding windows over long contexts and span decoding (lengths in tokens)."""

    max_length: int = 384
    stride: int = 128  # tokens shared by consecutive windows
    max_query_length: int = 64
    n_best: int = 20  # top-k start and top-k end positions per window
    max_answer_length: int = 30
    normalization: str = "squad"  # squad (SQuAD v1.1 script) | mlqa (MLQA script, language-aware)


@dataclass(frozen=True)
class ChoiceOptions:
    """Multiple choice (XCOPA): segment templates and the connective chosen by the example's ``question``."""

    connectives: dict[str, str] = field(default_factory=lambda: {"cause": "because", "effect": "so"})
    first: str = "{premise}"
    second: str = "{connective} {choice}"
    question_from: str = ""  # language whose file of the same split supplies `question`, matched by id
    question_from_langs: tuple[str, ...] = ()  # where question_from applies (empty: every other language)


@dataclass(frozen=True)
class CandidateOptions:
    """Retrieval from a candidate pool; embedding settings come from ``retrieval`` (pooling, prefix, top_k)."""

    format: str = "jsonl"  # lareqa | mewslix | jsonl (layouts: harness/data/candidates.py)
    folder: str = ""  # data folder name under --data-dir (default: the task name; set it in variant files)
    queries: str = "{lang}.{split}.jsonl"  # query file, relative to DATA_DIR/<folder>/ (or to source_url)
    pool: str = "candidates.{split}.jsonl"  # candidate file (lareqa: the query files of pool_languages)
    pool_languages: tuple[str, ...] = ()  # lareqa: languages whose sentences form the pool (empty: task's)
    query_template: str = "{query}"  # may also use {context}
    source_url: str = ""  # without --data-dir, read the files from here (the official release), if set


def validate_sections(spec: Any, path: Path) -> None:
    """Checks of the per-type option sections."""
    if spec.type == "token_classification":
        if not spec.labels:
            raise XRobustError("token classification needs the tag names", file=path, field="labels")
        if spec.tagging.fallback_label not in spec.labels:
            raise XRobustError(f"{spec.tagging.fallback_label!r} is not one of labels", file=path,
                               field="tagging.fallback_label")
    qa = spec.qa
    if qa.normalization not in ("squad", "mlqa"):
        raise XRobustError("must be squad or mlqa", file=path, field="qa.normalization")
    for key in ("max_length", "n_best", "max_answer_length", "max_query_length"):
        if getattr(qa, key) < 1:
            raise XRobustError("must be at least 1", file=path, field=f"qa.{key}")
    if not 0 <= qa.stride < qa.max_length - qa.max_query_length - 3:
        raise XRobustError("must be >= 0 and leave room for context tokens in each window", file=path,
                           field="qa.stride")
    choice = spec.choice
    for key in ("first", "second"):
        template = getattr(choice, key)
        if "{premise}" not in template and "{choice}" not in template:
            raise XRobustError("template must use {premise} or {choice}", file=path, field=f"choice.{key}")
    if spec.candidates.format not in ("lareqa", "mewslix", "jsonl"):
        raise XRobustError("must be lareqa, mewslix or jsonl", file=path, field="candidates.format")
    if spec.type == "candidate_retrieval" and "map_at_20" in spec.metrics and spec.retrieval.top_k < 20:
        raise XRobustError("map_at_20 needs top_k >= 20", file=path, field="retrieval.top_k")


def _fail(path: Path, name: str, what: str, value: Any) -> XRobustError:
    return XRobustError(f"must be {what}, got {type(value).__name__}", file=path, field=name)


def coerce_option(default: Any, value: Any, path: Path, name: str) -> Any:
    """Check an option value against its default's type; lists (or "a, b" strings) become tuples."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise _fail(path, name, "true or false", value)
    elif isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(path, name, "an integer", value)
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise _fail(path, name, "a string", value)
    elif isinstance(default, tuple):
        items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise _fail(path, name, "a list of strings", value)
        return tuple(items)
    elif isinstance(default, dict):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise _fail(path, name, "a mapping of strings", value)
        return dict(value)
    return value


def check_fields_map(value: Any, path: Path, name: str) -> None:
    """Canonical field → column name, or a list of column names for LIST_FIELDS."""
    if not isinstance(value, dict):
        raise _fail(path, name, "a mapping", value)
    for key, val in value.items():
        if not (isinstance(val, str) or (isinstance(val, list) and val and all(isinstance(v, str) for v in val))):
            raise XRobustError("values must be column names (a string, or a list of strings)", file=path,
                               field=f"{name}.{key}")
        if isinstance(val, list) and key not in LIST_FIELDS:
            raise XRobustError(f"only {', '.join(sorted(LIST_FIELDS))} may map to a list of columns", file=path,
                               field=f"{name}.{key}")
