import glob
import os
from unittest.mock import patch

import apache_beam as beam
import datasets
import pyarrow.parquet as pq
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline

from schemas.arrow import REJECT_SCHEMA, pair_schema
from schemas.records import PreferencePair, RejectRecord
from transforms import spill
from transforms.sinks import WriteParquetShards, estimate_bytes, shard_name, write_shard


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
    for a, b in zip(sorted(glob.glob(str(tmp_path / "a" / "*"))), sorted(glob.glob(str(tmp_path / "b" / "*"))),
                    strict=True):  # fmt: skip
        with open(a, "rb") as fa, open(b, "rb") as fb:
            assert fa.read() == fb.read()


def _tiny_runs(self, directory, run_bytes):
    self._directory, self._run_bytes = directory, 500  # a run every few rows
