"""Deterministic, explicit-schema Parquet shards named the Hugging Face way.

`WriteParquetShards` writes `{dir}/{split}-00000-of-00004.parquet` (zstd, row groups
of at most `row_group_rows` rows and about `row_group_bytes` bytes). The number of
shards comes from the total row size and `target_shard_bytes`. Rows go to shard
`hash(sort key) % shards` and are sorted by that key inside a shard, so the same
input gives the same rows in the same files on any runner and any worker count;
Beam's own file sink assigns shards at random, which is why it is not used here.
Rows cross the shuffle compressed (`transforms.packing`) and are unpacked one by
one as their shard is written.
Every shard of a split is written, an empty one too (with no row group, so
`datasets` reads it as 0 rows); a split with no rows at all writes no file, since
`datasets` refuses a split without data.

Input: PCollection of Arrow-ready dicts. Output: PCollection of `(path, rows)`.
"""

__all__ = ["WriteParquetShards", "estimate_bytes", "shard_name", "write_shard"]

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Iterable
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from transforms.packing import pack, unpack


def estimate_bytes(row: dict[str, Any]) -> int:
    """Approximate uncompressed size of a row: its text plus 8 bytes a field."""
    return sum(len(v) if isinstance(v, str) else 8 for v in row.values())


def shard_name(split: str, index: int, count: int) -> str:
    """Returns `train-00000-of-00004.parquet`."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "big")


def _sort_key(key: str, row: dict[str, Any]) -> tuple[str, int]:
    """The key, then a 63-bit hash of the whole row (fits Beam's int coder) to order equal keys."""
    return key, _stable_hash(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)) >> 1


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

    def process(self, element: tuple[int, Iterable[Any]], count: int):
        index, items = element
        keyed = sorted(item for item in items if item is not None)  # (sort key, packed row): rows stay packed
        path = FileSystems.join(self._directory, shard_name(self._split, index, count))
        rows = write_shard(path, (unpack(packed) for _, packed in keyed), self._schema, self._row_group_rows)
        yield path, rows


def _packed(row: dict[str, Any], key: Callable[[dict[str, Any]], str]) -> tuple[int, tuple[str, int], bytes]:
    """(size, sort key, packed row): what the sink keeps of a row while the shard count is computed."""
    sort_key = _sort_key(key(row), row)
    return estimate_bytes(row), sort_key, pack(row)


def _assign(item: tuple[int, tuple[str, int], bytes], count: int) -> tuple[int, tuple[tuple[str, int], bytes]]:
    _, sort_key, packed = item
    return _stable_hash(sort_key[0]) % count, (sort_key, packed)


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
        keyed = rows | "Pack" >> beam.Map(_packed, self.key)
        count = (
            keyed
            | "Size" >> beam.Map(lambda item: item[0])
            | "TotalSize" >> beam.CombineGlobally(sum)
            | "ShardCount" >> beam.Map(lambda total: math.ceil(total / target))  # no rows: no file
        )
        count_side = beam.pvalue.AsSingleton(count)
        assigned = keyed | "Assign" >> beam.Map(_assign, count=count_side)
        every_shard = count | "EveryShard" >> beam.FlatMap(lambda n: [(i, None) for i in range(n)])
        return (
            (assigned, every_shard)
            | "WithEmptyShards" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard"
            >> beam.ParDo(_WriteShardFn(self.directory, self.split, self.schema, self.row_group_rows), count=count_side)
        )
