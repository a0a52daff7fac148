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
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, check=False, env=env
    )


def build_release(root):
    """`codepref build` of the demo's secure-code pairs into `root/out` (70% train, 30% validation)."""
    config = {
        "sources": {
            "preference": [
                {
                    "name": "secure",
                    "preset": "cybernative-dpo",
                    "license": "mit",
                    "files": [f"{DEMO}/secure_code_dpo.jsonl"],
                }
            ]
        },
        "filters": {"split": {"validation_fraction": 0.3}},
    }
    (root / "build.yaml").write_text(yaml.safe_dump(config))
    done = cli("build", "--config", str(root / "build.yaml"), "--out", str(root / "out"))
    assert done.returncode == 0, done.stderr
    return root / "out"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return build_release(tmp_path_factory.mktemp("release"))


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
    args = types.SimpleNamespace(
        out=str(release), repo_id="codepref/demo", version="2.0.0", local_dir=None, dry_run=False, export=[]
    )
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
    done = cli(
        *publish_args(release, "--version", "1.0.0"), env={k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    )
    assert done.returncode == 2 and "set HF_TOKEN" in done.stderr


# --- issue 13: secrets in every published column; the funnel checked as a chain ---


@pytest.fixture(scope="module")
def full_release(hostile_repo, tmp_path_factory):
    """A build with every kind of branch: mined commits labelled by the fake LLM (fan-out into pairs and
    functions), bugged instructions, an external dataset and an efficiency-paired one, then the mix."""
    from tests.pipelines.test_build import write_build_config
    from tests.pipelines.test_label import write_config
    from tests.transforms.llm.chat_server import ChatServer

    root = tmp_path_factory.mktemp("full")
    with ChatServer() as server:
        llm = write_config(root / "llm.yaml", server.base_url, root / "cache.sqlite")
        path = write_build_config(root, llm=llm)
        config = yaml.safe_load((root / "build.yaml").read_text())
        assert path == str(root / "build.yaml")
        config["sources"]["repos"] = [hostile_repo[0]]
        (root / "build.yaml").write_text(yaml.safe_dump(config))
        done = cli("build", "--config", str(root / "build.yaml"), "--out", str(root / "out"))
    assert done.returncode == 0, done.stderr
    return root / "out"


def test_a_full_build_chains_and_publishes(full_release, tmp_path):
    manifest = json.loads((full_release / "manifest.json").read_text())
    flow = manifest["flow"]
    assert list(flow) == [s["name"] for s in manifest["stages"]]
    assert flow["tag_criteria"] == {"rows_from": ["mine_git"], "made_from": []}
    assert flow["function_pairs"] == {"rows_from": [], "made_from": ["content_near_dedup"]}  # a pair per criterion
    assert flow["syntax_filter"] == {"rows_from": [], "made_from": ["function_pairs"]}  # one or more per file
    assert flow["length_filter"] == {
        "rows_from": ["judge_pairs", "bugged_syntax_filter", "read_secure"],
        "made_from": ["efficiency_codenet"],
    }
    publish.check_release(str(full_release), manifest)
    done = cli(*publish_args(full_release, "--version", "1.0.0", "--local-dir", str(tmp_path / "hub")))
    assert done.returncode == 0, done.stderr


def plant(out, column, secret):
    """Puts a value holding `secret` in `column` of the first pair of the first train file."""
    from tests.transforms.filters.test_secrets import planted_in

    manifest = json.loads((out / "manifest.json").read_text())
    path = out / manifest["outputs"]["train"]["files"][0]
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0][column] = planted_in(column, secret)
    pq.write_table(table.from_pylist(rows, schema=table.schema), path)
    return manifest


@pytest.mark.parametrize("token", ["github", "aws", "private_key"])
@pytest.mark.parametrize("column", ["label_details", "repository", "file_path", "source", "system"])
def test_the_scan_reads_every_string_column_and_the_card_never_shows_it(release, tmp_path, column, token):
    from tests.transforms.filters.test_secrets import TOKENS

    kind, secret = TOKENS[token]
    out, _ = copy_release(release, tmp_path)
    manifest = plant(out, column, secret)
    with pytest.raises(publish.ReleaseError, match=f"{kind} in {column}") as refused:
        publish.check_release(str(out), manifest)
    assert secret not in str(refused.value) and secret.splitlines()[1 % len(secret.splitlines())] not in str(
        refused.value
    )
    hub = tmp_path / "hub"
    args = types.SimpleNamespace(
        out=str(out), repo_id="codepref/demo", version="1.0.0", local_dir=str(hub), dry_run=False, export=[]
    )
    with pytest.raises(publish.ReleaseError):
        publish.run(args, [])
    assert not hub.exists()  # no card README, no data


def test_the_card_is_scanned_before_it_is_written(release, tmp_path):
    from data_cards.card import CardSecretError, render_card
    from tests.transforms.filters.test_secrets import GITHUB

    out, _ = copy_release(release, tmp_path)
    plant(out, "source", GITHUB)  # the card's composition and licence tables name each source
    card = tmp_path / "card"
    with pytest.raises(CardSecretError, match="GitHub Token on line") as refused:
        render_card(str(out), str(card), "codepref/demo", "1.0.0")
    assert GITHUB not in str(refused.value) and not card.exists()


def tamper(out, manifest, how):
    """Alters a copied run's manifest (or its text) as `how` says; returns the message publish must give."""
    stages = {s["name"]: s for s in manifest["stages"]}
    if how == "out_is_not_next_in":  # still balances: one row moved from out to a reject reason
        stages["language_filter"]["out"] -= 1
        stages["language_filter"]["rejected"]["not_english"] = 1 + stages["language_filter"]["rejected"].get(
            "not_english", 0
        )
        expected = "secret_scan: in"
    elif how == "negative_count":
        stages["mix"]["rejected"]["source_cap"] = -1
        stages["mix"]["in"] = stages["mix"]["out"] - 1
        expected = "mix: source_cap is -1, not a count >= 0"
    elif how == "rejects_without_rows":  # a source balances whatever it claims to have read
        stages["read_secure"]["in"] += 3
        stages["read_secure"]["rejected"]["malformed_json"] = 3
        folder = next(f for f in manifest["rejects"] if f.endswith("_read_secure"))
        manifest["rejects"][folder]["rows"] = 3
        expected = "stage read_secure counts rejects {'malformed_json': 3}, but rejects/"
    elif how == "removed_stage":
        manifest["stages"] = [s for s in manifest["stages"] if s["name"] != "exact_dedup"]
        expected = "stage exact_dedup of the pipeline's graph is not in the stages (removed?)"
    elif how == "removed_stage_and_graph":  # graph and reject folders rewritten to match: the config still runs it
        manifest["stages"] = [s for s in manifest["stages"] if s["name"] != "exact_dedup"]
        del manifest["flow"]["exact_dedup"]
        manifest["flow"]["near_dedup"]["rows_from"] = ["secret_scan"]
        manifest["rejects"] = {
            f"{i:02d}_{s['name']}": {"rows": sum(s["rejected"].values()), "files": []}
            for i, s in enumerate(manifest["stages"], start=1)
        }
        near, exact = stages["near_dedup"], stages["exact_dedup"]
        near["in"] = exact["in"]  # its rejects taken over, so every count balances and chains
        near["rejected"] = {**exact["rejected"], **near["rejected"]}
        expected = "the funnel must end with the final stages its config runs"
    elif how == "fake_secret_scan":
        stages["secret_scan"].update({"in": 0, "out": 0, "rejected": {}})
        expected = "its secret_scan stage saw 0 pairs and passed 0, but the data files hold"
    elif how == "outside_file":
        manifest["outputs"]["train"]["files"] = ["../x.parquet"]
        expected = "names '../x.parquet', outside the run folder"
    elif how == "absolute_file":
        manifest["outputs"]["train"]["files"] = ["/etc/hostname"]
        expected = "names '/etc/hostname', outside the run folder"
    elif how == "not_json":
        (out / "manifest.json").write_text('{"stages": [')
        return "is not a readable JSON manifest"
    elif how == "not_an_object":
        (out / "manifest.json").write_text("[1, 2]")
        return "holds a JSON list, not a manifest object"
    (out / "manifest.json").write_text(json.dumps(manifest))
    return expected


TAMPERINGS = [
    "out_is_not_next_in",
    "negative_count",
    "rejects_without_rows",
    "removed_stage",
    "removed_stage_and_graph",
    "fake_secret_scan",
    "outside_file",
    "absolute_file",
    "not_json",
    "not_an_object",
]


@pytest.mark.parametrize("how", TAMPERINGS)
def test_a_tampered_manifest_is_refused_cleanly(full_release, tmp_path, how):
    out, manifest = copy_release(full_release, tmp_path)
    expected = tamper(out, manifest, how)
    done = cli(*publish_args(out, "--version", "1.0.0", "--local-dir", str(tmp_path / "hub")))
    assert done.returncode == 2 and "codepref publish: error: " in done.stderr, done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "hub").exists()


def test_a_run_that_writes_no_pairs_is_refused(release, tmp_path):
    out, manifest = copy_release(release, tmp_path)
    manifest["config"] = {"MineConfig": {"licenses": ["mit"]}}  # what codepref mine records
    with pytest.raises(publish.ReleaseError, match="MineConfig.* is not one that writes preference pairs"):
        publish.check_release(str(out), manifest)
