"""A damaged or hostile run directory is refused by every reader; one writer at a time; stale locks and
leftover temporary files are cleaned; unit names never leave the run directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.attack.transfer import load_sources
from harness.cli.main import main
from harness.errors import XRobustError
from harness.stats.runs import load_run
from harness.store.results import claim_run_dir, import_signature, write_results
from harness.store.rundir import META_CHECKSUM, MetaIndex, RunStore, Unit, meta_checksum
from tests.conftest import ROOT, shared_rows

EXTRA = {"metrics": ["accuracy"], "ranked_metric": "accuracy", "task_type": "pair_classification"}


def real_run(root: Path, name: str, langs: tuple[str, ...] = ("de", "tr"), shift: int = 0,
             extra: dict | None = None) -> Path:
    """A run directory of xnli predictions on real rows: gold labels from the sample data, predictions the
    gold label shifted on every ``3 + shift``-th example."""
    labels = ["entailment", "neutral", "contradiction"]
    store = RunStore(root / name)
    run = claim_run_dir(store, lambda old: {"name": name, "model": name, "weights_sha256": name})
    for lang in langs:
        rows = shared_rows(f"xnli/{lang}.test.jsonl", 60)
        records = [{"id": str(r["idx"]), "gold": r["gold_label"],
                    "pred": labels[(labels.index(r["gold_label"]) + (i % (3 + shift) == 0)) % 3]}
                   for i, r in enumerate(rows)]
        store.write_unit(Unit("xnli", lang, "test", "clean"), records, f"fp-{lang}", {**EXTRA, **(extra or {})})
    write_results(store, run, import_signature)
    store.release()
    return root / name


def _rewrite_meta(path: Path, **changes: object) -> None:
    """Edit a meta and give it a valid checksum again (what a hostile edit, not random damage, looks like)."""
    meta = json.loads(path.read_text(encoding="utf-8")) | changes
    meta.pop(META_CHECKSUM)
    path.write_text(json.dumps({**meta, META_CHECKSUM: meta_checksum(meta)}), encoding="utf-8")


def _pred(run: Path, lang: str = "de") -> Path:
    return run / "predictions" / "xnli" / f"{lang}.test.clean.jsonl"


def _meta(run: Path, lang: str = "de") -> Path:
    return run / "predictions" / "xnli" / f"{lang}.test.clean.meta.json"


DAMAGE = {
    "truncated": lambda run: _pred(run).write_bytes(_pred(run).read_bytes()[:len(_pred(run).read_bytes()) // 2]),
    "edited": lambda run: _pred(run).write_text(_pred(run).read_text().replace("neutral", "entailment", 1)),
    "line appended": lambda run: _pred(run).write_text(_pred(run).read_text() + _pred(run).read_text().split("\n")[0]
                                                       + "\n"),
    "deleted": lambda run: _pred(run).unlink(),
    "meta edited": lambda run: _meta(run).write_text(_meta(run).read_text().replace('"n": 60', '"n": 30')),
    "n rewritten": lambda run: _rewrite_meta(_meta(run), n=30),
    "half file, n and sha rewritten": lambda run: _half_consistent(run),
    "meta copied": lambda run: _meta(run, "tr").write_bytes(_meta(run).read_bytes()),
    "meta deleted": lambda run: _meta(run).unlink(),
}


def _half_consistent(run: Path) -> None:
    import hashlib

    half = "".join(_pred(run).read_text().splitlines(keepends=True)[:30])
    _pred(run).write_text(half)
    _rewrite_meta(_meta(run), sha256=hashlib.sha256(half.encode()).hexdigest())  # n still says 60


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_every_reader_refuses_damaged_predictions(tmp_path: Path, damage: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    run_a, run_b = real_run(tmp_path, "A"), real_run(tmp_path, "B", shift=1)
    DAMAGE[damage](run_a)
    capsys.readouterr()
    for argv in (["report", str(run_a), str(run_b), "--out", str(tmp_path / "site"), "--resamples", "50"],
                 ["compare", str(run_a), str(run_b), "--resamples", "50"]):
        assert main(argv) == 2, (damage, argv[0])
        err = capsys.readouterr().err
        assert err.startswith("xrobust: error: ") and err.count("\n") == 1 and str(run_a) in err
    if damage != "meta deleted":  # a writer recomputes a unit without meta; any other damage stops it
        with pytest.raises(XRobustError):  # rebuilding results (run, import) reads through the same check
            write_results(RunStore(run_a), {"submission": {"name": "A"}}, import_signature)
    assert not (tmp_path / "site" / "index.html").exists()


def test_a_hostile_meta_cannot_name_a_path(tmp_path: Path) -> None:
    run = real_run(tmp_path, "A")
    _rewrite_meta(_meta(run), task="../../../escaped")
    with pytest.raises(XRobustError, match="unit task"):
        load_run(run)
    for bad in (("../x", "de", "test", "clean"), ("xnli", "/etc", "test", "clean"), ("xnli", "de", "..", "clean"),
                ("xnli", "de", "test", "typos/../../x")):
        with pytest.raises(XRobustError, match="cannot be used in a file name"):
            Unit(*bad)


def test_damaged_transfer_source_is_refused(tmp_path: Path) -> None:
    run = real_run(tmp_path, "A", extra={"attack": {"search": "greedy"}})
    assert len(load_sources([run])) == 2
    sources = load_sources([run])
    assert len(sources[0].records()) == 60
    DAMAGE["truncated"](run)
    with pytest.raises(XRobustError, match="checksum"):
        load_sources([run])
    with pytest.raises(XRobustError):
        sources[0].records()


def test_compare_fails_on_missing_dirs_and_on_runs_with_nothing_in_common(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    run_a, run_c = real_run(tmp_path, "A", langs=("de",)), real_run(tmp_path, "C", langs=("tr",))
    for argv, words in ((["compare", str(tmp_path / "nope"), str(run_a)], "run directory not found"),
                        (["compare", str(run_a), str(run_c), "--resamples", "50"], "nothing to compare")):
        capsys.readouterr()
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("xrobust: error: ") and words in err and err.count("\n") == 1


# -- one writer per run directory ----------------------------------------------------------------------------

HOLD = """
import sys, time
sys.path.insert(0, {root!r})
from harness.store.rundir import RunStore
store = RunStore({out!r}); store.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def _holder(out: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD.format(root=str(ROOT), out=str(out))],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_excludes_other_writers_and_a_killed_owner_leaves_a_stale_lock(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _holder(out)
    try:
        with pytest.raises(XRobustError) as info:
            claim_run_dir(RunStore(out), lambda old: {"name": "x"})
        assert f"pid {proc.pid}" in str(info.value) and "field 'lock'" in str(info.value)
        assert not (out / "run.json").exists()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # the owner died without giving the lock back; its unfinished temporary files are left too
    assert json.loads((out / ".lock").read_text())["pid"] == proc.pid
    (out / "predictions" / "xnli").mkdir(parents=True)
    leftovers = [out / ".run.json.abc.tmp", out / "predictions" / "xnli" / ".de.test.clean.jsonl.x1.tmp"]
    for path in leftovers:
        path.write_text("partial")
    store = RunStore(out)
    claim_run_dir(store, lambda old: {"name": "x"})
    assert not any(p.exists() for p in leftovers)
    assert json.loads((out / ".lock").read_text())["pid"] == os.getpid()
    store.release()
    assert (out / ".lock").read_text() == ""  # given back: an empty lock file is not stale


def test_writer_rechecks_ownership_before_each_unit(tmp_path: Path) -> None:
    out = tmp_path / "run"
    store = RunStore(out)
    claim_run_dir(store, lambda old: {"name": "A", "model": "A", "weights_sha256": "aaa"})
    unit = Unit("xnli", "de", "test", "clean")
    store.write_unit(unit, [{"id": "0", "gold": "neutral", "pred": "neutral"}], "fp", EXTRA)
    run = json.loads((out / "run.json").read_text())
    run["submission"]["weights_sha256"] = "bbb"  # another writer claimed the directory meanwhile
    (out / "run.json").write_text(json.dumps(run))
    with pytest.raises(XRobustError, match="weights_sha256"):
        store.write_unit(Unit("xnli", "tr", "test", "clean"), [], "fp", EXTRA)
    run["submission"]["weights_sha256"] = "aaa"
    (out / "run.json").write_text(json.dumps(run))
    (out / ".lock").unlink()  # the lock file removed and taken by someone else
    proc = _holder(out)
    try:
        with pytest.raises(XRobustError, match="no longer holds"):
            store.write_unit(Unit("xnli", "tr", "test", "clean"), [], "fp", EXTRA)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "predictions" / "xnli" / "tr.test.clean.meta.json").exists()
    store.release()


def test_seed_of_a_run_dir_with_units_cannot_change(tmp_path: Path) -> None:
    out = tmp_path / "run"
    store = RunStore(out)
    claim_run_dir(store, lambda old: {"name": "A", "seed": 0})
    store.write_unit(Unit("xnli", "de", "test", "clean"), [], "fp", EXTRA)
    with pytest.raises(XRobustError, match="seed"):
        claim_run_dir(store, lambda old: {"name": "A", "seed": 1})


def _cli(model: Path, out: Path, data: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--no-progress", "--tasks", "xnli",
                             "--model", str(model), "--langs", "de,tr", "--data-dir", str(data), "--limit", "24",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_two_runs_of_different_models_into_one_dir(tmp_path: Path, shared_data: Path, tiny_tokenizer_dir: Path,
                                                   tiny_xnli_model: Path) -> None:
    from tests.conftest import make_tiny_model

    labels = ["entailment", "neutral", "contradiction"]
    other = make_tiny_model(tmp_path / "B", tiny_tokenizer_dir, "AutoModelForSequenceClassification", seed=7,
                            id2label=dict(enumerate(labels)), label2id={v: k for k, v in enumerate(labels)})
    out = tmp_path / "run"
    first = _cli(tiny_xnli_model, out, shared_data)
    deadline = time.monotonic() + 120
    while not (out / "run.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = _cli(other, out, shared_data)
    results = [(p.wait(timeout=300), p.stderr.read()) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    err = next(text for code, text in results if code == 2)
    assert err.startswith("xrobust: error: ") and err.count("\n") == 1
    run = json.loads((out / "run.json").read_text())
    signed = json.loads((out / "results.json").read_text())
    winner = tiny_xnli_model if results[0][0] == 0 else other
    assert run["submission"]["model"] == str(winner) and signed["submission"] == run["submission"]
    assert signed["signature"] == run["signature"] and f"#{run['submission']['weights_sha256']}" in run["signature"]
    assert len(signed["units"]) == 2


@pytest.mark.parametrize("name", ["run.json", "results.json", "predictions/xnli/de.test.clean.meta.json",
                                  "predictions/xnli/de.test.clean.jsonl"])
def test_a_cut_or_non_utf8_stored_file_is_named_with_its_line(tmp_path: Path, name: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    run_a, run_b = real_run(tmp_path, "A"), real_run(tmp_path, "B", shift=1)
    path = run_a / name
    lines = path.read_bytes().split(b"\n")
    for damage, words in ((lambda: b"\n".join(lines[:3]) + b"\n" + lines[3][:5], "not valid JSON"),
                          (lambda: b"\n".join(lines[:3] + [b"\xff" + lines[3]] + lines[4:]), "not UTF-8")):
        path.write_bytes(damage())
        capsys.readouterr()
        assert main(["compare", str(run_a), str(run_b), "--resamples", "50"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        if name.endswith(".jsonl"):  # a predictions file is checked against its sha256 before it is parsed
            assert err.startswith(f"xrobust: error: {path}: field 'sha256': "), err
        else:
            assert err.startswith(f"xrobust: error: {path}:4: ") and words in err and " at line" not in err, err


@pytest.mark.parametrize("draws", ["per-test", "shared"])
@pytest.mark.parametrize("damage", [d for d in DAMAGE if d != "meta deleted"])
def test_damage_after_a_cached_report_is_refused_too(tmp_path: Path, damage: str, draws: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The cache's indexes of metas and stamps (and its cached numbers) never vouch for a file that changed
    after they were written."""
    run_a, run_b = real_run(tmp_path, "A"), real_run(tmp_path, "B", shift=1)
    argv = ["report", str(run_a), str(run_b), "--out", str(tmp_path / "site"), "--resamples", "50",
            "--draws", draws]
    assert main(argv) == 0
    assert (tmp_path / "site" / ".cache" / "metas").is_dir()
    assert (tmp_path / "site" / ".cache" / "digests" / "stamps" / "index.json").is_file()
    (tmp_path / "site" / "index.html").unlink()
    DAMAGE[damage](run_a)
    capsys.readouterr()
    assert main(argv) == 2, damage
    err = capsys.readouterr().err
    assert err.startswith("xrobust: error: ") and err.count("\n") == 1 and str(run_a) in err
    assert not (tmp_path / "site" / "index.html").exists()


@pytest.mark.parametrize("where", ["xnli/fr.test.clean.meta.json", "pawsx/de.test.clean.meta.json"])
def test_a_meta_copied_to_another_units_place_is_refused(tmp_path: Path, where: str) -> None:
    """A unit's meta under another unit's name or task folder (copied or renamed) is refused when the run is
    listed, naming that file, with an index of the run's metas or without."""
    run = real_run(tmp_path, "A", langs=("de",))
    copy = run / "predictions" / where
    copy.parent.mkdir(exist_ok=True)
    copy.write_bytes(_meta(run).read_bytes())
    for index in (None, MetaIndex(tmp_path / "metas"), MetaIndex(tmp_path / "metas")):
        with pytest.raises(XRobustError, match="copied or renamed") as err:
            load_run(run, index)
        assert err.value.file == str(copy) and err.value.field == "task"
