"""Queries and candidate pools of retrieval-from-a-pool tasks (LAReQA, Mewsli-X).

Files are read relative to ``DATA_DIR/<folder or task name>/`` (or to ``candidates.source_url`` without ``--data-dir``). Layouts
(``candidates.format``):

* ``lareqa`` — the LAReQA XQuAD-R release, one SQuAD-format JSON per language whose paragraphs also carry
  ``sentences`` and ``sentence_breaks`` ([start, end] character offsets). Every sentence of every pool
  language is a candidate; a question's relevant candidates are the sentences that hold its answer in each
  pool language (the questions are 11-way parallel and share ids across languages).
* ``mewslix`` — Mewsli-X: ``wikinews_mentions-<split>.jsonl`` (one article per line: ``context`` with
  ``language``, ``text``, ``sentence_spans`` and ``mentions`` with ``example_id``, ``entity_id``,
  ``mention_span``) and ``candidate_set_entities.jsonl`` (``entity_id``, ``description``). Query = the
  mention's text, context = the sentence that holds it, relevant = its entity.
* ``jsonl`` — flat query rows mapped with ``fields`` (query, positives: one id or a list, id, context) and
  pool rows ``{"id", "text"}``.

Examples carry ``pool``, a small key from which :func:`candidate_pool` returns the (cached) pool, so the
pool is never copied into examples or records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.data import provenance
from harness.errors import XRobustError, line_of
from harness.spec.taskspec import TaskSpec

_POOLS: dict[str, list[dict]] = {}


def _is_url(base: str) -> bool:
    return base.startswith(("http://", "https://"))


def _read(base: str, rel: str) -> str:
    if _is_url(base):
        import urllib.request

        url = base.rstrip("/") + "/" + rel
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                return response.read().decode("utf-8")
        except OSError as err:
            raise XRobustError(f"cannot download {url}: {err}; offline? use --data-dir",
                               field="candidates.source_url") from None
    path = Path(base) / rel
    if not path.is_file():
        raise XRobustError("data file not found", file=path, field="--data-dir")
    return _text(path.read_bytes(), path)


def _text(data: bytes, origin: str | Path, line: int = 1) -> str:
    """``data`` as UTF-8 text; else ``ORIGIN:LINE: not UTF-8 text``."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise XRobustError(f"not UTF-8 text (byte 0x{data[err.start]:02x})", file=origin,
                           line=line - 1 + line_of(data, err.start), field="row") from None


@lru_cache(maxsize=64)
def _json(base: str, rel: str) -> Any:
    try:
        return json.loads(_read(base, rel))
    except json.JSONDecodeError as err:
        origin = base.rstrip("/") + "/" + rel if _is_url(base) else Path(base) / rel
        raise XRobustError(f"not valid JSON: {err.msg} (column {err.colno})", file=origin, line=err.lineno) from None


def _rows(base: str, rel: str) -> Iterator[dict]:
    """JSON lines, streamed from a local file (the Mewsli-X entity file is ~0.5 GB)."""
    if _is_url(base):
        yield from _parse(_read(base, rel).splitlines(), rel)
        return
    path = Path(base) / rel
    if not path.is_file():
        raise XRobustError("data file not found", file=path, field="--data-dir")
    with path.open("rb") as handle:
        yield from _parse((_text(raw, path, number) for number, raw in enumerate(handle, start=1)), str(path))


def _parse(lines: Iterable[str], origin: str) -> Iterator[dict]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as err:
                raise XRobustError(f"not valid JSON: {err.msg} (column {err.colno})", file=origin, line=number,
                                   field="row") from None


@lru_cache(maxsize=16)
def _jsonl(base: str, rel: str) -> tuple[dict, ...]:
    return tuple(_rows(base, rel))


def _base(spec: TaskSpec, data_dir: str | Path | None) -> str:
    if data_dir is not None:
        return str(Path(data_dir) / (spec.candidates.folder or spec.name))
    if spec.candidates.source_url:
        return spec.candidates.source_url
    raise XRobustError("no hub source for this task; pass --data-dir", file=spec.source_file,
                       field="candidates.source_url")


def _rel(spec: TaskSpec, pattern: str, lang: str, split: str) -> str:
    return pattern.format(task=spec.name, lang=lang, lang3=spec.lang3(lang), split=split)


def _lareqa(spec: TaskSpec, base: str, lang: str, split: str) -> tuple[list[dict], list[dict]]:
    """(sentences as candidates, questions with the id of their answer sentence) of one language file."""
    rel = _rel(spec, spec.candidates.queries, lang, split)
    data = _json(base, rel)
    sentences, questions = [], []
    for a, article in enumerate(data.get("data", [])):
        for p, para in enumerate(article.get("paragraphs", [])):
            if "sentences" not in para or "sentence_breaks" not in para:
                raise XRobustError("paragraph without sentences/sentence_breaks (not an LAReQA file)", file=rel)
            ids = [f"{lang}:{a}:{p}:{s}" for s in range(len(para["sentences"]))]
            sentences += [{"id": cid, "text": text} for cid, text in zip(ids, para["sentences"], strict=True)]
            starts = [int(b[0]) for b in para["sentence_breaks"]]
            for qa in para.get("qas", []):
                answer = qa["answers"][0]["answer_start"] if qa.get("answers") else -1
                index = max((i for i, s in enumerate(starts) if s <= answer), default=-1)
                questions.append({"id": str(qa["id"]), "query": qa["question"],
                                  "answer": ids[index] if index >= 0 else None})
    return sentences, questions


def _pool_languages(spec: TaskSpec) -> tuple[str, ...]:
    return spec.candidates.pool_languages or spec.languages


def _mention_queries(spec: TaskSpec, base: str, lang: str, split: str) -> list[dict]:
    rel = _rel(spec, spec.candidates.queries, lang, split)
    out = []
    for doc in _jsonl(base, rel):
        context = doc.get("context", {})
        if context.get("language") != lang:
            continue
        text = context.get("text") or ""
        if not text:
            raise XRobustError("article text is empty: run Mewsli-X's get-mewsli-x.sh to restore it", file=rel)
        spans = [(int(s["start"]), int(s["end"])) for s in context.get("sentence_spans", [])] or [(0, len(text))]
        for mention in doc.get("mentions", []):
            span = mention["mention_span"]
            begin, end = next(((b, e) for b, e in spans if b <= span["start"] < e), (0, len(text)))
            out.append({"id": str(mention["example_id"]), "query": span["text"], "context": text[begin:end],
                        "positives": [str(mention["entity_id"])]})
    return out


def _flat_queries(spec: TaskSpec, base: str, lang: str, split: str) -> list[dict]:
    rel = _rel(spec, spec.candidates.queries, lang, split)
    mapping = spec.fields_for("local")
    out = []
    for row_index, row in enumerate(_jsonl(base, rel)):
        try:
            positives = row[mapping.get("positives", "positives")]
            query = row[mapping.get("query", "query")]
        except KeyError as err:
            raise XRobustError(f"row {row_index} has no column {err}", file=rel, field="fields") from None
        out.append({"id": str(row.get(mapping.get("id", "id"), row_index)), "query": query,
                    "context": str(row.get(mapping.get("context", "context"), "")),
                    "positives": [str(p) for p in ([positives] if isinstance(positives, (str, int)) else positives)]})
    return out


def _build_pool(spec: TaskSpec, base: str, split: str) -> list[dict]:
    fmt = spec.candidates.format
    if fmt == "lareqa":
        return [s for lang in _pool_languages(spec) for s in _lareqa(spec, base, lang, split)[0]]
    rel = _rel(spec, spec.candidates.pool, "", split)
    id_key, text_key = ("entity_id", "description") if fmt == "mewslix" else ("id", "text")
    try:
        return [{"id": str(r[id_key]), "text": str(r[text_key])} for r in _rows(base, rel)]
    except KeyError as err:
        raise XRobustError(f"a candidate row has no {err} column", file=rel, field="candidates.pool") from None


def _key(spec: TaskSpec, base: str, split: str) -> str:
    return json.dumps({"task": spec.source_file, "hash": spec.config_hash(), "base": base, "split": split},
                      sort_keys=True)


def candidate_pool(spec: TaskSpec, key: str) -> list[dict]:
    """The pool (``[{"id", "text"}]``) an example's ``pool`` key names; built once per process."""
    if key not in _POOLS:
        info = json.loads(key)
        _POOLS[key] = _build_pool(spec, info["base"], info["split"])
    return _POOLS[key]


def load_queries(spec: TaskSpec, lang: str, split: str, *, data_dir: str | Path | None = None,
                 limit: int | None = None) -> list[dict]:
    """Canonical query examples ``{id, query, context, positives, language, pool}`` of one language."""
    base = _base(spec, data_dir)
    fmt = spec.candidates.format
    if fmt == "lareqa":
        questions = _lareqa(spec, base, lang, split)[1]
        answers: dict[str, list[str]] = {}
        for other in _pool_languages(spec):
            for q in _lareqa(spec, base, other, split)[1]:
                if q["answer"] is not None:
                    answers.setdefault(q["id"], []).append(q["answer"])
        queries = [{"id": q["id"], "query": q["query"], "context": "", "positives": answers.get(q["id"], [])}
                   for q in questions]
    elif fmt == "mewslix":
        queries = _mention_queries(spec, base, lang, split)
    else:
        queries = _flat_queries(spec, base, lang, split)
    if len({q["id"] for q in queries}) != len(queries):
        queries = [{**q, "id": f"{q['id']}#{i}"} for i, q in enumerate(queries)]
    if limit is not None:
        queries = queries[:limit]
    _note_files(spec, base, lang, split)
    key = _key(spec, base, split)
    return [{**q, "language": lang, "pool": key} for q in queries]


def _note_files(spec: TaskSpec, base: str, lang: str, split: str) -> None:
    """Record the files the queries and the pool of ``lang`` are read from (local ones with their sha256), so
    that a unit's fingerprint covers the candidate pool too."""
    langs = _pool_languages(spec) if spec.candidates.format == "lareqa" else (lang,)
    rels = [_rel(spec, spec.candidates.queries, other, split) for other in dict.fromkeys((lang, *langs))]
    if spec.candidates.format != "lareqa":
        rels.append(_rel(spec, spec.candidates.pool, "", split))
    for rel in rels:
        if _is_url(base):
            provenance.note({"kind": "url", "url": base.rstrip("/") + "/" + rel})
        elif (Path(base) / rel).is_file():
            provenance.note(provenance.local_file(Path(base) / rel))
