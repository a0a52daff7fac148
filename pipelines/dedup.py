"""`codepref dedup`: exact and near deduplication of any JSONL or Parquet rows.

DAG: input files → ReadRows (stage `read_rows`) → Deduplicate (stages
`exact_dedup`, `near_dedup`; optionally against `--previous` release files) →
kept rows in `DIR/data/` with the input's own schema, duplicates with
`duplicate_of` in `DIR/rejects/`, the funnel in `DIR/manifest.json`.

Parquet input keeps its Arrow schema (and so its `datasets` features, ClassLabels
included). JSONL has no schema: the one pyarrow infers from the first file's
first 1,000 valid rows is used for every row (a row that does not fit it fails
the write with pyarrow's message).
"""

__all__ = ["add_arguments", "run"]

import argparse
import functools
import json
from collections.abc import Iterable

import apache_beam as beam
import pyarrow as pa
import pydantic
from apache_beam.io.filesystems import FileSystems

from pipelines import runs
from schemas.config import config_id
from schemas.dedup import DedupConfig
from schemas.errors import UsageError
from schemas.records import RejectRecord
from schemas.runs import DedupRun
from transforms.dedup.stage import Deduplicate, row_id
from transforms.sources.commit_files import ReadRows, iter_rows, match_files
from transforms.write_run import RunSpec, WriteRun


READ_STAGE = "read_rows"
MISSING_COLUMN = "missing_column"


def _row_or_reject(raw: object, where: str, columns: tuple[str, ...]) -> object:
    if not isinstance(raw, dict):
        return RejectRecord.make(READ_STAGE, MISSING_COLUMN, where, f"{where}: not a JSON object", raw)
    missing = [c for c in columns if c not in raw]
    if missing:
        return RejectRecord.make(READ_STAGE, MISSING_COLUMN, where, f"{where}: no column {', '.join(missing)}", raw)
    return raw


class _Reader:
    """Picklable `convert` for ReadRows: passes rows that have the compared columns."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns

    def __call__(self, raw: object, where: str) -> object:
        return _row_or_reject(raw, where, self.columns)


def input_schema(files: list[str]) -> pa.Schema:
    """The output schema: the first Parquet file's, or inferred from the first JSONL file's rows.

    Raises:
        UsageError: the file cannot be read or has no JSON object row.
    """
    first = files[0]
    try:
        if first.endswith(".parquet"):
            import pyarrow.parquet as pq

            with FileSystems.open(first) as f:
                return pq.read_schema(f)
        sample = []
        for _, row in iter_rows(first):
            if isinstance(row, dict):
                sample.append(row)
            if len(sample) >= 1000:
                break
        if sample:
            return pa.Table.from_pylist(sample).schema
        raise ValueError("no JSON object row")
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise UsageError(f"--input {first}: cannot read its schema ({exc})") from exc


def input_files(patterns: Iterable[str]) -> list[str]:
    """The files the input globs match, sorted."""
    return sorted({f for pattern in patterns for f in match_files(pattern)})


def build(p: beam.Pipeline, cfg: DedupRun, out: str) -> None:
    """Wires the dedup DAG into `p`; the kept rows keep the first input file's schema (`input_schema`)."""
    dedup_cfg = cfg.dedup
    reader = ReadRows(READ_STAGE, _Reader(dedup_cfg.columns))
    read = p | "InputPatterns" >> beam.Create(sorted(cfg.inputs)) | "ReadInput" >> reader
    old = None
    if cfg.previous:
        old_read = p | "PreviousPatterns" >> beam.Create(sorted(cfg.previous)) | "ReadPrevious" >> reader
        old = old_read.main
    deduped = read.main | "Deduplicate" >> Deduplicate(dedup_cfg, previous=old)
    reports = read.reports + deduped.after((READ_STAGE,))
    config = {"DedupConfig": json.loads(dedup_cfg.model_dump_json()), "previous": sorted(cfg.previous)}
    key = functools.partial(row_id, cfg=dedup_cfg)
    schema = input_schema(input_files(cfg.inputs))
    spec = RunSpec(out, config_id(dedup_cfg), config, schema, key, cfg.target_shard_bytes)
    _ = p | "WriteRun" >> WriteRun(spec, {cfg.split: deduped.main}, reports)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref dedup` arguments."""
    runs.add_input_argument(parser, "JSONL or Parquet rows (local or gs://...)")
    runs.add_output_arguments(parser)
    parser.add_argument(
        "--columns",
        default="input,chosen,rejected",
        help="comma list of the text columns compared (default input,chosen,rejected)",
    )
    parser.add_argument("--threshold", type=float, default=0.75, help="Jaccard threshold (default 0.75)")
    parser.add_argument("--ngram", type=int, default=20, help="word n-gram size of the shingles (default 20)")
    parser.add_argument("--num-perm", type=int, default=256, help="MinHash permutations (default 256)")
    parser.add_argument(
        "--id-column", default="idx", help="column naming a row in duplicate_of (default idx; if absent: content hash)"
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="trust LSH bands without checking the exact Jaccard of candidates"
    )
    parser.add_argument(
        "--previous",
        action="append",
        default=[],
        metavar="GLOB",
        help="a previous release's files: rows near any of them are dropped; repeatable",
    )
    parser.add_argument("--split", default="train", help="file name prefix of the kept rows (default train)")


def config_from_args(args: argparse.Namespace) -> DedupRun:
    """The run `codepref dedup` was asked for, every flag, input and compared column checked.

    Raises:
        UsageError: a bad value, a glob that matches no file, or a column the input lacks; the message names the flag.
    """
    columns = tuple(c.strip() for c in args.columns.split(",") if c.strip())
    runs.check_inputs({"--input": args.input, "--previous": args.previous})
    files = input_files(args.input)
    schema = input_schema(files)
    id_column = args.id_column if args.id_column and args.id_column in schema.names else None
    for column in columns:
        if column not in schema.names:
            raise UsageError(f"--columns: {column!r} is not a column of {files[0]} ({', '.join(schema.names)})")
    try:
        cfg = DedupConfig(
            columns=columns,
            threshold=args.threshold,
            ngram=args.ngram,
            num_perm=args.num_perm,
            id_column=id_column,
            verify="none" if args.no_verify else "exact",
        )
    except pydantic.ValidationError as exc:
        raise UsageError("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from exc
    target = args.target_shard_mb * 1024 * 1024
    return DedupRun(
        inputs=tuple(args.input), previous=tuple(args.previous), split=args.split, dedup=cfg, target_shard_bytes=target
    )


def run(cfg: DedupRun, out: str, beam_args: list[str]) -> dict:
    """Runs `codepref dedup` into `out` and returns the manifest.

    Raises:
        UsageError: the runner or `out` cannot be used, or the input's schema cannot be read.
    """
    return runs.run_beam(out, beam_args, lambda p, out: build(p, cfg, out))
