"""`WriteRun`: everything a run writes, from one `RunSpec`.

    OUT/data/{split}-NNNNN-of-NNNNN.parquet     the rows of each split (the spec's schema and key)
    OUT/rejects/NN_stage/rejects-*.parquet      each stage's `RejectRecord`s, NN its place in the funnel
    OUT/manifest.json                           the funnel, the config and its id, LLM calls, composition

Every pipeline ends in it (`codepref mine`, `label`, `mutate`, `filter`, `dedup`,
`build`): they differ in the rows they write (commits, pairs, any rows) and in
what the manifest adds (LLM stats, the realised composition), which the spec says.
The shards are deterministic (`transforms.sinks.WriteParquetShards`); the manifest
is written last and then clears stale shards (`transforms.manifest.WriteManifest`).
"""

__all__ = ["RunSpec", "WriteRun", "reject_key"]

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from schemas.arrow import REJECT_SCHEMA
from schemas.records import RejectRecord
from transforms.commit_filters import record_id
from transforms.manifest import StageReport, WriteManifest
from transforms.sinks import Destination, WriteParquetShardsTo


def reject_key(row: dict) -> str:
    """The sharding and sort key of a reject row."""
    return record_id(row["stage"], row["reason"], row["record_id"], row["detail"])


def _cell(record: Any, split: str) -> tuple[str, str, str, str]:
    return split, record.source, record.aspect, record.language


def _tagged(number: int, record: Any, to_row: Callable[[Any], dict[str, Any]] | None) -> tuple[int, dict[str, Any]]:
    return number, record if to_row is None else to_row(record)


def _write_all(
    label: str, tagged: list[beam.PCollection], names: list[str], sink: WriteParquetShardsTo, pipeline: beam.Pipeline
) -> dict[str, beam.PCollection]:
    """Writes the `(destination index, row)` PCollections through one sink; returns name → its `(path, rows)`."""
    if not names:
        return {}
    written = (
        tagged
        | f"{label}Rows" >> beam.Flatten(pipeline=pipeline)
        | f"Write{label}" >> sink
        | f"{label}ByName" >> beam.Partition(lambda element, n: element[0], len(names))
    )
    return {name: written[i] | f"{label}Written{i}" >> beam.Values() for i, name in enumerate(names)}


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What a run writes and how.

    Attributes:
        out: the run's folder (local or `gs://...`), prepared (`pipelines.runs.prepare_output`).
        config_id: the config's short id (`schemas.config.config_id`).
        config: the config as JSON-ready data, for the manifest.
        schema: the Arrow schema of the written rows.
        key: a row's stable sharding and sort key.
        target_shard_bytes: uncompressed bytes aimed at per shard.
        to_row: turns a record into an Arrow-ready dict; None: the elements are such dicts.
        composition: count the `(split, source, aspect, language)` of every written record
            into the manifest's `composition` (pairs only).
    """

    out: str
    config_id: str
    config: dict[str, Any]
    schema: pa.Schema
    key: Callable[[dict[str, Any]], str]
    target_shard_bytes: int
    to_row: Callable[[Any], dict[str, Any]] | None = None
    composition: bool = False


@dataclasses.dataclass
class WriteRun(beam.PTransform):
    """Writes the rows of each split, every stage's rejects and the manifest; see the module docstring.

    Applied to the pipeline; returns the PCollection of the one manifest dict.

    Attributes:
        spec: what to write and how.
        splits: split name → its records, in the order the manifest lists them.
        reports: one `StageReport` per stage, in funnel order (the last one's `out` is what `splits` hold).
        llm_stats: LLM stage → its per-batch stats dicts; None: the run has no LLM stage.
        attempts: the execution stage's candidate bug runs; None: no pair was verified by execution.
    """

    spec: RunSpec
    splits: Mapping[str, beam.PCollection]
    reports: Sequence[StageReport]
    llm_stats: Mapping[str, beam.PCollection] | None = None
    attempts: beam.PCollection | None = None

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[dict[str, Any]]:
        spec, names, cells = self.spec, list(self.splits), []
        tagged = [
            records | f"Rows{name}" >> beam.Map(lambda r, i=i: _tagged(i, r, spec.to_row))
            for i, (name, records) in enumerate(self.splits.items())
        ]
        if spec.composition:
            cells = [records | f"Cells{name}" >> beam.Map(_cell, name) for name, records in self.splits.items()]
        data_dir = FileSystems.join(spec.out, "data")
        destinations = tuple(Destination(data_dir, name) for name in names)
        sink = WriteParquetShardsTo(destinations, spec.schema, spec.key, spec.target_shard_bytes)
        data = _write_all("Data", tagged, names, sink, pbegin.pipeline)
        folders = [f"{number:02d}_{report.name}" for number, report in enumerate(self.reports, start=1)]
        tagged = [
            report.rejected | f"RejectRows{folder}" >> beam.Map(lambda r, i=i: _tagged(i, r, RejectRecord.to_row))
            for i, (folder, report) in enumerate(zip(folders, self.reports, strict=True))
        ]
        destinations = tuple(Destination(FileSystems.join(spec.out, "rejects", f), "rejects") for f in folders)
        sink = WriteParquetShardsTo(destinations, REJECT_SCHEMA, reject_key, spec.target_shard_bytes)
        rejects = _write_all("Rejects", tagged, folders, sink, pbegin.pipeline)
        composition = cells | "AllCells" >> beam.Flatten(pipeline=pbegin.pipeline) if spec.composition else None
        manifest = WriteManifest(
            spec.out,
            spec.config_id,
            spec.config,
            list(self.reports),
            data,
            rejects,
            dict(self.llm_stats) if self.llm_stats is not None else None,
            composition,
            self.attempts,
        )
        return pbegin | "WriteManifest" >> manifest
