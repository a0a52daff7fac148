"""Re-runs into the same output folder, and runners that need a shared --temp_location."""

import glob
import json
import os

import datasets
import pyarrow.parquet as pq
import pytest

from pipelines import cli, mine, runs
from transforms.sinks import estimate_bytes


def _own_files(out):
    """Every file under `data/` and `rejects/` named like a shard, relative to `out`."""
    found = glob.glob(os.path.join(out, "data", "*-of-*.parquet")) + glob.glob(
        os.path.join(out, "rejects", "*", "*-of-*.parquet")
    )
    return sorted(os.path.relpath(f, out) for f in found)


def _listed(manifest):
    groups = list(manifest["outputs"].values()) + list(manifest["rejects"].values())
    return sorted(f for info in groups for f in info["files"])


def _rows(files):
    return sorted(json.dumps(r, sort_keys=True, default=str) for f in files for r in pq.read_table(f).to_pylist())


@pytest.mark.parametrize("clears_first", [True, False], ids=["local", "object_store"])
def test_reruns_with_more_then_fewer_shards_leave_only_the_manifests_files(
    clears_first, hostile_repo, tmp_path, monkeypatch
):
    if not clears_first:  # as on gs://, where nothing is cleared before the run
        monkeypatch.setattr(runs, "prepare_output", lambda out: None)
    target = {"bytes": 1 << 40}
    mine_config_from_args = mine.mine_config_from_args
    monkeypatch.setattr(
        mine,
        "mine_config_from_args",
        lambda args: mine_config_from_args(args).model_copy(update={"target_shard_bytes": target["bytes"]}),
    )
    out = str(tmp_path / "out")

    def run(shard_bytes):
        target["bytes"] = shard_bytes
        assert cli.main(["mine", "--repo", hostile_repo[0], "--out", out, "--batch-size", "5"]) == 0
        with open(os.path.join(out, "manifest.json")) as f:
            return json.load(f)

    first = run(1 << 40)
    first_rows = _rows(glob.glob(os.path.join(out, "data", "*.parquet")))
    total = sum(estimate_bytes(json.loads(r)) for r in first_rows)
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    with open(os.path.join(out, "data", "notes.txt"), "w") as f:
        f.write("the user's own file")
    more = run(total // 6 + 1)
    assert len(more["outputs"]["train"]["files"]) > len(first["outputs"]["train"]["files"])
    assert _own_files(out) == _listed(more)
    fewer = run(total // 2 + 1)
    assert 1 < len(fewer["outputs"]["train"]["files"]) < len(more["outputs"]["train"]["files"])
    assert _own_files(out) == _listed(fewer)
    assert sorted(os.listdir(os.path.join(out, "data"))) == sorted(
        ["notes.txt"] + [os.path.basename(f) for f in fewer["outputs"]["train"]["files"]]
    )
    with open(os.path.join(out, "data", "notes.txt")) as f:
        assert f.read() == "the user's own file"
    assert _rows(glob.glob(os.path.join(out, "data", "*.parquet"))) == first_rows
    ds = datasets.load_dataset(
        "parquet", data_files=os.path.join(out, "data", "*.parquet"), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert ds.num_rows == fewer["outputs"]["train"]["rows"] == len(first_rows)


@pytest.mark.parametrize(
    "argv",
    [
        ["--runner", "PortableRunner"],
        ["--runner", "DataflowRunner", "--project", "p", "--region", "r"],
        ["--runner", "FlinkRunner", "--environment_type", "EXTERNAL"],
    ],
)
def test_a_runner_whose_workers_share_no_disk_needs_temp_location(argv, hostile_repo, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["mine", "--repo", hostile_repo[0], "--out", str(out), *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "codepref mine: error: --runner" in err and "pass --temp_location gs://BUCKET/tmp" in err
    assert not out.exists()  # stopped before touching the output


def test_every_pipeline_checks_the_runner_first(tmp_path, capsys):
    for argv in (
        ["filter", "--input", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "f")],
        ["dedup", "--input", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "d")],
        ["label", "--repo", str(tmp_path), "--llm-config", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "l")],
        ["build", "--config", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "b")],
        ["mutate", "--instructions", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "m")],
    ):
        with pytest.raises(SystemExit) as exit_:
            cli.main([*argv, "--runner", "PortableRunner"])
        assert exit_.value.code == 2, argv
        assert "pass --temp_location gs://BUCKET/tmp" in capsys.readouterr().err, argv
