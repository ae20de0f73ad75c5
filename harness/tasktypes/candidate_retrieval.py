"""Retrieval from a candidate pool (LAReQA, Mewsli-X): each ``query`` ranks a shared pool; ``positives`` are
the relevant candidate ids. Examples and the pool are read by :mod:`harness.data.candidates` (layouts in the
task file's ``candidates:`` section); embedding settings come from the shared ``retrieval:`` section.
Perturbations edit the query only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import XRobustError
from harness.tasktypes.base import AttackSupport, Section, Spec, TaskType
from perturbations.policies import TEXT


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


class CandidateRetrieval(TaskType):
    name = "candidate_retrieval"
    required = ("query", "positives")
    optional = ("id", "context")
    section = Section("candidates", CandidateOptions)
    head = "AutoModel"
    predictor = "harness.models.predictors.candidates:PoolRetriever"
    metrics = ("map_at_20",)
    field_policy = TEXT
    attack = AttackSupport("harness.attack.judges:listed")
    examples = "harness.data.candidates:load_queries"

    def data_source(self, spec: Spec) -> str:
        return f"{spec.candidates.format} files" + (" (or GitHub)" if spec.candidates.source_url else "")

    def check_section(self, options: CandidateOptions, path: Path) -> None:
        if options.format not in ("lareqa", "mewslix", "jsonl"):
            raise XRobustError("must be lareqa, mewslix or jsonl", file=path, field="candidates.format")

    def validate(self, spec: Spec, path: Path) -> None:
        if "map_at_20" in spec.metrics and spec.retrieval.top_k < 20:
            raise XRobustError("map_at_20 needs top_k >= 20", file=path, field="retrieval.top_k")


TYPE = CandidateRetrieval()
