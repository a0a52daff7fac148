"""`codepref filter`: the final stages over existing preference pairs.

DAG: pair files (JSONL/Parquet in the Themis-CodePreference columns) → ReadRows
(stage `read_pairs`) → `pipelines.finalize.final_stages` (length, language,
secrets, exact and near dedup, decontamination, split) → `DIR/data/{split}-*.parquet`
in the pair schema, rejects per stage, manifest.

`language` and `aspect` may be ClassLabel ids (a Parquet release) or names.
A row whose values do not fit the pair schema is `invalid_row`, naming the field:
a bool as a label id or a count, a count outside int32 or below 0, a
`rating_mean` that is text, a bool or not finite (`schemas.records.PreferencePair`).
"""

__all__ = ["add_arguments", "pair_from_row", "run"]

import argparse

import apache_beam as beam
import pydantic

from pipelines import finalize, flags, label, runs
from schemas.arrow import pair_schema
from schemas.config import config_id
from schemas.labels import label_name
from schemas.pair_columns import LABEL_COLUMNS
from schemas.records import PairRecord, PreferencePair, RejectRecord
from schemas.runs import FilterRun
from transforms.sources.commit_files import ReadRows
from transforms.write_run import RunSpec, WriteRun


STAGE = "read_pairs"
INVALID_ROW = "invalid_row"


def _label_name(value: object, names: tuple[str, ...]) -> object:
    """A ClassLabel id's name; anything else (a name, a bool, which is no id) as it is, for validation."""
    name = label_name(names, value)
    return value if name is None else name


def pair_from_row(raw: object, where: str) -> PairRecord | RejectRecord:
    """Validates a pair row (ClassLabel ids or names) into a `PairRecord`, or rejects it `invalid_row`."""
    if not isinstance(raw, dict):
        return RejectRecord.make(STAGE, INVALID_ROW, where, f"{where}: not an object", raw)
    row = dict(raw)
    for column in LABEL_COLUMNS:
        row[column.name] = _label_name(row.get(column.name), column.labels)
    fields = set(PreferencePair.model_fields)
    try:
        pair = PreferencePair.model_validate({k: v for k, v in row.items() if k in fields})
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return RejectRecord.make(STAGE, INVALID_ROW, str(row.get("idx") or where), f"{where}: {problems}", raw)
    return PairRecord(**{k: v for k, v in pair.model_dump().items() if k in PairRecord._fields})


def build(p: beam.Pipeline, cfg: FilterRun, out: str) -> None:
    """Wires the filter DAG into `p`: read the pairs, the final stages, the run's outputs."""
    patterns = p | "InputPatterns" >> beam.Create(sorted(cfg.inputs))
    read = patterns | "ReadPairs" >> ReadRows(STAGE, pair_from_row)
    splits, final_reports = finalize.final_stages(p, read.main, cfg.filters, {"rows_from": (STAGE,)})
    config = {"FinalConfig": cfg.filters.model_dump(mode="json")}
    schema, key, to_row = pair_schema(), label.pair_key, PairRecord.to_row
    spec = RunSpec(out, config_id(cfg.filters), config, schema, key, cfg.target_shard_bytes, to_row=to_row)
    _ = p | "WriteRun" >> WriteRun(spec, splits, read.reports + final_reports)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref filter` arguments."""
    runs.add_input_argument(parser, "pair files, JSONL or Parquet (local or gs://...)")
    runs.add_output_arguments(parser)
    finalize.add_arguments(parser)


def config_from_args(args: argparse.Namespace) -> FilterRun:
    """The run `codepref filter` was asked for, every flag and input checked.

    Raises:
        schemas.errors.UsageError: a bad config or a glob that matches no file; the message names the flag.
    """
    final_cfg = flags.final_config_from_args(args)
    runs.check_inputs({"--input": args.input})
    target = args.target_shard_mb * 1024 * 1024
    return FilterRun(inputs=tuple(args.input), filters=final_cfg, target_shard_bytes=target)


def run(cfg: FilterRun, out: str, beam_args: list[str]) -> dict:
    """Runs `codepref filter` into `out` and returns the manifest.

    Raises:
        schemas.errors.UsageError: the runner or `out` cannot be used.
    """
    return runs.run_beam(out, beam_args, lambda p, out: build(p, cfg, out))
