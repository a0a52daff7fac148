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
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines import finalize, label, mine
from schemas.arrow import pair_schema
from schemas.config import config_id
from schemas.labels import ASPECTS, LANGUAGES
from schemas.records import PairRecord, PreferencePair, RejectRecord
from transforms.manifest import StageReport, WriteManifest
from transforms.sinks import WriteParquetShards
from transforms.sources.commit_files import ReadRows


STAGE = "read_pairs"
INVALID_ROW = "invalid_row"


def _label_name(value: object, names: tuple[str, ...]) -> object:
    """A ClassLabel id's name; anything else (a name, a bool, which is no id) as it is, for validation."""
    is_id = isinstance(value, int) and not isinstance(value, bool)
    return names[value] if is_id and 0 <= value < len(names) else value


def pair_from_row(raw: object, where: str) -> PairRecord | RejectRecord:
    """Validates a pair row (ClassLabel ids or names) into a `PairRecord`, or rejects it `invalid_row`."""
    if not isinstance(raw, dict):
        return RejectRecord.make(STAGE, INVALID_ROW, where, f"{where}: not an object", raw)
    row = dict(raw)
    row["language"] = _label_name(row.get("language"), LANGUAGES)
    row["aspect"] = _label_name(row.get("aspect"), ASPECTS)
    fields = set(PreferencePair.model_fields)
    try:
        pair = PreferencePair.model_validate({k: v for k, v in row.items() if k in fields})
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return RejectRecord.make(STAGE, INVALID_ROW, str(row.get("idx") or where), f"{where}: {problems}", raw)
    return PairRecord(**{k: v for k, v in pair.model_dump().items() if k in PairRecord._fields})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref filter` arguments."""
    parser.add_argument("--input", action="append", required=True, metavar="GLOB",
                        help="pair files, JSONL or Parquet (local or gs://...); repeatable")  # fmt: skip
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder: data/, rejects/, manifest.json")
    parser.add_argument("--target-shard-mb", type=int, default=256, help="uncompressed MB per Parquet shard")
    finalize.add_arguments(parser)


def run(args: argparse.Namespace, beam_args: list[str]) -> dict:
    """Runs `codepref filter` and returns the manifest.

    Raises:
        mine.UsageError: bad arguments, inputs or config.
    """
    mine.check_runner(beam_args)
    cfg = label.final_config_from_args(args)
    mine.check_inputs([], args.input)
    out = mine.resolve_output(args.out)
    mine.prepare_output(out)
    config = {"FinalConfig": cfg.model_dump(mode="json")}
    target = args.target_shard_mb * 1024 * 1024
    with beam.Pipeline(options=PipelineOptions(beam_args)) as p:
        read = p | "InputPatterns" >> beam.Create(sorted(args.input)) | "ReadPairs" >> ReadRows(STAGE, pair_from_row)
        reports = [StageReport(STAGE, read.scanned, read.commits, read.rejected)]
        data = {}
        for name, pairs in finalize.final_stages(p, read.commits, cfg, reports).items():
            data[name] = (
                pairs
                | f"PairRows{name}" >> beam.Map(PairRecord.to_row)
                | f"WritePairs{name}"
                >> WriteParquetShards(FileSystems.join(out, "data"), name, pair_schema(), label.pair_key, target)
            )
        rejects = mine.write_rejects(reports, out, target)
        _ = p | "WriteManifest" >> WriteManifest(out, config_id(cfg), config, reports, data, rejects)
    return mine.read_manifest(out)
