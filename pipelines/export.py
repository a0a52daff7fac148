"""`codepref export`: a run's pairs in the columns a trainer reads, shard for shard.

    codepref export RUN --format trl|dpo|themis --out DIR [--overwrite]

For each split of RUN's `manifest.json`, the same files (names, number, rows and
their order) are written to `DIR/data/` in another layout:

* `trl` (`dpo` is the same layout): TRL's conversational preference columns, which
  `RewardTrainer` and `DPOTrainer` both take: `prompt` = `[system?, user]` messages
  (a system message only where `system` is not null), `chosen` and `rejected` = one
  assistant message each; then every other pair column as provenance
  (`schemas.arrow.trl_schema`). A release's prompt column is `input`, so TRL given
  the release itself trains on code alone.
* `themis`: the Themis-CodePreference columns only (`schemas.arrow.themis_schema`).

`language` and `aspect` stay ClassLabel ids with the names in the `datasets`
metadata, as in a release (a shard recording another label order has its ids
mapped by name). Shards stream a batch at a time (`--batch-rows`, a row group
each) into a hidden temporary file, renamed once complete; then `README.md` (the
Hub's YAML header and the loading recipe: `datasets.load_dataset(DIR)` loads the
folder) and, last, `export.json` (source run, `config_id`, format, rows and files
per split). Everything is checked first (`UsageError`, naming the flag): RUN's
manifest, its files and their rows; DIR is not RUN and is new or empty, or
`--overwrite` replaces an export there (never a codepref run). Local folders only.
"""

__all__ = ["FORMAT_ALIASES", "add_arguments", "config_from_args", "convert_batch", "main", "run"]

import argparse
import collections
import dataclasses
import json
import os
import sys
import uuid
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data_cards.export_card import render_export_card
from pipelines.runs import check_writable
from schemas.arrow import (
    class_label_names,
    pair_schema,
    themis_features,
    themis_schema,
    trl_features,
    trl_schema,
)
from schemas.errors import UsageError
from schemas.pair_columns import LABEL_COLUMNS, PAIR_COLUMNS
from schemas.runs import ExportFormat, ExportRun
from transforms.sinks import is_own_file


FORMAT_ALIASES: dict[str, ExportFormat] = {"trl": "trl", "dpo": "trl", "themis": "themis"}
"""`--format` → layout: TRL's `DPOTrainer` takes the same conversational columns as its `RewardTrainer`."""

EXPORT_FILES = ("export.json", "README.md")
"""What an export writes at the top of DIR besides `data/`, in the order `--overwrite` removes them."""

_REQUIRED = frozenset(c.name for c in PAIR_COLUMNS if c.required)


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """One split file of the run, checked.

    Attributes:
        split: its split.
        name: its path in the manifest, relative to the run folder (`data/train-00000-of-00001.parquet`).
        rows: the rows its metadata counts.
        relabel: per label column whose ids the file numbers in another order, old id → today's id.
    """

    split: str
    name: str
    rows: int
    relabel: dict[str, tuple[int, ...]]


def _relabel(schema: pa.Schema, where: str) -> dict[str, tuple[int, ...]]:
    """The id maps of a file whose ClassLabel metadata records other orders than today's."""
    maps = {}
    for column in LABEL_COLUMNS:
        names = class_label_names(schema, column.name)
        if names == column.labels:
            continue
        unknown = [n for n in names if n not in column.labels]
        if unknown:
            raise UsageError(f"{where}: its {column.name} labels {unknown} are not this codepref's; re-run the run")
        maps[column.name] = tuple(column.labels.index(n) for n in names)
    return maps


def _is_output(info: object) -> bool:
    """Whether a manifest's `outputs` entry is `{rows: int, files: [str]}`."""
    files = info.get("files") if isinstance(info, dict) else None
    return isinstance(files, list) and all(isinstance(n, str) for n in files) and isinstance(info.get("rows"), int)


def _manifest_outputs(run_dir: str) -> tuple[str, dict[str, Any]]:
    """The run's config id and `outputs`, checked for shape.

    Raises:
        UsageError: no readable manifest, or one without `config_id` and `outputs`.
    """
    path = os.path.join(run_dir, "manifest.json")
    if not os.path.isfile(path):
        raise UsageError(f"RUN {run_dir} holds no manifest.json: give the output folder of a codepref run")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"RUN {run_dir}: manifest.json is not readable JSON ({exc}); re-run the pipeline") from exc
    outputs = manifest.get("outputs") if isinstance(manifest, dict) else None
    if not (isinstance(outputs, dict) and isinstance(manifest.get("config_id"), str)) or not all(
        _is_output(info) for info in outputs.values()
    ):
        raise UsageError(f"RUN {run_dir}: manifest.json has no config_id and outputs {{split: {{rows, files}}}}")
    return manifest["config_id"], outputs


def read_source(run_dir: str) -> tuple[str, dict[str, list[SourceFile]]]:
    """Checks the run folder and returns its config id and split files.

    Raises:
        UsageError: no manifest; a listed file outside `data/`, missing, not Parquet or
            without a required pair column; a split's files hold other rows than the manifest says.
    """
    config_id, outputs = _manifest_outputs(run_dir)
    splits: dict[str, list[SourceFile]] = {}
    seen: set[str] = set()
    for split, info in outputs.items():
        files = []
        for name in info["files"]:
            where = f"RUN {run_dir}: {name}"
            norm = os.path.normpath(name)
            if os.path.isabs(name) or os.path.dirname(norm) != "data" or os.path.basename(norm) in seen:
                raise UsageError(f"{where}: manifest.json names a file outside data/ (or twice); re-run the pipeline")
            seen.add(os.path.basename(norm))
            path = os.path.join(run_dir, norm)
            if not os.path.isfile(path):
                raise UsageError(f"{where}: manifest.json lists it, but it is missing; re-run the pipeline")
            try:
                parquet = pq.ParquetFile(path)
            except (OSError, pa.ArrowException) as exc:
                raise UsageError(f"{where}: not a readable Parquet file ({exc}); re-run the pipeline") from exc
            missing = sorted(_REQUIRED - set(parquet.schema_arrow.names))
            if missing:
                raise UsageError(f"{where}: no column {', '.join(missing)}: export a run that writes pairs")
            files.append(SourceFile(split, norm, parquet.metadata.num_rows, _relabel(parquet.schema_arrow, where)))
        rows = sum(f.rows for f in files)
        if rows != info["rows"]:
            raise UsageError(
                f"RUN {run_dir}: manifest.json says split {split} has {info['rows']} rows, but its files "
                f"hold {rows}; re-run the pipeline"
            )
        splits[split] = files
    return config_id, splits


def prepare_export_folder(cfg: ExportRun) -> None:
    """Makes `cfg.out` ready: new or empty, or with `--overwrite` cleared of a previous export's outputs.

    Raises:
        UsageError: DIR is RUN (or its `data/`), a file, holds a codepref run, is not empty
            without `--overwrite`, or cannot be written.
    """
    out = cfg.out
    same = os.path.realpath(out) == os.path.realpath(cfg.run)
    if same or os.path.realpath(os.path.join(out, "data")) == os.path.realpath(os.path.join(cfg.run, "data")):
        raise UsageError(f"--out {out} is the run folder RUN itself; give another folder for the export")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out} is a file; give a folder for the export")
    if os.path.isdir(out) and os.listdir(out):
        if not cfg.overwrite:
            raise UsageError(f"--out {out} is not empty; pass --overwrite to replace what an export wrote there")
        if os.path.exists(os.path.join(out, "manifest.json")):
            raise UsageError(f"--out {out} holds a codepref run (manifest.json); --overwrite replaces exports only")
        for name in EXPORT_FILES:  # export.json first: without it, a half-rewritten export reads as unfinished
            if os.path.isfile(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
        data = os.path.join(out, "data")
        for name in os.listdir(data) if os.path.isdir(data) else []:
            if is_own_file(name):
                os.remove(os.path.join(data, name))
    check_writable(out)
    check_writable(os.path.join(out, "data"))


def pair_batch(batch: pa.RecordBatch, relabel: dict[str, tuple[int, ...]]) -> pa.RecordBatch:
    """A source batch in the pair schema: columns by name and cast, a missing optional one null, ids relabelled."""
    schema = pair_schema()
    columns = []
    for field in schema:
        if field.name not in batch.schema.names:
            columns.append(pa.nulls(batch.num_rows, field.type))  # an older codepref's shard: provenance added since
            continue
        column = batch.column(field.name)
        if field.name in relabel:
            column = pc.take(pa.array(relabel[field.name], pa.int64()), column)
        columns.append(column if column.type == field.type else column.cast(field.type))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _messages(roles: np.ndarray, content: pa.Array, offsets: np.ndarray) -> pa.ListArray:
    """A list array of `{"role", "content"}` messages: role ids (0 system, 1 user, 2 assistant) and contents."""
    role = pa.array(["system", "user", "assistant"], pa.string()).take(pa.array(roles, pa.int8()))
    messages = pa.StructArray.from_arrays([role, content], names=["role", "content"])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), messages)


def prompt_messages(system: pa.Array, user: pa.Array) -> pa.ListArray:
    """Per row `[{"role": "system", "content": system}?, {"role": "user", "content": user}]`: none for a null system."""
    has_system = pc.is_valid(system).to_numpy(zero_copy_only=False)
    rows, with_system = len(user), int(has_system.sum())
    offsets = np.concatenate([[0], np.cumsum(1 + has_system.astype(np.int64))])
    system_at, user_at = offsets[:-1][has_system], offsets[1:] - 1
    order = np.empty(offsets[-1], dtype=np.int64)  # message → position in [system values..., user values...]
    order[system_at], order[user_at] = np.arange(with_system), with_system + np.arange(rows)
    texts = pa.concat_arrays([pc.drop_null(system).cast(pa.large_string()), user.cast(pa.large_string())])
    roles = np.ones(offsets[-1], dtype=np.int8)
    roles[system_at] = 0
    return _messages(roles, texts.take(pa.array(order)), offsets)


def assistant_messages(response: pa.Array) -> pa.ListArray:
    """Per row `[{"role": "assistant", "content": response}]`."""
    rows = len(response)
    return _messages(np.full(rows, 2, np.int8), response.cast(pa.large_string()), np.arange(rows + 1))


def export_schema(layout: ExportFormat) -> pa.Schema:
    """The Arrow schema of an exported pair, with its `datasets` metadata."""
    return trl_schema() if layout == "trl" else themis_schema()


def export_features(layout: ExportFormat):  # noqa: ANN201 - datasets is imported lazily
    """The `datasets.Features` of an exported pair."""
    return trl_features() if layout == "trl" else themis_features()


def convert_batch(pairs: pa.RecordBatch, layout: ExportFormat) -> pa.RecordBatch:
    """A batch in the pair schema (`pair_batch`), in the export's layout."""
    schema = export_schema(layout)
    if layout == "themis":
        return pa.RecordBatch.from_arrays([pairs.column(f.name) for f in schema], schema=schema)
    messages = {
        "prompt": prompt_messages(pairs.column("system"), pairs.column("input")),
        "chosen": assistant_messages(pairs.column("chosen")),
        "rejected": assistant_messages(pairs.column("rejected")),
    }
    columns = [messages[f.name] if f.name in messages else pairs.column(f.name) for f in schema]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


@dataclasses.dataclass
class _Tally:
    """What the card counts while the files are written: Arrow bytes per split and rows per (source, licence)."""

    num_bytes: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    licences: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def add(self, split: str, pairs: pa.RecordBatch, written: pa.RecordBatch) -> None:
        self.num_bytes[split] += written.nbytes
        self.licences.update(zip(*(pairs.column(c).to_pylist() for c in ("source", "license")), strict=True))


def export_file(cfg: ExportRun, source: SourceFile, tally: _Tally) -> int:
    """Converts one split file into `DIR/data/` under the same name, a batch at a time; returns its rows."""
    name = os.path.basename(source.name)
    target = os.path.join(cfg.out, "data", name)
    temp = os.path.join(cfg.out, "data", f".tmp-{name.removesuffix('.parquet')}.{uuid.uuid4().hex}.partial")
    written = 0
    try:
        with pq.ParquetWriter(temp, export_schema(cfg.format), compression="zstd") as writer:
            for batch in pq.ParquetFile(os.path.join(cfg.run, source.name)).iter_batches(batch_size=cfg.batch_rows):
                pairs = pair_batch(batch, source.relabel)
                converted = convert_batch(pairs, cfg.format)
                writer.write_batch(converted)
                tally.add(source.split, pairs, converted)
                written += batch.num_rows
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise
    return written


def run(cfg: ExportRun) -> dict[str, Any]:
    """Exports `cfg.run` into `cfg.out` (see the module docstring); returns what `export.json` holds.

    Raises:
        UsageError: RUN or DIR cannot be used (`read_source`, `prepare_export_folder`).
    """
    config_id, splits = read_source(cfg.run)
    prepare_export_folder(cfg)
    tally, outputs = _Tally(), {}
    for split, files in splits.items():
        rows = sum(export_file(cfg, source, tally) for source in files)
        names = [f"data/{os.path.basename(f.name)}" for f in files]
        outputs[split] = {"rows": rows, "files": names}
        print(f"codepref export: {split}: {rows:,} rows in {len(names)} file(s) to {cfg.out}/data", file=sys.stderr)
    summary = {
        "source_run": cfg.run,
        "config_id": config_id,
        "format": cfg.format,
        "columns": export_schema(cfg.format).names,
        "splits": outputs,
    }
    card = render_export_card(cfg.out, summary, tally.num_bytes, tally.licences, export_features(cfg.format))
    with open(os.path.join(cfg.out, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(card)
    with open(os.path.join(cfg.out, "export.json"), "w", encoding="utf-8") as f:  # last: the export is complete
        f.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref export` arguments."""
    parser.add_argument("run", metavar="RUN", help="the output folder of a codepref run (data/, manifest.json)")
    parser.add_argument(
        "--format",
        choices=list(FORMAT_ALIASES),
        default="trl",
        help="trl (default): TRL's conversational prompt/chosen/rejected messages plus the provenance columns, "
        "for RewardTrainer and DPOTrainer; dpo: the same layout; themis: the Themis-CodePreference columns only",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="the export folder: data/, export.json, README.md")
    parser.add_argument("--overwrite", action="store_true", help="replace a previous export in a non-empty DIR")
    parser.add_argument(
        "--batch-rows", type=int, default=1000, metavar="N", help="rows converted at a time (default 1000)"
    )


def config_from_args(args: argparse.Namespace) -> ExportRun:
    """The export `codepref export` was asked for, its paths absolute.

    Raises:
        UsageError: `--batch-rows` is not positive.
    """
    if args.batch_rows <= 0:
        raise UsageError(f"--batch-rows {args.batch_rows}: give a positive number of rows")
    return ExportRun(
        run=os.path.abspath(args.run),
        out=os.path.abspath(args.out),
        format=FORMAT_ALIASES[args.format],
        overwrite=args.overwrite,
        batch_rows=args.batch_rows,
    )


def main(args: argparse.Namespace, extra: list[str]) -> int:
    """The `codepref export` handler: refuses arguments it does not know, exports, prints DIR.

    Raises:
        UsageError: an unknown argument, or RUN or DIR cannot be used.
    """
    if extra:
        raise UsageError(f"unknown arguments {' '.join(extra)}: see codepref export --help")
    cfg = config_from_args(args)
    run(cfg)
    print(cfg.out)
    return 0
