"""Release statistics of a run folder, streamed from its Parquet shards.

`compute_stats(run_dir)` reads every shard the manifest lists, one record batch
at a time (`ParquetFile.iter_batches`), so a release of any size is summarised in
the memory of one batch. `in_memory_stats(tables)` is the twin over Arrow tables,
for tests and notebooks. Both fold batches into the same `_Accumulator`, whose
`add_batch` / `merge` / `result` are the shape of a Beam `CombineFn`, should the
statistics ever be computed inside the pipeline instead.

What is counted, and why in that unit:

* per split: rows; `num_bytes`, the uncompressed Arrow size of the rows (what the
  Hub's `dataset_info` calls `num_bytes`, and what `datasets` reports after
  loading); `download_size`, the Parquet files' size on disk.
* composition: rows per (split, source, criterion, language), the label ids
  turned into names with the shards' own ClassLabel metadata.
* token lengths of prompt (`input`), chosen and rejected, estimated with
  `transforms.filters.length.estimate_tokens` (the length filter's documented
  estimate, about 3.2 characters per token), so the card describes lengths in
  the same unit the filter rejected them in. Kept as counts over fixed
  power-of-two bins: mergeable, and comparable between releases.
* judge votes of the pairs that went through the pairwise judge (`judge_*` not
  null): per vote kind, how many pairs had 0, 1, 2... such votes; vote totals;
  the mean A-position rate and position consistency from `label_details.judge`.
* licences: rows per (source, licence); a null licence is counted as None.

Batches are read at a fixed size (`BATCH_SIZE`): `num_bytes` counts validity
bitmaps per batch, so the same files always give the same bytes.
"""

__all__ = [
    "BATCH_SIZE",
    "JUDGE_KINDS",
    "LENGTH_FIELDS",
    "TOKEN_BIN_EDGES",
    "Histogram",
    "JudgeStats",
    "ReleaseStats",
    "SplitStats",
    "compute_stats",
    "in_memory_stats",
    "load_manifest",
    "open_run",
    "read_features",
    "token_bin",
]

import bisect
import collections
import dataclasses
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from schemas.arrow import class_label_names
from schemas.labels import label_name
from transforms.filters.length import estimate_tokens


BATCH_SIZE = 1024
TOKEN_BIN_EDGES: tuple[int, ...] = (0, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
"""Lower edges of the token-length bins; the last bin is open (16384 and over)."""
LENGTH_FIELDS: tuple[tuple[str, str], ...] = (("prompt", "input"), ("chosen", "chosen"), ("rejected", "rejected"))
"""(name in the card, column) of each length distribution."""
JUDGE_KINDS: tuple[tuple[str, str], ...] = (
    ("matches", "judge_matches"),
    ("contradictions", "judge_contradictions"),
    ("ties", "judge_ties"),
    ("errors", "judge_errors"),
)
"""(vote kind, column) of the pairwise judge's counts."""


@dataclasses.dataclass(frozen=True)
class SplitStats:
    """One split: rows, Arrow bytes, Parquet bytes and its files (relative to the run folder)."""

    name: str
    rows: int
    num_bytes: int
    download_size: int
    files: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Histogram:
    """Counts over `TOKEN_BIN_EDGES`, plus the exact count, sum, min and max."""

    edges: tuple[int, ...]
    counts: tuple[int, ...]
    n: int
    total: int
    minimum: int | None
    maximum: int | None

    @property
    def mean(self) -> float | None:
        """The mean length, or None for an empty histogram."""
        return self.total / self.n if self.n else None

    def labels(self) -> list[str]:
        """Bin labels such as `256-511` and, for the open last bin, `16384+`."""
        upper = [f"-{e - 1}" for e in self.edges[1:]] + ["+"]
        return [f"{lo}{hi}" for lo, hi in zip(self.edges, upper, strict=True)]


@dataclasses.dataclass(frozen=True)
class JudgeStats:
    """The pairwise judge's votes over the pairs it judged.

    Attributes:
        pairs: pairs with judge counts.
        distribution: vote kind → {votes of that kind in a pair: pairs}.
        totals: vote kind → votes over all pairs.
        a_rate_mean: mean share of valid votes for position A (0.5: no position bias).
        position_consistency_mean: mean share of vote pairs (both A/B orders) picking the same side.
    """

    pairs: int
    distribution: dict[str, dict[int, int]]
    totals: dict[str, int]
    a_rate_mean: float | None
    position_consistency_mean: float | None

    @property
    def agreement(self) -> float | None:
        """Share of non-error votes that picked the released `chosen` side."""
        decided = self.totals["matches"] + self.totals["contradictions"] + self.totals["ties"]
        return self.totals["matches"] / decided if decided else None


@dataclasses.dataclass(frozen=True)
class ReleaseStats:
    """Everything the card says about the rows; see the module docstring.

    Attributes:
        splits: the splits, in the manifest's order.
        composition: (split, source, criterion, language) → rows, sorted.
        lengths: "prompt" / "chosen" / "rejected" → token-length histogram.
        judge: the judge's votes.
        licences: (source, licence or None) → rows, sorted.
    """

    splits: tuple[SplitStats, ...]
    composition: dict[tuple[str, str, str, str], int]
    lengths: dict[str, Histogram]
    judge: JudgeStats
    licences: dict[tuple[str, str | None], int]

    @property
    def rows(self) -> int:
        """Rows over all splits."""
        return sum(s.rows for s in self.splits)


def token_bin(tokens: int, edges: tuple[int, ...] = TOKEN_BIN_EDGES) -> int:
    """Returns the index of the bin holding `tokens` (the last bin is open)."""
    return max(bisect.bisect_right(edges, tokens) - 1, 0)


class _Accumulator:
    """Mutable partial statistics; `add_batch`, `merge` and `result` as in a CombineFn."""

    def __init__(self) -> None:
        self.rows: collections.Counter[str] = collections.Counter()
        self.num_bytes: collections.Counter[str] = collections.Counter()
        self.composition: collections.Counter[tuple[str, str, str, str]] = collections.Counter()
        self.bins = {name: [0] * len(TOKEN_BIN_EDGES) for name, _ in LENGTH_FIELDS}
        self.length_sums = {name: [0, 0, None, None] for name, _ in LENGTH_FIELDS}  # n, total, min, max
        self.votes = {kind: collections.Counter() for kind, _ in JUDGE_KINDS}
        self.judged = 0
        self.rates = {"a_rate": [0.0, 0], "position_consistency": [0.0, 0]}
        self.licences: collections.Counter[tuple[str, str | None]] = collections.Counter()

    def add_batch(self, split: str, batch: pa.RecordBatch | pa.Table) -> None:
        """Folds one batch of pair rows of `split` in."""
        self.rows[split] += batch.num_rows
        self.num_bytes[split] += batch.nbytes
        languages = class_label_names(batch.schema, "language")
        aspects = class_label_names(batch.schema, "aspect")
        sources = batch.column("source").to_pylist()
        for source, aspect, language in zip(
            sources, batch.column("aspect").to_pylist(), batch.column("language").to_pylist(), strict=True
        ):
            self.composition[(split, source, _label(aspects, aspect), _label(languages, language))] += 1
        for name, column in LENGTH_FIELDS:
            self._add_lengths(name, (estimate_tokens(text or "") for text in batch.column(column).to_pylist()))
        self.licences.update(zip(sources, batch.column("license").to_pylist(), strict=True))
        self._add_votes(batch)

    def _add_lengths(self, name: str, lengths: Iterable[int]) -> None:
        bins, acc = self.bins[name], self.length_sums[name]
        for tokens in lengths:
            bins[token_bin(tokens)] += 1
            acc[0] += 1
            acc[1] += tokens
            acc[2] = tokens if acc[2] is None else min(acc[2], tokens)
            acc[3] = tokens if acc[3] is None else max(acc[3], tokens)

    def _add_votes(self, batch: pa.RecordBatch | pa.Table) -> None:
        columns = {kind: batch.column(column).to_pylist() for kind, column in JUDGE_KINDS}
        details = batch.column("label_details").to_pylist()
        for i, matches in enumerate(columns["matches"]):
            if matches is None:
                continue
            self.judged += 1
            for kind, values in columns.items():
                self.votes[kind][values[i] or 0] += 1
            judge = json.loads(details[i]).get("judge", {}) if details[i] else {}
            for key, acc in self.rates.items():
                if judge.get(key) is not None:
                    acc[0] += judge[key]
                    acc[1] += 1

    def merge(self, other: "_Accumulator") -> None:
        """Adds another accumulator's counts to this one."""
        for mine, theirs in (
            (self.rows, other.rows),
            (self.num_bytes, other.num_bytes),
            (self.composition, other.composition),
            (self.licences, other.licences),
        ):
            mine.update(theirs)
        for name, _ in LENGTH_FIELDS:
            self.bins[name] = [a + b for a, b in zip(self.bins[name], other.bins[name], strict=True)]
            mine, theirs = self.length_sums[name], other.length_sums[name]
            lows = [v for v in (mine[2], theirs[2]) if v is not None]
            highs = [v for v in (mine[3], theirs[3]) if v is not None]
            self.length_sums[name] = [
                mine[0] + theirs[0],
                mine[1] + theirs[1],
                min(lows, default=None),
                max(highs, default=None),
            ]
        for kind, _ in JUDGE_KINDS:
            self.votes[kind].update(other.votes[kind])
        self.judged += other.judged
        for key, acc in self.rates.items():
            acc[0] += other.rates[key][0]
            acc[1] += other.rates[key][1]

    def result(self, files: Mapping[str, tuple[tuple[str, int], ...]]) -> ReleaseStats:
        """The statistics, given each split's `(relative path, size in bytes)` files."""
        splits = tuple(
            SplitStats(
                split,
                self.rows[split],
                self.num_bytes[split],
                sum(size for _, size in shards),
                tuple(path for path, _ in shards),
            )
            for split, shards in files.items()
        )
        lengths = {
            name: Histogram(TOKEN_BIN_EDGES, tuple(self.bins[name]), *sums) for name, sums in self.length_sums.items()
        }
        judge = JudgeStats(
            pairs=self.judged,
            distribution={kind: dict(sorted(self.votes[kind].items())) for kind, _ in JUDGE_KINDS},
            totals={kind: sum(k * n for k, n in self.votes[kind].items()) for kind, _ in JUDGE_KINDS},
            a_rate_mean=_mean(*self.rates["a_rate"]),
            position_consistency_mean=_mean(*self.rates["position_consistency"]),
        )
        return ReleaseStats(
            splits=splits,
            composition=dict(sorted(self.composition.items())),
            lengths=lengths,
            judge=judge,
            licences=dict(sorted(self.licences.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))),
        )


def _label(names: tuple[str, ...], value: int | None) -> str:
    """A label id's name; `unknown` for null, the id itself for one outside `names`."""
    if value is None:
        return "unknown"
    name = label_name(names, value)
    return str(value) if name is None else name


def _mean(total: float, n: int) -> float | None:
    return total / n if n else None


def open_run(run_dir: str) -> tuple[pafs.FileSystem, str]:
    """Returns the filesystem and root path of a run folder: a local path or a URI (`gs://...`)."""
    if "://" in run_dir:
        return pafs.FileSystem.from_uri(run_dir)
    return pafs.LocalFileSystem(), os.path.abspath(run_dir)


def load_manifest(run_dir: str) -> dict[str, Any]:
    """Reads `{run_dir}/manifest.json`."""
    fs, root = open_run(run_dir)
    with fs.open_input_stream(f"{root}/manifest.json") as f:
        return json.loads(f.read())


def _split_files(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    return {split: list(out["files"]) for split, out in manifest["outputs"].items()}


def read_features(run_dir: str, manifest: Mapping[str, Any]):  # noqa: ANN201 - datasets is imported lazily
    """Returns the release's `datasets.Features`, read from its first shard's schema metadata.

    Reading them from the data (not from `schemas.arrow`) keeps the card true to
    the files even if the schema changes between codepref versions; a release
    without files falls back to `schemas.arrow.pair_features()`.
    """
    import datasets

    fs, root = open_run(run_dir)
    for files in _split_files(manifest).values():
        for path in files:
            with fs.open_input_file(f"{root}/{path}") as f:
                return datasets.Features.from_arrow_schema(pq.read_schema(f))
    from schemas.arrow import pair_features

    return pair_features()


def compute_stats(
    run_dir: str, manifest: Mapping[str, Any] | None = None, batch_size: int = BATCH_SIZE
) -> ReleaseStats:
    """Streams a run folder's released shards into `ReleaseStats`.

    Args:
        run_dir: the folder `codepref build` wrote (local path or URI).
        manifest: its manifest, if already loaded.
        batch_size: rows per record batch; keep the default for comparable `num_bytes`.

    Returns:
        The statistics, splits in the manifest's order.

    Raises:
        ValueError: the rows in the files differ from the manifest's count, so the
            card would describe a different release than the one written.
    """
    manifest = manifest if manifest is not None else load_manifest(run_dir)
    fs, root = open_run(run_dir)
    acc = _Accumulator()
    sizes: dict[str, tuple[tuple[str, int], ...]] = {}
    for split, files in _split_files(manifest).items():
        for path in files:
            with fs.open_input_file(f"{root}/{path}") as f:
                for batch in pq.ParquetFile(f).iter_batches(batch_size=batch_size):
                    acc.add_batch(split, batch)
        infos = fs.get_file_info([f"{root}/{path}" for path in files])
        sizes[split] = tuple((path, info.size) for path, info in zip(files, infos, strict=True))
    stats = acc.result(sizes)
    for split in stats.splits:
        expected = manifest["outputs"][split.name]["rows"]
        if split.rows != expected:
            raise ValueError(f"split {split.name}: the files hold {split.rows} rows, the manifest says {expected}")
    return stats


def in_memory_stats(tables: Mapping[str, pa.Table], batch_size: int = BATCH_SIZE) -> ReleaseStats:
    """`compute_stats` over in-memory tables, one per split (download sizes are 0, no files)."""
    acc = _Accumulator()
    for split, table in tables.items():
        for batch in table.to_batches(max_chunksize=batch_size):
            acc.add_batch(split, batch)
    return acc.result({split: () for split in tables})
