"""Property-based checks of hostile input (hypothesis), on real rows from the sample data and tiny models:

* a task file with any top-level or nested value replaced loads or fails with a one-line error, and a run of it
  either exits 2 with one line or exits 0 with scores that are exactly those of its stored predictions of every
  row of the data;
* a data file corrupted at random (bytes flipped, cut, lines dropped or repeated, values replaced) does the same;
* a run directory damaged at random is refused by every reader: report/compare (load_run), the results rebuild
  of run and import, the run's resume check, and attack transfer.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from harness.attack.transfer import load_sources
from harness.cli.main import main
from harness.errors import XRobustError
from harness.spec.taskspec import load_task
from harness.stats.analysis import Analysis
from harness.stats.runs import load_run
from harness.store.results import claim_run_dir, import_signature, write_results
from harness.store.rundir import RunStore, Unit
from harness.store.scoring import scores_from_store
from tests.conftest import HAVE_DATA, NO_DATA, shared_rows

pytestmark = [pytest.mark.data, pytest.mark.skipif(not HAVE_DATA, reason=NO_DATA)]

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# -- values a hostile or careless task file may hold ----------------------------------------------------------

TEXT = st.one_of(st.sampled_from(["", "../../x", "/etc/passwd", "de", "xnli", "=cmd", "{lang}", "..", "a/b",
                                  "entailment", "sentence1", "accuracy", "text_a", "ü", "\0"]),
                 st.text(max_size=12))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.sampled_from([-5, 0, 1, 2, 7]),
                   st.floats(allow_nan=True, allow_infinity=True), TEXT)
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(TEXT, inner, max_size=3)), max_leaves=6)
KEYS = ["name", "type", "languages", "labels", "metrics", "main_metric", "perturb_fields", "max_length",
        "fields", "label_aliases", "splits", "language_codes", "source_language", "extra_languages", "description",
        "include", "options", "training", "retrieval", "retrieval.top_k", "retrieval.max_length", "retrieval.pooling",
        "data", "data.local", "data.local.pattern", "data.local.fields", "data.local.fields.text_a",
        "data.local.fields.label", "data.hub", "data.hub.path", "data.hub.unavailable", "labels.0", "qa",
        "tagging.fallback_label", "unknown_key"]


#: values of the right shape (some of them still wrong for the task), so that mutated runs reach the model too
PLAUSIBLE: dict[str, list] = {
    "max_length": [1, 2, 3, 4, 5, 8, 16, 512, 100_000],
    "labels.0": ["entailment", "contradiction", "Entailment", "yes"],
    "labels": [["entailment", "neutral", "contradiction"], ["contradiction", "neutral", "entailment"],
               ["entailment", "neutral"]],
    "metrics": [["accuracy"], ["accuracy", "accuracy"], ["f1"]],
    "main_metric": ["accuracy", "f1"],
    "perturb_fields": [["text_a"], ["text_b"], ["label"], []],
    "fields": [{"text_a": "sentence2"}, {"label": "gold_label"}, {"text_b": "sentence1"}],
    "data.local.fields.text_a": ["sentence1", "sentence2", "gold_label", "idx", "language", "missing"],
    "data.local.fields.label": ["gold_label", "sentence1", "idx"],
    "data.local.pattern": ["{task}/{lang}.{split}.jsonl", "xnli/{lang}.{split}.jsonl", "xnli/de.test.jsonl",
                           "xnli/{lang}.jsonl", "{task}/../xnli/{lang}.{split}.jsonl"],
    "splits": [{"eval": "test"}, {"eval": "validation"}, {"eval": "train"}],
    "language_codes": [{"de": "deu"}, {"de": "de"}],
    "source_language": ["en", "de", "xx"],
    "extra_languages": [["ko"], ["de"], []],
    "label_aliases": [{"entailment": ["yes"]}, {"neutral": ["entailment"]}],
    "retrieval.top_k": [1, 5], "retrieval.max_length": [4, 64], "retrieval.pooling": ["cls", "max"],
    "description": ["", "anything"], "name": ["xnli_m", "x" * 160, "xnli"],
}
MUTATION = st.sampled_from(KEYS).flatmap(
    lambda key: st.tuples(st.just(key), st.one_of(*[st.sampled_from(PLAUSIBLE.get(key, [None]))] * 3, VALUE)))


def _task_text(key: str, value: object) -> str:
    """xnli's task file (included) with ``key`` (dotted: nested) set to ``value``."""
    base: dict = {"include": "xnli.yaml", "name": "xnli_m", "languages": ["de"],
                  "data": {"local": {"pattern": "xnli/{lang}.{split}.jsonl"}}}
    if key == "labels.0":
        base["labels"] = [value, "neutral", "contradiction"]
    else:
        node = base
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return yaml.safe_dump(base, allow_unicode=True)


@settings(SETTINGS, max_examples=60)
@given(mutation=MUTATION)
def test_mutated_task_files_load_or_fail_in_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                     mutation: tuple[str, object]) -> None:
    key, value = mutation
    path = tmp_path_factory.mktemp("task") / "t.yaml"
    path.write_text(_task_text(key, value), encoding="utf-8")
    try:
        spec = load_task(path)
    except XRobustError as err:
        assert "\n" not in str(err) and str(err).startswith(str(path))
        return
    assert spec.name and spec.languages and spec.max_length >= 1
    assert len(set(spec.labels)) == len(spec.labels)


def _score_matches_predictions(out: Path, data_file: Path) -> None:
    """Exit 0: the unit holds one record per row of the data file, with the file's gold labels, and the stored
    accuracy is the one of those records."""
    rows = [json.loads(x) for x in data_file.read_text(encoding="utf-8").splitlines() if x.strip()]
    [stored] = list((out / "predictions").glob("*/de.*.clean.jsonl"))  # the task may have been renamed
    records = [json.loads(x) for x in stored.read_text().splitlines()]
    assert len(records) == len(rows)
    results = json.loads((out / "results.json").read_text())
    [score] = [r for r in results["scores"] if r["metric"] == "accuracy"]
    assert score["n"] == len(rows)
    assert score["value"] == pytest.approx(100 * sum(r["pred"] == r["gold"] for r in records) / len(rows), abs=1e-3)


def _run_cli(task: Path, model: Path, data: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["run", "--no-progress", "--tasks", str(task), "--model", str(model), "--langs", "de",
                 "--data-dir", str(data), "--out", str(out), "--batch-size", "8"])
    return code, capsys.readouterr().err


def _xnli_data(folder: Path, n: int = 8) -> Path:
    (folder / "xnli").mkdir(parents=True, exist_ok=True)
    path = folder / "xnli" / "de.test.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in shared_rows("xnli/de.test.jsonl", n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@settings(SETTINGS, max_examples=30)
@given(mutation=MUTATION)
def test_runs_of_mutated_task_files_never_give_a_traceback_or_a_wrong_score(
        tmp_path_factory: pytest.TempPathFactory, tiny_xnli_model: Path, capsys: pytest.CaptureFixture[str],
        mutation: tuple[str, object]) -> None:
    key, value = mutation
    assume(not key.startswith("data.hub"))  # the hub is not reachable here
    work = tmp_path_factory.mktemp("run")
    data = _xnli_data(work / "data")
    task = work / "t.yaml"
    task.write_text(_task_text(key, value), encoding="utf-8")
    code, err = _run_cli(task, tiny_xnli_model, work / "data", work / "out", capsys)
    event(f"exit {code}")
    assert code in (0, 2) and "Traceback" not in err
    if code == 2:
        assert err.startswith("xrobust: error: ") and err.count("\n") == 1
    else:
        _score_matches_predictions(work / "out", data)


# -- random corruption of a real data file ------------------------------------------------------------------

JSON_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-5, 50), st.text(max_size=6),
                       st.lists(st.one_of(st.none(), st.text(max_size=4), st.integers(-2, 3)), max_size=3),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
CORRUPTION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10**6)),
    st.tuples(st.just("drop line"), st.integers(0, 7)),
    st.tuples(st.just("repeat line"), st.integers(0, 7)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("value"), st.integers(0, 7), st.sampled_from(["sentence1", "sentence2", "gold_label", "idx"]),
              JSON_VALUE),
    st.tuples(st.just("drop key"), st.integers(0, 7), st.sampled_from(["sentence1", "sentence2", "gold_label"])),
)


def _corrupt(path: Path, ops: list[tuple]) -> None:
    data = path.read_bytes()
    for op in ops:
        if not data:
            break
        lines = data.split(b"\n")
        if op[0] == "flip":
            i = op[1] % len(data)
            data = data[:i] + bytes([data[i] ^ op[2]]) + data[i + 1:]
        elif op[0] == "cut":
            data = data[:op[1] % len(data)]
        elif op[0] == "insert":
            i = op[1] % (len(data) + 1)
            data = data[:i] + op[2] + data[i:]
        elif op[0] in ("drop line", "repeat line"):
            i = op[1] % len(lines)
            lines[i:i + 1] = [] if op[0] == "drop line" else [lines[i], lines[i]]
            data = b"\n".join(lines)
        else:
            i = op[1] % len(lines)
            try:
                row = json.loads(lines[i])
            except ValueError:
                continue
            if isinstance(row, dict):
                if op[0] == "value":
                    row[op[2]] = op[3]
                else:
                    row.pop(op[2], None)
                lines[i] = json.dumps(row, ensure_ascii=False).encode()
            data = b"\n".join(lines)
    path.write_bytes(data)


@settings(SETTINGS, max_examples=40)
@given(ops=st.lists(CORRUPTION, min_size=1, max_size=3))
def test_corrupted_data_files_never_give_a_traceback_or_a_wrong_score(
        tmp_path_factory: pytest.TempPathFactory, tiny_xnli_model: Path, capsys: pytest.CaptureFixture[str],
        ops: list[tuple]) -> None:
    work = tmp_path_factory.mktemp("data")
    data = _xnli_data(work / "data")
    _corrupt(data, ops)
    task = work / "t.yaml"
    task.write_text(_task_text("description", "corrupt rows"), encoding="utf-8")
    code, err = _run_cli(task, tiny_xnli_model, work / "data", work / "out", capsys)
    event(f"exit {code}")
    assert code in (0, 2) and "Traceback" not in err
    if code == 2:
        assert err.startswith("xrobust: error: ") and err.count("\n") == 1
        return
    _score_matches_predictions(work / "out", data)
    rows = [json.loads(x) for x in data.read_text(encoding="utf-8").splitlines() if x.strip()]
    records = [json.loads(x) for x in (work / "out/predictions/xnli_m/de.test.clean.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == _ids(rows)
    labels = ["entailment", "neutral", "contradiction"]
    gold = [r["gold_label"] if r["gold_label"] in labels else labels[int(r["gold_label"])] for r in rows]
    assert [r["gold"] for r in records] == gold


def _ids(rows: list[dict]) -> list[str]:
    """Example ids as loading gives them: the ``idx`` column when its values are unique, else row numbers."""
    ids = [str(r.get("idx")) for r in rows]
    return ids if "idx" in set().union(*rows) and len(set(ids)) == len(ids) else [str(i) for i in range(len(rows))]


# -- random damage to a stored run directory ----------------------------------------------------------------

LABELS = ["entailment", "neutral", "contradiction"]


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two units of xnli predictions on real rows, marked as greedy attack units (so transfer reads them)."""
    root = tmp_path_factory.mktemp("good") / "run"
    store = RunStore(root)
    run = claim_run_dir(store, lambda old: {"name": "A", "model": "A", "weights_sha256": "a"})
    for lang in ("de", "tr"):
        rows = shared_rows(f"xnli/{lang}.test.jsonl", 30)
        records = [{"id": str(r["idx"]), "gold": r["gold_label"], "pred": LABELS[i % 3],
                    "input": {"text_a": r["sentence1"], "text_b": r["sentence2"]}} for i, r in enumerate(rows)]
        store.write_unit(Unit("xnli", lang, "test", "adv.greedy"), records, f"fp-{lang}",
                         {"metrics": ["accuracy"], "ranked_metric": "accuracy", "task_type": "pair_classification",
                          "attack": {"search": "greedy"}})
    write_results(store, run, import_signature)
    store.release()
    return root


STORE_DAMAGE = st.tuples(
    st.sampled_from(["de.test.adv.greedy.jsonl", "de.test.adv.greedy.meta.json"]),
    st.sampled_from(["flip", "cut", "append", "delete", "swap lines", "repeat line"]),
    st.integers(0, 10**6), st.integers(1, 255))


def _damage(path: Path, kind: str, at: int, byte: int) -> None:
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    if kind == "flip":
        i = at % len(data)
        data = data[:i] + bytes([data[i] ^ byte]) + data[i + 1:]
    elif kind == "cut":
        data = data[:at % len(data)]
    elif kind == "append":
        data = data + bytes([byte])
    elif kind == "swap lines" and len(lines) > 1:
        i = at % (len(lines) - 1)
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
        data = b"".join(lines)
    elif kind == "repeat line":
        i = at % len(lines)
        data = b"".join(lines[:i + 1] + lines[i:])
    if kind == "delete":
        path.unlink()
    else:
        path.write_bytes(data)


def _same_content(before: bytes, path: Path) -> bool:
    """The damaged file still means the same (JSON meta with only whitespace changed, identical bytes)."""
    if not path.exists():
        return False
    after = path.read_bytes()
    if after == before:
        return True
    if path.suffix == ".json":
        try:
            return json.loads(after) == json.loads(before)
        except ValueError:
            return False
    return False


@SETTINGS
@given(damage=STORE_DAMAGE)
def test_random_store_damage_is_detected_by_every_reader(tmp_path_factory: pytest.TempPathFactory, good_run: Path,
                                                         damage: tuple) -> None:
    run = Path(shutil.copytree(good_run, tmp_path_factory.mktemp("damaged") / "run"))
    (run / ".lock").unlink(missing_ok=True)
    name, kind, at, byte = damage
    path = run / "predictions" / "xnli" / name
    before = path.read_bytes()
    _damage(path, kind, at, byte)
    assume(not _same_content(before, path))
    store = RunStore(run)
    unit = Unit("xnli", "de", "test", "adv.greedy")
    readers = {
        "report/compare": lambda: Analysis([load_run(run)], n_resamples=20, slices={}),  # loads and reads
        "results rebuild (run, import)": lambda: scores_from_store(store),
        "transfer": lambda: [s.records() for s in load_sources([run])],
    }
    if name.endswith(".meta.json") and kind == "delete":
        # a unit without meta is one not computed yet: writers recompute it, transfer has nothing to replay;
        # results.json still lists it, so the readers of results refuse the run
        readers = {"report/compare": readers["report/compare"]}
    else:
        readers["run resume"] = lambda: store.is_complete(unit, "fp-de")
    for reader, read in readers.items():
        with pytest.raises(XRobustError) as info:
            read()
        assert "\n" not in str(info.value), reader
    # the undamaged unit still reads
    tr = Unit("xnli", "tr", "test", "adv.greedy")
    assert len(store.read_verified(tr, store.unit_meta(tr))) == 30
    assert hashlib.sha256((run / "predictions/xnli/tr.test.adv.greedy.jsonl").read_bytes()).hexdigest() == \
        store.unit_meta(tr)["sha256"]
