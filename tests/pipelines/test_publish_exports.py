"""`codepref publish OUT --export DIR`: a `codepref export` of the run published as another config of the repository.

One `codepref build` of the demo and one `--format trl` export of it (module fixtures) serve every test;
the refusals work on copies of the export.
"""

import filecmp
import json
import os
import shutil
import types

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import DatasetCard

from data_cards.metadata import CONFIG_TAGS, TAGS, CardConfig, card_metadata, render_header
from data_cards.stats import SplitStats, compute_stats, read_features
from pipelines import publish
from pipelines.export import export_features
from pipelines.publish_exports import export_card_config, read_exports
from tests.pipelines.test_publish import AWS, FakeApi, build_release, cli, publish_args


REPO = "codepref/demo"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A `codepref build` of the demo (out) and its `codepref export --format trl` (trl), made once."""
    root = tmp_path_factory.mktemp("exports")
    build_release(root)
    done = cli("export", str(root / "out"), "--format", "trl", "--out", str(root / "trl"))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((root / "out" / "manifest.json").read_text())
    return types.SimpleNamespace(root=root, out=root / "out", trl=root / "trl", manifest=manifest)


@pytest.fixture(scope="module")
def published(run):
    """Version 1.0.0 published with the trl export into a local folder."""
    hub = run.root / "hub"
    done = cli(*publish_args(run.out, "--export", str(run.trl), "--local-dir", str(hub), "--version", "1.0.0"))
    assert done.returncode == 0, done.stderr
    return hub


def split_rows(manifest):
    """Split → rows, for the splits that hold rows (a split without files is not in the card)."""
    return {split: info["rows"] for split, info in manifest["outputs"].items() if info["rows"]}


def export_files(trl):
    summary = json.loads((trl / "export.json").read_text())
    return [name for info in summary["splits"].values() for name in info["files"]]


# --- 1. a local release with the trl config ---


def test_the_trl_config_loads_beside_the_default_one(run, published):
    rows = split_rows(run.manifest)
    assert rows  # the demo build holds pairs
    trl = datasets.load_dataset(str(published), "trl")
    assert {split: trl[split].num_rows for split in trl} == rows
    default = datasets.load_dataset(str(published))
    assert {split: default[split].num_rows for split in default} == rows
    assert "input" in default["train"].column_names and "prompt" not in default["train"].column_names
    assert (
        trl["train"].column_names[:3] == ["prompt", "chosen", "rejected"] and "input" not in trl["train"].column_names
    )
    assert trl["train"].features["language"] == datasets.ClassLabel(names=default["train"].features["language"].names)
    for exported, pair in zip(trl["train"], default["train"], strict=True):  # same rows, same order
        assert exported["idx"] == pair["idx"]
        assert isinstance(exported["prompt"], list) and exported["prompt"][-1] == {
            "role": "user",
            "content": pair["input"],
        }
        assert all(set(message) == {"role", "content"} for message in exported["prompt"])
        assert exported["chosen"] == [{"role": "assistant", "content": pair["chosen"]}]
        assert exported["rejected"] == [{"role": "assistant", "content": pair["rejected"]}]


def test_the_card_header_lists_both_configs_with_their_info_and_tags(run, published):
    card = DatasetCard.load(str(published / "README.md"))
    data = card.data.to_dict()
    splits = [split for split, info in run.manifest["outputs"].items() if info["files"]]
    assert data["configs"] == [
        {"config_name": "default", "data_files": [{"split": s, "path": f"data/{s}-*"} for s in splits]},
        {"config_name": "trl", "data_files": [{"split": s, "path": f"trl/{s}-*"} for s in splits]},
    ]
    infos = {info["config_name"]: info for info in data["dataset_info"]}
    assert list(infos) == ["default", "trl"]
    for name, info in infos.items():
        assert {s["name"]: s["num_examples"] for s in info["splits"]} == split_rows(run.manifest), name
    assert [f["name"] for f in infos["trl"]["features"]][:3] == ["prompt", "chosen", "rejected"]
    assert [f["name"] for f in infos["default"]["features"]][:2] == ["system", "input"]
    trl_info = datasets.DatasetInfo._from_yaml_dict(infos["trl"])
    assert trl_info.features == export_features("trl")
    assert {"trl", "dpo"} <= set(data["tags"]) and set(TAGS) <= set(data["tags"])


def test_the_card_body_loads_the_trl_config(published):
    body = DatasetCard.load(str(published / "README.md")).text
    assert 'load_dataset("codepref/demo", "trl")' in body
    assert "| `default` |" in body and "| `trl` |" in body  # the config table
    assert "codepref export RUN --format trl" not in body  # no export recipe: the config is there


def test_the_manifest_and_files_name_the_config(run, published):
    release = json.loads((published / "manifest.json").read_text())["release"]
    assert release == {"repo_id": REPO, "version": "1.0.0", "configs": ["default", "trl"]}
    names = sorted(os.path.basename(name) for name in export_files(run.trl))
    assert names and sorted(os.listdir(published / "trl")) == names
    assert sorted(os.listdir(published / "versions" / "1.0.0" / "trl")) == names
    for name in names:
        assert filecmp.cmp(published / "trl" / name, run.trl / "data" / name, shallow=False)
        assert filecmp.cmp(published / "versions" / "1.0.0" / "trl" / name, run.trl / "data" / name, shallow=False)
    assert not (published / "trl" / "export.json").exists() and not (published / "trl" / "README.md").exists()


def test_dry_run_lists_the_export_files_and_writes_nothing(run, tmp_path):
    hub = tmp_path / "hub"
    done = cli(
        *publish_args(run.out, "--export", str(run.trl), "--local-dir", str(hub), "--version", "1.0.0", "--dry-run")
    )
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines()]
    assert [p for p in listed if p.startswith("trl/")] == [f"trl/{os.path.basename(n)}" for n in export_files(run.trl)]
    assert not hub.exists()


def test_an_export_reached_through_a_symlink_is_published(run, tmp_path):
    """The export's files are checked to lie in its data/ after links are resolved: a linked folder is no escape."""
    link = tmp_path / "linked-export"
    link.symlink_to(run.trl, target_is_directory=True)
    done = cli(
        *publish_args(
            run.out, "--export", str(link), "--local-dir", str(tmp_path / "hub"), "--version", "1.0.0", "--dry-run"
        )
    )
    assert done.returncode == 0, done.stderr
    assert any(line.startswith("  trl/") for line in done.stdout.splitlines())


# --- 2. a later version without the export ---


def test_a_version_without_the_export_drops_the_config_and_keeps_the_old_one(run, published, tmp_path):
    hub = tmp_path / "hub"
    shutil.copytree(published, hub)
    done = cli(*publish_args(run.out, "--local-dir", str(hub), "--version", "1.1.0"))
    assert done.returncode == 0, done.stderr
    assert not (hub / "trl").exists() and not (hub / "versions" / "1.1.0" / "trl").exists()
    assert sorted(os.listdir(hub / "versions" / "1.0.0" / "trl")) == sorted(os.listdir(published / "trl"))
    card = DatasetCard.load(str(hub / "README.md"))
    data = card.data.to_dict()
    assert [c["config_name"] for c in data["configs"]] == ["default"]
    assert [info.get("config_name", "default") for info in _as_list(data["dataset_info"])] == ["default"]
    assert "trl" not in data["tags"] and "dpo" not in data["tags"]
    assert 'load_dataset("codepref/demo", "trl")' not in card.text and "codepref export RUN --format trl" in card.text
    assert json.loads((hub / "manifest.json").read_text())["release"] == {"repo_id": REPO, "version": "1.1.0"}
    with pytest.raises(ValueError, match="trl"):
        datasets.load_dataset(str(hub), "trl")
    ds = datasets.load_dataset(str(hub))
    assert {split: ds[split].num_rows for split in ds} == split_rows(run.manifest)


def _as_list(value):
    return value if isinstance(value, list) else [value]


# --- 3. exports that are refused ---


def _copy(run, tmp_path, name="trl"):
    folder = tmp_path / name
    shutil.copytree(run.trl, folder)
    return folder


def _first_file(folder):
    return folder / export_files(folder)[0]


def break_export(run, tmp_path, how):
    """A broken copy of the export, as `how` says; returns the --export folders and the message publish must give."""
    folder = _copy(run, tmp_path)
    if how == "another_run":
        summary = json.loads((folder / "export.json").read_text())
        summary["config_id"] = "0123456789ab"
        (folder / "export.json").write_text(json.dumps(summary))
        return [folder], f"is an export of run 0123456789ab, not of this run ({run.manifest['config_id']})"
    if how == "incomplete":
        (folder / "export.json").unlink()
        return [folder], "no export.json, so it is not a complete codepref export"
    if how == "row_dropped":  # export.json still says the run's rows
        path = _first_file(folder)
        table = pq.read_table(path)
        pq.write_table(table.slice(1), path)
        split = os.path.basename(path).split("-")[0]
        rows = run.manifest["outputs"][split]["rows"]
        return [folder], f"split {split} holds {rows - 1} rows, the run's {rows}"
    if how == "two_of_one_format":
        return [run.trl, folder], "two exports of one format (trl, trl)"
    if how == "file_outside_data":  # a link out of data/ (to the run's own shard, with the other columns)
        path = _first_file(folder)
        path.unlink()
        path.symlink_to(run.out / export_files(folder)[0])
        return [folder], f"{export_files(folder)[0]} is missing (or outside data/)"
    if how == "secret_in_a_message":
        path = _first_file(folder)
        table = pq.read_table(path)
        rows = table.to_pylist()
        rows[0]["chosen"][0]["content"] = f'aws_key = "{AWS}"\n' + rows[0]["chosen"][0]["content"]
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
        assert pq.read_schema(path) == table.schema  # the schema is kept: only the scan can find it
        return [folder], "AWS Access Key in chosen"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["another_run", "incomplete", "row_dropped", "two_of_one_format", "file_outside_data", "secret_in_a_message"]
)
def test_an_export_that_is_not_this_runs_is_refused(run, tmp_path, how):
    folders, expected = break_export(run, tmp_path, how)
    hub = tmp_path / "hub"
    exports = [arg for folder in folders for arg in ("--export", str(folder))]
    done = cli(*publish_args(run.out, *exports, "--local-dir", str(hub), "--version", "1.0.0"))
    assert done.returncode == 2, done.stderr
    assert "codepref publish: error: " in done.stderr and expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and AWS not in done.stderr
    assert not hub.exists()


def test_read_exports_refuses_a_split_the_run_lacks(run, tmp_path):
    folder = _copy(run, tmp_path)
    summary = json.loads((folder / "export.json").read_text())
    summary["splits"]["test"] = {"rows": 0, "files": []}
    (folder / "export.json").write_text(json.dumps(summary))
    with pytest.raises(publish.ReleaseError, match="its split test is not the run's"):
        read_exports([str(folder)], run.manifest)
    summary["splits"].pop("test")
    summary["splits"]["train"]["files"] = [1]  # not a file name
    (folder / "export.json").write_text(json.dumps(summary))
    with pytest.raises(publish.ReleaseError, match="its split train is not the run's"):
        read_exports([str(folder)], run.manifest)


# --- 4. the Hub (faked) ---


class StaleHubApi(FakeApi):
    """A repository whose last version had a trl config with another shard layout."""

    def list_repo_files(self, repo_id, repo_type):
        return [
            *super().list_repo_files(repo_id, repo_type),
            "trl/train-00000-of-00009.parquet",
            "trl/train-00000-of-00001.parquet",
        ]


def hub_args(run, exports):
    return types.SimpleNamespace(
        out=str(run.out), repo_id=REPO, version="2.0.0", local_dir=None, dry_run=False, export=exports
    )


def test_hub_commit_adds_the_export_and_deletes_its_stale_files(run, monkeypatch):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", StaleHubApi)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    assert publish.run(hub_args(run, [str(run.trl)]), []) == 0
    calls = FakeApi.calls
    assert [call[0] for call in calls] == ["token", "create_repo", "commit", "tag"]
    operations = calls[2][1]
    added = {path for kind, path in operations if kind == "CommitOperationAdd"}
    deleted = {path for kind, path in operations if kind == "CommitOperationDelete"}
    names = {f"trl/{os.path.basename(n)}" for n in export_files(run.trl)}
    assert names and {p for p in added if p.startswith("trl/")} == names
    assert all(p.endswith(".parquet") for p in names)
    assert "trl/train-00000-of-00009.parquet" in deleted and not deleted & names
    assert "data/train-00000-of-00009.parquet" in deleted and {"README.md", "manifest.json"} <= added
    assert calls[3] == ("tag", "v2.0.0", "abc123")


def test_hub_commit_without_the_export_deletes_the_trl_config(run, monkeypatch):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", StaleHubApi)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    assert publish.run(hub_args(run, []), []) == 0
    operations = FakeApi.calls[2][1]
    assert not [path for kind, path in operations if kind == "CommitOperationAdd" and path.startswith("trl/")]
    deleted = {path for kind, path in operations if kind == "CommitOperationDelete"}
    assert {"trl/train-00000-of-00009.parquet", "trl/train-00000-of-00001.parquet"} <= deleted
    assert "README.md" not in deleted


# --- 5. the card's header ---


def test_card_metadata_gives_each_config_its_files_and_info(run):
    stats = compute_stats(str(run.out), run.manifest)
    features = read_features(str(run.out), run.manifest)
    trl = CardConfig(
        "trl",
        (
            SplitStats("train", 6, 1234, 999, ("trl/train-00000-of-00001.parquet",)),
            SplitStats("validation", 0, 0, 0, ()),  # no file: left out, like the default config's
        ),
        export_features("trl"),
    )
    card = card_metadata(stats, features, "demo", [trl])
    assert [c["config_name"] for c in card.configs] == ["default", "trl"]
    assert card.configs[1]["data_files"] == [{"split": "train", "path": "trl/train-*"}]
    assert card.tags == [*TAGS, *CONFIG_TAGS["trl"]] == [*TAGS, "trl", "dpo"]
    header = yaml.safe_load(render_header(card).strip().strip("-"))
    infos = {info["config_name"]: datasets.DatasetInfo._from_yaml_dict(info) for info in header["dataset_info"]}
    assert list(infos) == ["default", "trl"]
    assert infos["default"].features == features and infos["trl"].features == export_features("trl")
    assert {name: (s.num_examples, s.num_bytes) for name, s in infos["trl"].splits.items()} == {"train": (6, 1234)}
    assert infos["trl"].download_size == 999 and infos["trl"].dataset_size == 1234
    assert {name: s.num_examples for name, s in infos["default"].splits.items()} == split_rows(run.manifest)
    without = card_metadata(stats, features, "demo")
    assert [c["config_name"] for c in without.configs] == ["default"] and without.tags == list(TAGS)


def test_export_card_config_reads_the_real_export(run):
    (export,) = read_exports([str(run.trl)], run.manifest)
    config = export_card_config(export)
    assert config.name == "trl" and config.features == export_features("trl")
    assert {s.name: s.rows for s in config.splits} == {s: i["rows"] for s, i in run.manifest["outputs"].items()}
    for split in config.splits:
        assert split.files == tuple(f"trl/{os.path.basename(n)}" for n in export.splits[split.name])
        assert split.download_size == sum(os.path.getsize(run.trl / n) for n in export.splits[split.name])
