import glob
import os
import pathlib
from unittest.mock import patch

import apache_beam as beam
import datasets
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that

from schemas.arrow import REJECT_SCHEMA, pair_schema
from schemas.records import PreferencePair, RejectRecord
from transforms import spill
from transforms.sinks import WriteParquetShards, estimate_bytes, remove_stale_shards, shard_name, write_shard


def key(row):
    return row["record_id"]


def rejects(n):
    return [RejectRecord.make("s", "r", f"id{i:04d}", "x" * 50, {"i": i}).to_row() for i in range(n)]


def run_sink(rows, directory, target):
    with TestPipeline() as p:
        _ = p | beam.Create(rows) | WriteParquetShards(str(directory), "train", REJECT_SCHEMA, key, target)
    return sorted(glob.glob(os.path.join(directory, "*.parquet")))


def test_shard_name_is_the_hugging_face_pattern():
    assert shard_name("train", 3, 12) == "train-00003-of-00012.parquet"


def test_write_shard_bounds_row_groups(tmp_path):
    path = str(tmp_path / "x.parquet")
    assert write_shard(path, iter(rejects(2500)), REJECT_SCHEMA, row_group_rows=1000) == 2500
    meta = pq.read_metadata(path)
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1000, 1000, 500]
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_shards_are_deterministic_complete_and_sized(tmp_path):
    rows = rejects(300)
    total = sum(estimate_bytes(r) for r in rows)
    first = run_sink(rows, tmp_path / "a", target=total // 4 + 1)
    second = run_sink(list(reversed(rows)), tmp_path / "b", target=total // 4 + 1)
    assert [os.path.basename(f) for f in first] == [f"train-0000{i}-of-00004.parquet" for i in range(4)]
    for a, b in zip(first, second, strict=True):
        with open(a, "rb") as fa, open(b, "rb") as fb:
            assert fa.read() == fb.read()
    ids = [r for f in first for r in pq.read_table(f).column("record_id").to_pylist()]
    assert sorted(ids) == sorted(r["record_id"] for r in rows)
    for f in first:
        shard_ids = pq.read_table(f).column("record_id").to_pylist()
        assert shard_ids == sorted(shard_ids) and shard_ids


def test_empty_input_writes_no_file(tmp_path):
    assert run_sink([], tmp_path / "e", target=1000) == []


def test_an_empty_shard_has_no_row_group_and_loads(tmp_path):
    path = str(tmp_path / "train-00001-of-00002.parquet")
    assert write_shard(path, iter([]), REJECT_SCHEMA) == 0
    assert pq.read_metadata(path).num_row_groups == 0 and pq.read_schema(path).names == REJECT_SCHEMA.names
    write_shard(str(tmp_path / "train-00000-of-00002.parquet"), iter(rejects(3)), REJECT_SCHEMA)
    assert datasets.load_dataset("parquet", data_dir=str(tmp_path))["train"].num_rows == 3


def test_pair_shards_load_with_class_labels(tmp_path):
    pairs = [
        PreferencePair(
            input=f"q{i}", chosen="a", rejected="b", language="Go", aspect="Security Hardness", source="t", idx=f"i{i}"
        ).to_row()
        for i in range(5)
    ]
    with TestPipeline() as p:
        _ = p | beam.Create(pairs) | WriteParquetShards(str(tmp_path), "train", pair_schema(), lambda r: r["idx"])
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "*.parquet"), split="train")
    assert ds.features["language"].names[ds[0]["language"]] == "Go"
    assert ds.features["aspect"].int2str(ds[0]["aspect"]) == "Security Hardness"
    assert ds.num_rows == 5


def test_spill_files_are_removed_and_runs_split_anywhere_give_the_same_shards(tmp_path):
    rows = rejects(400)
    total = sum(estimate_bytes(r) for r in rows)
    options = PipelineOptions(temp_location=str(tmp_path / "tmp"))
    with TestPipeline(options=options) as p:
        _ = p | beam.Create(rows) | WriteParquetShards(str(tmp_path / "a"), "train", REJECT_SCHEMA, key, total // 3)
    assert os.listdir(tmp_path / "tmp") == []
    sink = WriteParquetShards(str(tmp_path / "b"), "train", REJECT_SCHEMA, key, total // 3)
    with patch.object(spill._SpillFn, "__init__", _tiny_runs), TestPipeline() as p:
        _ = p | beam.Create(rows) | sink
    for a, b in zip(
        sorted(glob.glob(str(tmp_path / "a" / "*"))), sorted(glob.glob(str(tmp_path / "b" / "*"))), strict=True
    ):
        with open(a, "rb") as fa, open(b, "rb") as fb:
            assert fa.read() == fb.read()


def _tiny_runs(self, directory, run_bytes):
    self._directory, self._run_bytes = directory, 500  # a run every few rows


FINAL_GLOBS = ("*.parquet", "*-of-*.parquet")


def _final_files(directory):
    return sorted({f for pattern in FINAL_GLOBS for f in glob.glob(os.path.join(directory, pattern))})


def _failing_rows(n):
    """Rows that raise after `n`, once the first row group (1,000 rows) reached the file."""
    yield from rejects(n)
    raise RuntimeError("worker lost mid-shard")


def test_a_write_that_fails_mid_shard_leaves_no_file_under_the_final_name(tmp_path):
    path = str(tmp_path / "train-00000-of-00001.parquet")
    try:
        write_shard(path, _failing_rows(1500), REJECT_SCHEMA, row_group_rows=1000)
    except RuntimeError as exc:
        assert "mid-shard" in str(exc)
    else:
        raise AssertionError("the failure did not reach the caller")
    assert _final_files(tmp_path) == []
    assert os.listdir(tmp_path) == []  # the attempt's temporary file went with it


_KILLED_WRITER = """
import os, signal, sys
from schemas.arrow import REJECT_SCHEMA
from schemas.records import RejectRecord
from transforms.sinks import write_shard

def rows():
    for i in range(1500):
        yield RejectRecord.make("s", "r", f"id{i:04d}", "x" * 50, {"i": i}).to_row()
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)

write_shard(sys.argv[1], rows(), REJECT_SCHEMA, row_group_rows=1000)
"""


def test_a_killed_writer_leaves_only_a_temporary_file_that_the_next_run_removes(tmp_path):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = str(tmp_path / "train-00000-of-00001.parquet")
    done = subprocess.run([sys.executable, "-c", _KILLED_WRITER, path], cwd=root, capture_output=True, timeout=300)
    assert done.returncode == -9, done.stderr
    assert _final_files(tmp_path) == []
    leftovers = os.listdir(tmp_path)
    assert len(leftovers) == 1 and leftovers[0].startswith(".tmp-train-00000-of-00001")
    assert os.path.getsize(tmp_path / leftovers[0]) > 0  # bytes were written before the kill
    assert remove_stale_shards(str(tmp_path), "train", keep=()) == [str(tmp_path / leftovers[0])]
    assert os.listdir(tmp_path) == []


def test_a_second_attempt_replaces_the_file_cleanly(tmp_path):
    path = str(tmp_path / "train-00000-of-00001.parquet")
    with open(path, "wb") as f:
        f.write(b"a previous run's shard")
    assert write_shard(path, iter(rejects(10)), REJECT_SCHEMA) == 10
    first = (tmp_path / "train-00000-of-00001.parquet").read_bytes()
    assert write_shard(path, iter(rejects(10)), REJECT_SCHEMA) == 10  # a retried bundle
    assert (tmp_path / "train-00000-of-00001.parquet").read_bytes() == first and pq.read_table(path).num_rows == 10
    assert os.listdir(tmp_path) == ["train-00000-of-00001.parquet"]


def test_a_rename_that_refuses_an_existing_target_deletes_it_first(tmp_path):
    from apache_beam.io.filesystem import BeamIOError
    from apache_beam.io.filesystems import FileSystems

    real_rename = FileSystems.rename

    def hdfs_like_rename(sources, destinations):
        if any(os.path.exists(d) for d in destinations):
            raise BeamIOError("Rename operation failed", {(sources[0], destinations[0]): OSError("exists")})
        real_rename(sources, destinations)

    path = str(tmp_path / "train-00000-of-00001.parquet")
    write_shard(path, iter(rejects(3)), REJECT_SCHEMA)
    with patch.object(FileSystems, "rename", staticmethod(hdfs_like_rename)):
        assert write_shard(path, iter(rejects(5)), REJECT_SCHEMA) == 5
    assert pq.read_table(path).num_rows == 5 and os.listdir(tmp_path) == ["train-00000-of-00001.parquet"]


def test_stale_shards_of_the_split_go_and_nothing_else(tmp_path):
    names = [
        "train-00000-of-00004.parquet",
        "train-00003-of-00004.parquet",
        "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet",
        "validation-00000-of-00001.parquet",  # another split
        "train-extra-00000-of-00001.parquet",  # another split whose name starts like this one
        "train.parquet",  # not the shard template
        "notes.txt",
        ".tmp-train-00001-of-00004.0123456789abcdef0123456789abcdef.partial",  # a killed attempt
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    keep = [str(tmp_path / "train-00000-of-00002.parquet"), str(tmp_path / "train-00001-of-00002.parquet")]
    removed = remove_stale_shards(str(tmp_path), "train", keep)
    assert [os.path.basename(p) for p in removed] == [
        ".tmp-train-00001-of-00004.0123456789abcdef0123456789abcdef.partial",
        "train-00000-of-00004.parquet",
        "train-00003-of-00004.parquet",
    ]
    assert sorted(os.listdir(tmp_path)) == sorted(set(names) - {os.path.basename(p) for p in removed})
    assert remove_stale_shards(str(tmp_path / "missing"), "train", ()) == []


def test_a_rerun_with_fewer_shards_leaves_only_the_new_ones(tmp_path):
    rows = rejects(300)
    total = sum(estimate_bytes(r) for r in rows)
    many = run_sink(rows, tmp_path, target=total // 4 + 1)
    assert len(many) == 4
    (tmp_path / "notes.txt").write_text("mine")
    with TestPipeline() as p:
        written = p | beam.Create(rows[:200]) | WriteParquetShards(str(tmp_path), "train", REJECT_SCHEMA, key, total)
        _ = (
            written
            | beam.combiners.ToList()
            | beam.Map(lambda w: remove_stale_shards(str(tmp_path), "train", [path for path, _ in w]))
        )
    assert [os.path.basename(f) for f in _final_files(tmp_path)] == ["train-00000-of-00001.parquet"]
    assert (tmp_path / "notes.txt").read_text() == "mine"
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "*.parquet"), split="train")
    assert sorted(ds["record_id"]) == sorted(r["record_id"] for r in rows[:200])


def test_write_file_leaves_the_whole_file_or_none(tmp_path, monkeypatch):
    from transforms import sinks

    target = tmp_path / "manifest.json"
    sinks.write_file(str(target), b'{"a": 1}\n')
    assert target.read_bytes() == b'{"a": 1}\n' and sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]

    def crash(temp, path):
        assert pathlib.Path(temp).read_bytes() == b'{"b": 2}\n' and not pathlib.Path(path).exists()
        raise OSError("killed before the rename")

    monkeypatch.setattr(sinks, "_publish", crash)
    with pytest.raises(OSError, match="killed before the rename"):
        sinks.write_file(str(tmp_path / "other.json"), b'{"b": 2}\n')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"], "no partial file, no temporary left"


def test_one_sink_for_many_destinations_writes_what_one_sink_each_would(tmp_path):
    from transforms.sinks import Destination, WriteParquetShardsTo

    groups = {0: rejects(120), 2: rejects(7)[::-1], 3: []}  # destination 1 gets no row, 3 neither
    total = sum(estimate_bytes(r) for r in groups[0])
    destinations = (
        Destination(str(tmp_path / "many" / "a"), "train"),
        Destination(str(tmp_path / "many" / "b"), "train"),
        Destination(str(tmp_path / "many" / "a"), "validation"),
        Destination(str(tmp_path / "many" / "c"), "rejects"),
    )
    elements = [(d, row) for d, rows in groups.items() for row in rows]
    with TestPipeline() as p:
        written = (
            p
            | beam.Create(elements)
            | WriteParquetShardsTo(destinations, REJECT_SCHEMA, key, total // 3 + 1)
            | beam.MapTuple(lambda d, pr: (d, os.path.basename(pr[0]), pr[1]))
        )
        expected = [(0, f"train-0000{i}-of-00003.parquet") for i in range(3)] + [
            (2, "validation-00000-of-00001.parquet")
        ]

        def names(found):
            assert sorted((d, name) for d, name, _ in found) == expected
            assert sum(rows for _, _, rows in found) == 127

        assert_that(written, names)
    for d, rows in groups.items():
        alone = tmp_path / "alone" / str(d)
        with TestPipeline() as p:
            _ = (
                p
                | beam.Create(rows)
                | WriteParquetShards(str(alone), destinations[d].prefix, REJECT_SCHEMA, key, total // 3 + 1)
            )
        mine = sorted(glob.glob(os.path.join(destinations[d].directory, f"{destinations[d].prefix}-*.parquet")))
        theirs = sorted(glob.glob(os.path.join(alone, "*.parquet")))
        assert [os.path.basename(f) for f in mine] == [os.path.basename(f) for f in theirs]
        assert [pathlib.Path(f).read_bytes() for f in mine] == [pathlib.Path(f).read_bytes() for f in theirs]
    assert not os.path.exists(tmp_path / "many" / "b") and not os.path.exists(tmp_path / "many" / "c")
