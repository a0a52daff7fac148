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

A shard is written under a temporary name in its folder,
`.tmp-{split}-00000-of-00004.{attempt}.partial` (hidden, not `*.parquet`, so no
reader's glob sees it), and renamed to its final name once complete, so a failed
or killed attempt never leaves a truncated `*.parquet` file; a retried attempt
writes its own temporary file and its rename replaces the earlier one (the bytes
are the same). This holds on object stores too: there a stream closed by an
exception would still publish its truncated object under the name it was opened
with. `remove_stale_shards` deletes the split's shards a run did not write (a
re-run with another shard count) and killed attempts' temporary files; the
manifest calls it once at the end of the run (`transforms.manifest`).

Input: PCollection of Arrow-ready dicts. Output: PCollection of `(path, rows)`.
`WriteParquetShardsTo` is the same sink for many destinations at once (a run's
splits, its reject folders): `(destination index, row)` in, `(destination index,
(path, rows))` out, each destination's files exactly those `WriteParquetShards`
writes for its rows, through one shuffle instead of one per destination.
"""

__all__ = [
    "Destination",
    "WriteParquetShards",
    "WriteParquetShardsTo",
    "estimate_bytes",
    "is_own_file",
    "remove_stale_outputs",
    "remove_stale_shards",
    "shard_name",
    "write_file",
    "write_shard",
]

import dataclasses
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystem import BeamIOError
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


_SHARD = r"-\d{5,}-of-\d{5,}"
_SHARD_FILE = re.compile(rf"^.+{_SHARD}\.parquet$")
_TEMP_FILE = re.compile(rf"^\.tmp-.+{_SHARD}\.[0-9a-f]{{32}}\.partial$")


def _temp_path(path: str) -> str:
    """A fresh temporary name beside `path`, unique to this attempt."""
    directory, name = FileSystems.split(path)
    return FileSystems.join(directory, f".tmp-{name.removesuffix('.parquet')}.{uuid.uuid4().hex}.partial")


def is_own_file(name: str) -> bool:
    """Whether a file name is one this sink writes: a shard or an attempt's temporary file."""
    return bool(_SHARD_FILE.match(name) or _TEMP_FILE.match(name))


def _publish(temp: str, path: str) -> None:
    """Renames `temp` to `path`, replacing it (file systems whose rename refuses a target: deleted first)."""
    try:
        FileSystems.rename([temp], [path])
    except BeamIOError:
        if not FileSystems.exists(path):
            raise
        FileSystems.delete([path])
        FileSystems.rename([temp], [path])


def write_file(path: str, data: bytes) -> None:
    """Writes `data` to `path` so that readers see the whole file or none (a temporary name, then a rename)."""
    temp = _temp_path(path)
    try:
        with FileSystems.create(temp) as f:
            f.write(data)
        _publish(temp, path)
    except BaseException:
        if FileSystems.exists(temp):
            FileSystems.delete([temp])
        raise


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
    """Writes rows (already in order) to one zstd Parquet file; returns the row count.

    The file appears under `path` only once complete (see the module docstring).
    """
    temp = _temp_path(path)
    try:
        written = _write_parquet(temp, rows, schema, row_group_rows, row_group_bytes)
        _publish(temp, path)
    except BaseException:
        if FileSystems.exists(temp):
            FileSystems.delete([temp])
        raise
    return written


def _write_parquet(
    path: str, rows: Iterable[dict[str, Any]], schema: pa.Schema, row_group_rows: int, row_group_bytes: int
) -> int:
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


def remove_stale_shards(directory: str, split: str, keep: Iterable[str]) -> list[str]:
    """Deletes `split`'s shards in `directory` that are not in `keep`, and its attempts' temporary files.

    Only names of this sink's template are touched (`{split}-NNNNN-of-NNNNN.parquet`,
    `.tmp-{split}-….partial`): other splits' shards and other files stay.

    Args:
        directory: the split's folder (local or `gs://...`); a missing one is fine.
        split: the file name prefix, e.g. `train`.
        keep: paths (or names) of the shards the run wrote in `directory`.

    Returns:
        The deleted paths, sorted.
    """
    kept = {FileSystems.split(path)[1] for path in keep}
    own = re.compile(rf"^(\.tmp-)?{re.escape(split)}{_SHARD}(\.parquet|\.[0-9a-f]{{32}}\.partial)$")
    patterns = [FileSystems.join(directory, f"{split}-*-of-*.parquet"), FileSystems.join(directory, f".tmp-{split}-*")]
    found = {m.path for result in FileSystems.match(patterns) for m in result.metadata_list}
    stale = sorted(
        path for path in found if own.match(FileSystems.split(path)[1]) and FileSystems.split(path)[1] not in kept
    )
    if stale:
        FileSystems.delete(stale)
    return stale


def remove_stale_outputs(root: str, manifest: dict[str, Any]) -> list[str]:
    """Deletes the shards of the manifest's splits and reject folders that it does not list.

    Splits live in `{root}/data/`, the reject folders in `{root}/rejects/{folder}/`
    (prefix `rejects`), plus any folder where the manifest lists a file.

    Returns:
        The deleted paths, sorted.
    """
    groups = [("data", split, info) for split, info in manifest.get("outputs", {}).items()]
    groups += [(f"rejects/{folder}", "rejects", info) for folder, info in manifest.get("rejects", {}).items()]
    removed: list[str] = []
    for folder, split, info in groups:
        listed = [
            f if f.startswith("/") or FileSystems.get_scheme(f) else FileSystems.join(root, *f.split("/"))
            for f in info["files"]
        ]
        folders = {FileSystems.join(root, *folder.split("/"))} | {FileSystems.split(p)[0] for p in listed}
        for directory in sorted(folders):
            removed += remove_stale_shards(directory, split, listed)
    return sorted(removed)


@dataclasses.dataclass(frozen=True)
class Destination:
    """Where one group of rows goes: `{directory}/{prefix}-NNNNN-of-NNNNN.parquet`."""

    directory: str
    prefix: str


class _WriteShardFn(beam.DoFn):
    def __init__(self, destinations: tuple[Destination, ...], schema: pa.Schema, row_group_rows: int) -> None:
        self._destinations, self._schema, self._row_group_rows = destinations, schema, row_group_rows

    def process(self, element: tuple[tuple[int, int], Iterable[spill.Slice | None]], counts: dict[int, int]):
        (target, index), slices = element
        keyed = sorted((key, packed) for _, key, packed in spill.read_slices(s for s in slices if s is not None))
        destination = self._destinations[target]
        path = FileSystems.join(destination.directory, shard_name(destination.prefix, index, counts[target]))
        rows = write_shard(path, (unpack(packed) for _, packed in keyed), self._schema, self._row_group_rows)
        yield target, (path, rows)


_BUCKETS = 1 << 20  # spill buckets of one destination: a shard holds a contiguous range of them


def _spill_item(
    element: tuple[int, dict[str, Any]], key: Callable[[dict[str, Any]], str]
) -> tuple[int, tuple[str, int], bytes]:
    """(bucket, sort key, packed row): destination d's buckets are `d·BUCKETS + the top bits of the key's hash`."""
    target, row = element
    sort_key = _sort_key(key(row), row)
    return target * _BUCKETS + (stable_hash(sort_key[0]) * _BUCKETS >> 64), sort_key, pack(row)


def _shard_bounds(count: int) -> tuple[int, ...]:
    """The first bucket of shards 1 .. count−1: shard i holds buckets b with b·count // BUCKETS = i."""
    return tuple(-(-i * _BUCKETS // count) for i in range(1, count))


def _groups(counts: dict[int, int]) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """The first bucket of every group but the first, and each group's (destination, shard).

    Destination d's shards split `[d·BUCKETS, (d+1)·BUCKETS)` as `_shard_bounds` splits one
    destination's range; a destination without rows has no bucket, so its group is never used.
    """
    bounds: list[int] = []
    groups: list[tuple[int, int]] = []
    for target in range(max(counts, default=-1) + 1):
        if groups:
            bounds.append(target * _BUCKETS)
        groups.append((target, 0))
        for index, bound in enumerate(_shard_bounds(counts.get(target, 0)), start=1):
            bounds.append(target * _BUCKETS + bound)
            groups.append((target, index))
    return tuple(bounds), tuple(groups)


def _slices(run: spill.RunIndex, counts: dict[int, int]) -> Iterator[tuple[tuple[int, int], spill.Slice]]:
    bounds, groups = _groups(counts)
    for group, part in run.slices(bounds):
        yield groups[group], part


@dataclasses.dataclass
class WriteParquetShardsTo(beam.PTransform):
    """Writes `(destination index, row)` elements as deterministic Parquet shards, per destination.

    One sink for many folders or prefixes (a run's splits, its reject folders): each
    destination gets the shards `WriteParquetShards` would write for its rows alone,
    byte for byte, through one shuffle and one set of transforms instead of one each.

    Attributes:
        destinations: where each index's rows go.
        schema: the explicit Arrow schema of the rows.
        key: returns a row's stable sort and sharding key.
        target_shard_bytes: uncompressed bytes aimed at per shard of a destination.
        row_group_rows: most rows in one row group.

    Output: `(destination index, (path, rows))` per shard written.
    """

    destinations: tuple[Destination, ...]
    schema: pa.Schema
    key: Callable[[dict[str, Any]], str]
    target_shard_bytes: int = 256 * 1024 * 1024
    row_group_rows: int = 1000

    def expand(self, rows: beam.PCollection[tuple[int, dict[str, Any]]]) -> beam.PCollection:
        target = self.target_shard_bytes
        counts = (
            rows
            | "Size" >> beam.Map(lambda element: (element[0], estimate_bytes(element[1])))
            | "TotalSize" >> beam.CombinePerKey(sum)
            | "ShardCount" >> beam.MapTuple(lambda d, total: (d, min(math.ceil(total / target), _BUCKETS)))
        )
        counts_side = beam.pvalue.AsDict(counts)
        scratch = spill.spill_directory(rows.pipeline, self.destinations[0].prefix if self.destinations else "none")
        slices = (
            rows
            | "Pack" >> beam.Map(_spill_item, self.key)
            | "Spill" >> spill.SpillRuns(scratch)
            | "Slices" >> beam.FlatMap(_slices, counts_side)
        )
        every_shard = counts | "EveryShard" >> beam.FlatMapTuple(lambda d, n: [((d, i), None) for i in range(n)])
        write = _WriteShardFn(self.destinations, self.schema, self.row_group_rows)
        written = (
            (slices, every_shard)
            | "WithEmptyShards" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(write, counts_side)
        )
        _ = written | "DeleteSpill" >> spill.DeleteSpill(scratch)
        return written


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
        sink = WriteParquetShardsTo(
            (Destination(self.directory, self.split),),
            self.schema,
            self.key,
            self.target_shard_bytes,
            self.row_group_rows,
        )
        return rows | "To" >> beam.Map(lambda row: (0, row)) | "Write" >> sink | "Paths" >> beam.Values()
