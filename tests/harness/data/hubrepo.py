"""Dataset repositories laid out as on the Hugging Face hub, built from real rows in a temporary folder: one
parquet file per config and split (``<config>/<split>-00000-of-00001.parquet``, as ``push_to_hub`` writes
them, features such as ClassLabel stored with the data) and a README whose YAML header lists the ``configs``
with their ``data_files`` and the ``dataset_info`` features. ``datasets.load_dataset(<folder>, <config>,
split=…)`` reads them through the same builder code as a hub repository."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_repo(root: Path, repo_id: str, configs: dict[str, dict[str, tuple[list[dict], Any]]]) -> Path:
    """``root/<repo_id>`` with ``configs``: config name → split → (rows, datasets.Features or None)."""
    import datasets
    from huggingface_hub import DatasetCard, DatasetCardData

    folder = root / repo_id
    folder.mkdir(parents=True, exist_ok=True)
    meta, infos = {}, {}
    for config, splits in configs.items():
        files, features_of = [], None
        for split, (rows, features) in splits.items():
            dataset = datasets.Dataset.from_list(rows, features=features)
            rel = f"{config}/{split}-00000-of-00001.parquet"
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            dataset.to_parquet(str(folder / rel))
            files.append({"split": split, "path": rel})
            features_of = dataset.features
        meta[config] = {"data_files": files}
        infos[config] = datasets.DatasetInfo(features=features_of, config_name=config)
    card = DatasetCardData()
    datasets.utils.metadata.MetadataConfigs(meta).to_dataset_card_data(card)
    datasets.info.DatasetInfosDict(infos).to_dataset_card_data(card)
    DatasetCard(f"---\n{card.to_yaml()}\n---\n# {repo_id} (test copy)\n").save(folder / "README.md")
    return folder


def class_label(names: list[str]) -> Any:
    import datasets

    return datasets.ClassLabel(names=names)


def renamed(row: dict, names: dict[str, str], convert: dict[str, Any] | None = None) -> dict:
    """``row`` with keys renamed in place (order kept) and values converted by ``convert[new key]``."""
    convert = convert or {}
    out = {}
    for key, value in row.items():
        new = names.get(key, key)
        out[new] = convert[new](value) if new in convert else value
    return out


UPOS = ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
        "SCONJ", "SYM", "VERB", "X"]  # google/xtreme udpos pos_tags ClassLabel order
NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]  # google/xtreme PAN-X, wikiann ner_tags
NLI = ["entailment", "neutral", "contradiction"]  # facebook/xnli label


def _rows(shared: Path, rel: str) -> list[dict]:
    import json

    with (shared / rel).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _features(rows: list[dict], **typed: Any) -> Any:
    """Features inferred from ``rows``, with the named columns replaced (ClassLabel and friends)."""
    import datasets

    inferred = datasets.Dataset.from_list(rows[:1]).features
    return datasets.Features({name: typed.get(name, feature) for name, feature in inferred.items()})


# (task, lang, split) → (hub repo, config, hub split, shared file); the rows of these shared files are what the
# test repositories hold, re-keyed and re-typed as the hub copy has them
CASES = {
    ("xnli", "de", "test"): ("facebook/xnli", "de", "test", "xnli/de.test.jsonl"),
    ("pawsx", "de", "test"): ("google-research-datasets/paws-x", "de", "test", "pawsx/de.test.jsonl"),
    ("udpos", "de", "test"): ("google/xtreme", "udpos.German", "test", "udpos/de.test.jsonl"),
    ("panx", "de", "validation"): ("google/xtreme", "PAN-X.de", "validation", "panx/de.validation.jsonl"),
    ("mlqa", "de", "validation"): ("google/xtreme", "MLQA.de.de", "validation", "mlqa/de.validation.jsonl"),
    ("tatoeba", "fi", "test"): ("google/xtreme", "tatoeba.fin", "validation", "tatoeba/fi.test.jsonl"),
    ("xcopa", "et", "test"): ("cambridgeltl/xcopa", "et", "test", "xcopa/et.test.jsonl"),
    ("xcopa", "en", "train"): ("aps/super_glue", "copa", "train", "xcopa/en.train.jsonl"),  # built-in override
}
# languages the test task files below send to another repository (the override path)
OVERRIDE_CASES = {
    ("panx", "fi", "validation"): ("unimelb-nlp/wikiann", "fi", "validation", "panx/fi.validation.jsonl"),
    ("tatoeba", "tr", "test"): ("mteb/tatoeba-bitext-mining", "tur-eng", "test", "tatoeba/tr.test.jsonl"),
}


def hub_rows(repo: str, config: str, rows: list[dict]) -> tuple[list[dict], Any]:
    """Shared-data rows as the hub copy of ``repo`` has them (column names, ClassLabel ids, whitespace)."""
    import datasets

    if repo == "facebook/xnli":
        out = [renamed(r, {"sentence1": "premise", "sentence2": "hypothesis", "gold_label": "label"},
                       {"label": NLI.index}) for r in rows]
        return out, _features(out, label=class_label(NLI))
    if repo == "google-research-datasets/paws-x":
        out = [renamed(r, {}, {"label": ["0", "1"].index}) for r in rows]
        return out, _features(out, label=class_label(["0", "1"]))
    if config.startswith("udpos."):
        out = [renamed(r, {}, {"pos_tags": lambda tags: [UPOS.index(t) for t in tags]}) for r in rows]
        return out, _features(out, pos_tags=datasets.Sequence(class_label(UPOS)))
    if config.startswith("PAN-X.") or repo == "unimelb-nlp/wikiann":
        out = [renamed(r, {}, {"ner_tags": lambda tags: [NER.index(t) for t in tags]}) for r in rows]
        return out, _features(out, ner_tags=datasets.Sequence(class_label(NER)))
    if config.startswith("tatoeba."):  # google/xtreme keeps the newline that ends each line of the source files
        out = [renamed(r, {}, {"source_sentence": lambda s: s + "\n", "target_sentence": lambda s: s + "\n"})
               for r in rows]
        return out, None
    if repo == "mteb/tatoeba-bitext-mining":
        out = [renamed(r, {"source_sentence": "sentence1", "target_sentence": "sentence2"}) for r in rows]
        return out, None
    if repo == "aps/super_glue":
        return rows, _features(rows, label=class_label(["choice1", "choice2"]))
    return rows, None


def build_mirror(root: Path, shared: Path) -> Path:
    """Every repository of :data:`CASES` and :data:`OVERRIDE_CASES` under ``root`` (``root/<owner>/<name>``)."""
    repos: dict[str, dict[str, dict[str, tuple[list[dict], Any]]]] = {}
    for repo, config, split, rel in [*CASES.values(), *OVERRIDE_CASES.values()]:
        repos.setdefault(repo, {}).setdefault(config, {})[split] = hub_rows(repo, config, _rows(shared, rel))
    for repo, configs in repos.items():
        write_repo(root, repo, configs)
    return root


def override_task(folder: Path, task: str) -> Path:
    """A task file: the built-in ``task`` with the language of :data:`OVERRIDE_CASES` sent to its repository,
    reading the same local files (``<task>/<lang>.<split>.jsonl``)."""
    from harness.spec.taskspec import TASKS_DIR

    lines = {"panx": "      fi: {path: unimelb-nlp/wikiann, name: \"{lang}\"}\n",
             "tatoeba": "      tr: {path: mteb/tatoeba-bitext-mining, name: \"{lang3}-eng\", split: test, "
                        "fields: {source: sentence1, target: sentence2}}\n"}
    path = folder / f"{task}_override.yaml"
    path.write_text(f"include: {TASKS_DIR / (task + '.yaml')}\nname: {task}_override\n"
                    f"data:\n  local: {{pattern: \"{task}/{{lang}}.{{split}}.jsonl\"}}\n  hub:\n    overrides:\n"
                    + lines[task], encoding="utf-8")
    return path
