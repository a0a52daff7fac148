"""Deterministic, explicit-schema Parquet shards named the Hugging Face way.

`WriteParquetShards` writes `{dir}/{split}-00000-of-00004.parquet` (zstd, row groups
of at most `row_group_rows` rows and about `row_group_bytes` bytes). The number of
shards comes from the total row size and `target_shard_bytes`. Rows go to the shard
of their key's hash (shard i of n holds the hashes in the i-th n-th of the range)
and are sorted by that key inside a shard, so the same
input gives the same rows in the same files on any runner and any worker count;
Beam's own file sink assigns shards at random, which is why it is not used here.
Rows do not cross a shuffle: compressed (`transforms.packing`), they go to run
files (`transforms.spill`) in buckets of their key's hash, a shard takes a
contiguous range of buckets, and only references to the runs are grouped by shard;
a shard's rows are unpacked one by one as it is written.
Every shard of a split is written, an empty one too (with no row group, so
`datasets` reads it as 0 rows); a split with no rows at all writes no file, since
`datasets` refuses a split without data.

Input: PCollection of Arrow-ready dicts. Output: PCollection of `(path, rows)`.
"""

__all__ = ["WriteParquetShards", "estimate_bytes", "shard_name", "write_shard"]

import dataclasses
import json
import math
from collections.abc import Callable, Iterable
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from transforms import spill
from transforms.hashing import stable_hash
from transforms.packing import pack, unpack


def estimate_bytes(row: dict[str, Any]) -> int:
    """Approximate uncompressed size of a row: its text plus 8 bytes a field."""
    return sum(len(v) if isinstance(v, str) else 8 for v in row.values())


def shard_name(split: str, index: int, count: int) -> str:
    """Returns `train-00000-of-00004.parquet`."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def _sort_key(key: str, row: dict[str, Any]) -> tuple[str, int]:
    """The key, then a 63-bit hash of the whole row (fits Beam's int coder) to order equal keys."""
    return key, stable_hash(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)) >> 1


def write_shard(
    path: str,
    rows: Iterable[dict[str, Any]],
    schema: pa.Schema,
    row_group_rows: int = 1000,
    row_group_bytes: int = 64 * 1024 * 1024,
) -> int:
    """Writes rows (already in order) to one zstd Parquet file; returns the row count."""
    import pyarrow.parquet as pq

    written = 0
    with FileSystems.create(path) as f, pq.ParquetWriter(f, schema, compression="zstd") as writer:
        group: list[dict[str, Any]] = []
        size = 0
        for row in rows:
            group.append(row)
            size += estimate_bytes(row)
            if len(group) >= row_group_rows or size >= row_group_bytes:
                writer.write_table(pa.Table.from_pylist(group, schema=schema))
                written += len(group)
                group, size = [], 0
        if group:  # an empty shard has no row group at all: `datasets` loads it as 0 rows
            writer.write_table(pa.Table.from_pylist(group, schema=schema))
            written += len(group)
    return written


class _WriteShardFn(beam.DoFn):
    def __init__(self, directory: str, split: str, schema: pa.Schema, row_group_rows: int) -> None:
        self._directory, self._split = directory, split
        self._schema, self._row_group_rows = schema, row_group_rows

    def process(self, element: tuple[int, Iterable[spill.Slice | None]], count: int):
        index, slices = element
        keyed = sorted((key, packed) for _, key, packed in spill.read_slices(s for s in slices if s is not None))
        path = FileSystems.join(self._directory, shard_name(self._split, index, count))
        rows = write_shard(path, (unpack(packed) for _, packed in keyed), self._schema, self._row_group_rows)
        yield path, rows


_BUCKETS = 1 << 20  # spill buckets: a shard holds a contiguous range of them


def _spill_item(row: dict[str, Any], key: Callable[[dict[str, Any]], str]) -> tuple[int, tuple[str, int], bytes]:
    """(bucket, sort key, packed row): the bucket is the top bits of the key's hash."""
    sort_key = _sort_key(key(row), row)
    return stable_hash(sort_key[0]) * _BUCKETS >> 64, sort_key, pack(row)


def _shard_bounds(count: int) -> tuple[int, ...]:
    """The first bucket of shards 1 .. count−1: shard i holds buckets b with b·count // BUCKETS = i."""
    return tuple(-(-i * _BUCKETS // count) for i in range(1, count))


@dataclasses.dataclass
class WriteParquetShards(beam.PTransform):
    """Writes rows as deterministic Parquet shards; see the module docstring.

    Attributes:
        directory: output folder (local or `gs://...`).
        split: file name prefix, e.g. `train` or `rejects`.
        schema: the explicit Arrow schema of the rows.
        key: returns a row's stable sort and sharding key.
        target_shard_bytes: uncompressed bytes aimed at per shard.
        row_group_rows: most rows in one row group.
    """

    directory: str
    split: str
    schema: pa.Schema
    key: Callable[[dict[str, Any]], str]
    target_shard_bytes: int = 256 * 1024 * 1024
    row_group_rows: int = 1000

    def expand(self, rows: beam.PCollection[dict[str, Any]]) -> beam.PCollection[tuple[str, int]]:
        target = self.target_shard_bytes
        count = (
            rows
            | "Size" >> beam.Map(estimate_bytes)
            | "TotalSize" >> beam.CombineGlobally(sum)
            | "ShardCount" >> beam.Map(lambda total: min(math.ceil(total / target), _BUCKETS))  # no rows: no file
        )
        count_side = beam.pvalue.AsSingleton(count)
        scratch = spill.spill_directory(rows.pipeline, self.split)
        slices = (
            rows
            | "Pack" >> beam.Map(_spill_item, self.key)
            | "Spill" >> spill.SpillRuns(scratch)
            | "Slices" >> beam.FlatMap(lambda run, n: run.slices(_shard_bounds(n)), count_side)
        )
        every_shard = count | "EveryShard" >> beam.FlatMap(lambda n: [(i, None) for i in range(n)])
        written = (
            (slices, every_shard)
            | "WithEmptyShards" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard"
            >> beam.ParDo(_WriteShardFn(self.directory, self.split, self.schema, self.row_group_rows), count=count_side)
        )
        _ = written | "DeleteSpill" >> spill.DeleteSpill(scratch)
        return written
