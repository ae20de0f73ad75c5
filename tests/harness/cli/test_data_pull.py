"""``xrobust data pull``: from repositories laid out as the hub ones (built from ../shared/data rows) back to the
local layout byte for byte, with a manifest; resumable per file; nothing half-written counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli.main import main
from harness.data import provenance, pull
from harness.data.examples import load_examples
from harness.data.sources import MIRROR_ENV
from harness.spec.taskspec import resolve_task
from tests.harness.data.hubrepo import CASES, OVERRIDE_CASES, build_mirror, override_task


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    return build_mirror(tmp_path_factory.mktemp("hub-mirror"), shared_data)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch, mirror: Path, tmp_path: Path) -> list[tuple]:
    import datasets

    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    real, seen = datasets.load_dataset, []

    def spy(path: str, name: str | None = None, **kwargs: Any) -> Any:
        seen.append((path, name, kwargs.get("split")))
        return real(path, name, **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", spy)
    return seen


def _pull(out: Path, tasks: str, langs: str, splits: str, *extra: str) -> int:
    return main(["data", "pull", "--no-progress", "--tasks", tasks, "--langs", langs, "--splits", splits,
                 "--out", str(out), *extra])


@pytest.mark.parametrize(("task", "lang", "split"), list(CASES))
def test_pull_reproduces_the_local_layout_byte_for_byte(loads: list[tuple], shared_data: Path, tmp_path: Path,
                                                        task: str, lang: str, split: str) -> None:
    out = tmp_path / "pulled"
    assert _pull(out, task, lang, split) == 0
    rel = f"{task}/{lang}.{split}.jsonl"
    assert (out / rel).read_bytes() == (shared_data / rel).read_bytes()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["files"][rel]
    repo, config, hub_split, _ = CASES[(task, lang, split)]
    assert entry["sha256"] == provenance.file_sha256(out / rel) and entry["bytes"] == (out / rel).stat().st_size
    assert entry["rows"] == len((shared_data / rel).read_text(encoding="utf-8").splitlines())
    assert (entry["source"]["path"], entry["source"]["name"], entry["source"]["split"]) == (repo, config, hub_split)
    assert list(entry["source"]["files"]) == [f"{config}/{hub_split}-00000-of-00001.parquet"]
    # and --data-dir reads what was pulled
    spec = resolve_task(task)
    assert load_examples(spec, lang, split, data_dir=out) == load_examples(spec, lang, split, data_dir=shared_data)


@pytest.mark.parametrize(("task", "lang", "split"), list(OVERRIDE_CASES))
def test_pull_of_an_override_language(loads: list[tuple], shared_data: Path, tmp_path: Path, task: str, lang: str,
                                      split: str) -> None:
    out = tmp_path / "pulled"
    assert _pull(out, str(override_task(tmp_path, task)), lang, split) == 0
    rel = f"{task}/{lang}.{split}.jsonl"
    assert (out / rel).read_bytes() == (shared_data / rel).read_bytes()
    source = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"][rel]["source"]
    assert source["path"] == OVERRIDE_CASES[(task, lang, split)][0]


def test_pull_resumes_per_file_and_redoes_what_is_not_complete(loads: list[tuple], shared_data: Path,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "pulled"
    assert _pull(out, "xnli,pawsx", "de", "test") == 0
    assert len(loads) == 2
    xnli, pawsx = out / "xnli/de.test.jsonl", out / "pawsx/de.test.jsonl"
    stamps = (xnli.stat().st_mtime_ns, pawsx.stat().st_mtime_ns)
    assert _pull(out, "xnli,pawsx", "de", "test") == 0  # complete: nothing loaded, nothing rewritten
    assert len(loads) == 2 and (xnli.stat().st_mtime_ns, pawsx.stat().st_mtime_ns) == stamps
    xnli.write_bytes(xnli.read_bytes()[:1000])  # cut short (or edited): its sha256 no longer matches
    assert _pull(out, "xnli,pawsx", "de", "test") == 0
    assert [c[0].rsplit("/", 1)[-1] for c in loads[2:]] == ["xnli"]
    assert xnli.read_bytes() == (shared_data / "xnli/de.test.jsonl").read_bytes()
    assert pawsx.stat().st_mtime_ns == stamps[1]
    # another row limit is another request: that file is pulled again
    assert _pull(out, "xnli", "de", "test", "--limit", "5") == 0
    assert len(xnli.read_text(encoding="utf-8").splitlines()) == 5


def test_an_interrupted_pull_leaves_nothing_that_counts(loads: list[tuple], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "pulled"
    real = pull.local_rows

    def broken(dataset: Any, spec: Any, load: Any) -> Any:
        for i, row in enumerate(real(dataset, spec, load)):
            if i == 50 and spec.name == "pawsx":
                raise KeyboardInterrupt
            yield row

    monkeypatch.setattr(pull, "local_rows", broken)
    assert _pull(out, "xnli,pawsx", "de", "test") == 130
    files = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    assert list(files) == ["xnli/de.test.jsonl"]  # the finished file is kept …
    assert not (out / "pawsx").exists() or not list((out / "pawsx").iterdir())  # … no partial one, no temp file
    monkeypatch.setattr(pull, "local_rows", real)
    assert _pull(out, "xnli,pawsx", "de", "test") == 0
    assert [c[0].rsplit("/", 1)[-1] for c in loads[2:]] == ["paws-x"]  # only the missing file is loaded


def test_unavailable_or_unknown_languages_are_refused_before_anything_is_written(
        loads: list[tuple], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pulled"
    assert _pull(out, "udpos", "de,lt", "test") == 2
    err = capsys.readouterr().err.strip()
    assert "task udpos: no public hub source for 'lt'" in err and "\n" not in err
    assert not out.exists() and loads == []
    assert _pull(out, "udpos", "xx", "test") == 2
    assert "'--langs'" in capsys.readouterr().err
    assert main(["data", "pull", "--tasks", "lareqa", "--out", str(out)]) == 2
    assert "has no hub source" in capsys.readouterr().err
