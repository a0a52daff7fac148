"""`codepref publish` on a real `codepref build` output: local versions, the Hub (faked), refusals."""

import json
import os
import shutil
import subprocess
import sys
import types

import datasets
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import DatasetCard

from pipelines import publish
from schemas.labels import ASPECTS, LANGUAGES


DEMO = os.path.abspath("pipelines/demo")
AWS = "AKIAZ7Q3RTYUWERT5XKQ"


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, check=False,
                          env=env)  # fmt: skip


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    config = {
        "sources": {"preference": [{"name": "secure", "preset": "cybernative-dpo", "license": "mit",
                                    "files": [f"{DEMO}/secure_code_dpo.jsonl"]}]},
        "filters": {"split": {"validation_fraction": 0.3}},
    }  # fmt: skip
    (root / "build.yaml").write_text(yaml.safe_dump(config))
    done = cli("build", "--config", str(root / "build.yaml"), "--out", str(root / "out"))
    assert done.returncode == 0, done.stderr
    return root / "out"


def publish_args(out, *extra):
    return ["publish", str(out), "--repo-id", "codepref/demo", *extra]


def test_local_versions_load_with_labels_and_counts(release, tmp_path):
    hub = tmp_path / "hub"
    done = cli(*publish_args(release, "--version", "1.0.0", "--local-dir", str(hub)))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((release / "manifest.json").read_text())
    ds = datasets.load_dataset(str(hub))
    assert {s: ds[s].num_rows for s in ds} == {s: v["rows"] for s, v in manifest["outputs"].items() if v["rows"]}
    assert ds["train"].features["language"].names == list(LANGUAGES)
    assert ds["train"].features["aspect"].names == list(ASPECTS)
    card = DatasetCard.load(str(hub / "README.md"))
    assert card.data.to_dict()["configs"][0]["config_name"] == "default"
    published = json.loads((hub / "manifest.json").read_text())
    assert published["release"] == {"repo_id": "codepref/demo", "version": "1.0.0"}
    assert "base_url" not in json.dumps(published)
    done = cli(*publish_args(release, "--version", "1.1.0", "--local-dir", str(hub)))
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(hub / "versions")) == ["1.0.0", "1.1.0"]
    assert "1.0.0" in (hub / "README.md").read_text() and (hub / "versions" / "1.0.0" / "README.md").exists()
    again = cli(*publish_args(release, "--version", "1.1.0", "--local-dir", str(hub)))
    assert again.returncode == 2 and "already in" in again.stderr


def test_dry_run_lists_the_files_and_writes_nothing(release, tmp_path):
    done = cli(*publish_args(release, "--version", "1.0.0", "--local-dir", str(tmp_path / "hub"), "--dry-run"))
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines()]
    assert "README.md" in listed and "manifest.json" in listed and any(p.startswith("data/train-") for p in listed)
    assert any(p.startswith("images/") and p.endswith(".png") for p in listed)
    assert not (tmp_path / "hub").exists()


def copy_release(release, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(release, out)
    return out, json.loads((out / "manifest.json").read_text())


def test_refuses_a_manifest_that_does_not_balance(release, tmp_path):
    out, manifest = copy_release(release, tmp_path)
    manifest["stages"][-1]["out"] += 1
    (out / "manifest.json").write_text(json.dumps(manifest))
    done = cli(*publish_args(out, "--version", "1.0.0", "--local-dir", str(tmp_path / "hub")))
    assert done.returncode == 2 and "does not balance" in done.stderr and not (tmp_path / "hub").exists()


def test_refuses_a_release_holding_a_secret_or_without_a_scan(release, tmp_path):
    out, manifest = copy_release(release, tmp_path)
    path = out / manifest["outputs"]["train"]["files"][0]
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["chosen"] = f'aws_key = "{AWS}"\n' + rows[0]["chosen"]
    pq.write_table(table.from_pylist(rows, schema=table.schema), path)
    done = cli(*publish_args(out, "--version", "1.0.0", "--local-dir", str(tmp_path / "hub")))
    assert done.returncode == 2 and "AWS Access Key in chosen" in done.stderr and AWS not in done.stderr
    manifest["stages"] = [s for s in manifest["stages"] if s["name"] != "secret_scan"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    done = cli(*publish_args(out, "--version", "1.0.0", "--local-dir", str(tmp_path / "hub")))
    assert done.returncode == 2 and "no secret scan ran" in done.stderr


class FakeApi:
    """Records what publish asks of the Hub."""

    calls: list = []

    def __init__(self, token):
        FakeApi.calls = [("token", token)]

    def hf_hub_download(self, repo_id, filename, repo_type):
        from huggingface_hub.utils import EntryNotFoundError

        raise EntryNotFoundError("no manifest yet")

    def create_repo(self, repo_id, repo_type, exist_ok):
        FakeApi.calls.append(("create_repo", repo_id, repo_type, exist_ok))

    def list_repo_files(self, repo_id, repo_type):
        return ["README.md", "data/train-00000-of-00009.parquet", "data/train-00000-of-00001.parquet"]

    def create_commit(self, repo_id, operations, commit_message, repo_type):
        FakeApi.calls.append(("commit", sorted((type(op).__name__, op.path_in_repo) for op in operations)))
        return types.SimpleNamespace(oid="abc123", commit_url="https://hub/commit/abc123")

    def create_tag(self, repo_id, tag, repo_type, revision):
        FakeApi.calls.append(("tag", tag, revision))


def test_hub_release_is_one_commit_and_a_tag(release, monkeypatch):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    args = types.SimpleNamespace(out=str(release), repo_id="codepref/demo", version="2.0.0", local_dir=None,
                                 dry_run=False)  # fmt: skip
    assert publish.run(args, []) == 0
    calls = FakeApi.calls
    assert calls[0] == ("token", "hf_test_token") and calls[1] == ("create_repo", "codepref/demo", "dataset", True)
    (kind, operations), tag = calls[2], calls[3]
    assert kind == "commit" and tag == ("tag", "v2.0.0", "abc123")
    assert ("CommitOperationDelete", "data/train-00000-of-00009.parquet") in operations
    assert ("CommitOperationAdd", "data/train-00000-of-00001.parquet") in operations
    assert ("CommitOperationAdd", "README.md") in operations and len(calls) == 4


def test_the_hub_needs_a_token(release, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    done = cli(*publish_args(release, "--version", "1.0.0"), env={k: v for k, v in os.environ.items()
                                                                   if k != "HF_TOKEN"})  # fmt: skip
    assert done.returncode == 2 and "set HF_TOKEN" in done.stderr
