"""The checkpoint fingerprint covers config and tokenizer files; a checkpoint's own code runs only with
--trust-remote-code (never by answering a prompt) and is recorded; a missing local model is named as such."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.errors import XRobustError
from harness.models.loading import weights_fingerprint


def _run(model: Path, data: Path, out: Path, *extra: str) -> int:
    return main(["run", "--no-progress", "--tasks", "xnli", "--model", str(model), "--langs", "de", "--data-dir",
                 str(data), "--limit", "16", "--out", str(out), *extra])


def _reorder_labels(model: Path) -> None:
    config = json.loads((model / "config.json").read_text())
    names = [config["id2label"][str(i)] for i in range(3)]
    names = names[1:] + names[:1]
    config["id2label"] = dict(enumerate(names))
    config["label2id"] = {n: i for i, n in enumerate(names)}
    (model / "config.json").write_text(json.dumps(config, indent=1))


def test_fingerprint_covers_config_and_tokenizer_not_docs(tmp_path: Path, tiny_xnli_model: Path) -> None:
    model = Path(shutil.copytree(tiny_xnli_model, tmp_path / "m"))
    base = weights_fingerprint(str(model))
    (model / "README.md").write_text("# a model card\n")
    assert weights_fingerprint(str(model)) == base
    _reorder_labels(model)
    relabelled = weights_fingerprint(str(model))
    assert relabelled != base
    tokenizer = json.loads((model / "tokenizer.json").read_text())
    tokenizer["normalizer"] = None
    (model / "tokenizer.json").write_text(json.dumps(tokenizer))
    assert weights_fingerprint(str(model)) not in (base, relabelled)


def test_reordered_id2label_never_reuses_stored_predictions(tmp_path: Path, shared_data: Path,
                                                            tiny_xnli_model: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    model = Path(shutil.copytree(tiny_xnli_model, tmp_path / "m"))
    out = tmp_path / "run"
    assert _run(model, shared_data, out) == 0
    before = (out / "predictions/xnli/de.test.clean.jsonl").read_bytes()
    signed = json.loads((out / "results.json").read_text())["signature"]
    _reorder_labels(model)
    capsys.readouterr()
    assert _run(model, shared_data, out) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"xrobust: error: {out / 'run.json'}: field 'submission.model'") and err.count("\n") == 1
    assert (out / "predictions/xnli/de.test.clean.jsonl").read_bytes() == before  # left as it was
    assert json.loads((out / "results.json").read_text())["signature"] == signed
    fresh = tmp_path / "fresh"
    assert _run(model, shared_data, fresh) == 0
    old = [json.loads(x)["pred"] for x in before.decode().splitlines()]
    new = [json.loads(x)["pred"] for x in (fresh / "predictions/xnli/de.test.clean.jsonl").read_text().splitlines()]
    assert old != new and json.loads((fresh / "results.json").read_text())["signature"] != signed


@pytest.mark.parametrize("ref", ["./no/such/model", "/no/such/model", "models/xnli/checkpoint-3/"])
def test_missing_local_model_is_a_missing_directory(ref: str, capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path, shared_data: Path) -> None:
    with pytest.raises(XRobustError, match="model directory not found"):
        weights_fingerprint(ref)
    assert _run(Path(ref), shared_data, tmp_path / "run") == 2
    err = capsys.readouterr().err
    assert err == f"xrobust: error: {Path(ref)}: field '--model': model directory not found (a hub id is owner/name)\n"
    assert not (tmp_path / "run" / "predictions").exists()


def _remote_code_model(tmp_path: Path, tiny_xnli_model: Path, marker: Path) -> Path:
    """The tiny checkpoint as a model type transformers does not know, with its own code (``auto_map``) that
    leaves ``marker`` when it runs."""
    model = Path(shutil.copytree(tiny_xnli_model, tmp_path / "remote"))
    (model / "configuration_remote.py").write_text(
        "from pathlib import Path\nfrom transformers import BertConfig\n"
        f"Path({str(marker)!r}).write_text('ran')\n"
        "class RemoteConfig(BertConfig):\n    model_type = 'xrobust-remote-bert'\n")
    (model / "modeling_remote.py").write_text(
        "from transformers import BertForSequenceClassification\nfrom .configuration_remote import RemoteConfig\n"
        "class RemoteModel(BertForSequenceClassification):\n    config_class = RemoteConfig\n")
    config = json.loads((model / "config.json").read_text())
    config["model_type"] = "xrobust-remote-bert"
    config["auto_map"] = {"AutoConfig": "configuration_remote.RemoteConfig",
                          "AutoModelForSequenceClassification": "modeling_remote.RemoteModel"}
    (model / "config.json").write_text(json.dumps(config, indent=1))
    return model


def test_remote_code_runs_only_with_the_flag_and_is_signed(tmp_path: Path, shared_data: Path,
                                                           tiny_xnli_model: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "remote-code-ran"
    model = _remote_code_model(tmp_path, tiny_xnli_model, marker)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n" * 20))  # `yes y | xrobust run …` answers nothing now
    assert _run(model, shared_data, tmp_path / "refused") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"xrobust: error: {model / 'config.json'}: field 'auto_map': ") and err.count("\n") == 1
    assert "--trust-remote-code" in err and not marker.exists()
    out = tmp_path / "trusted"
    assert _run(model, shared_data, out, "--trust-remote-code") == 0
    assert marker.exists()
    results = json.loads((out / "results.json").read_text())
    meta = json.loads((out / "predictions/xnli/de.test.clean.meta.json").read_text())
    assert "|remote-code:yes|" in results["signature"] and meta["inference"]["remote_code"] is True
    plain = tmp_path / "plain"
    assert _run(tiny_xnli_model, shared_data, plain) == 0
    plain_meta = json.loads((plain / "predictions/xnli/de.test.clean.meta.json").read_text())
    assert "remote-code" not in json.loads((plain / "results.json").read_text())["signature"]
    assert "remote_code" not in plain_meta["inference"]


@pytest.mark.parametrize(("file", "damage"), [("config.json", lambda t: t[:-30]), ("tokenizer.json", lambda t: t[:-50])])
def test_unloadable_checkpoint_files_name_the_model(tmp_path: Path, shared_data: Path, tiny_xnli_model: Path,
                                                    file: str, damage: Callable[[str], str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    model = Path(shutil.copytree(tiny_xnli_model, tmp_path / "m"))
    (model / file).write_text(damage((model / file).read_text()))
    capsys.readouterr()
    assert _run(model, shared_data, tmp_path / "run") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"xrobust: error: {model}: field '--model': cannot load ") and err.count("\n") == 1, err
    assert not (tmp_path / "run" / "predictions").exists()
