"""Benchmark inputs of `codepref eval`: a file, a glob, a CRB folder or a Hub id.

`--bench` is resolved in this order:

1. an existing file: Parquet, or JSON Lines for `.jsonl` / `.json`;
2. an existing folder in the Hub layout of Themis-CodeRewardBench (paper-facts
   §3.3): one subfolder per config (`Full/`, `Stratified_Aspect/`,
   `Stratified_Language/`, possibly under a top-level `data/`) holding Parquet
   files named after their split (`Full/Full-00000-of-00001.parquet`,
   `Stratified_Aspect/Functional_Correctness-*.parquet`), possibly under `data/`
   or in one folder per split (`Full/Full/0000.parquet`). `--config` picks the
   subfolder (default `Full`), `--split` one split (default: all of them);
3. a glob pattern: its matching files, sorted;
4. a Hub dataset id `owner/name` that is no local path, loaded with
   `datasets.load_dataset(id, name=config, split=split)`. That needs the Hub;
   offline, the error says to pass a local copy.

Rows stream file by file (Parquet batch by batch, only the `BENCH_COLUMNS`), and
reading stops after `limit` rows. Criterion and language values are kept as the
file spells them; readers that group by them normalise with `schemas.labels`.
This module imports neither pyarrow nor `datasets` at import time, so the CLI
can add its flags cheaply.
"""

__all__ = [
    "BENCH_COLUMNS",
    "CRB_CONFIGS",
    "DEFAULT_CONFIG",
    "RESULTS_FORMATS",
    "BenchInputError",
    "BenchSource",
    "add_bench_arguments",
    "bench_options_from_args",
    "crb_config_files",
    "iter_bench_rows",
    "read_bench",
    "resolve_bench",
    "split_of",
]

import argparse
import dataclasses
import glob
import json
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from schemas.errors import UsageError


BENCH_COLUMNS: tuple[str, ...] = ("prompt", "chosen", "rejected", "language", "aspect", "subset", "id")
"""The CodeRewardBench columns the evaluator reads."""
_REQUIRED = ("prompt", "chosen", "rejected")

CRB_CONFIGS: tuple[str, ...] = ("Full", "Stratified_Aspect", "Stratified_Language")
"""The configs of Themis-CodeRewardBench on the Hub (paper-facts §3.3)."""
DEFAULT_CONFIG = "Full"
"""The config read from a CRB folder or Hub id when `--config` is not given."""

RESULTS_FORMATS: tuple[str, ...] = ("default", "themis")
"""`results.json` layouts: codepref's flat one, or nested as Themis's evaluator writes it."""

_JSON_SUFFIXES = (".jsonl", ".json")
_FILE_SUFFIXES = (".parquet", *_JSON_SUFFIXES)
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


class BenchInputError(UsageError, ValueError):
    """A `--bench`, `--config` or `--split` value that cannot be read; the message says what to pass."""


@dataclasses.dataclass(frozen=True, slots=True)
class BenchSource:
    """Where the benchmark rows come from: local files or one Hub dataset.

    Attributes:
        files: Local Parquet / JSONL files, read in this order (empty for a Hub id).
        hub_id: The Hub dataset id, or None for local files.
        config: The CRB config read (folder or Hub id), else None.
        split: The one split read, or None for all of them.
    """

    files: tuple[str, ...] = ()
    hub_id: str | None = None
    config: str | None = None
    split: str | None = None


def split_of(path: str, config_folder: str) -> str:
    """Returns the split a Parquet file of a CRB config folder belongs to.

    A file in a folder (below an optional `data/`) belongs to the split that
    folder names (`Full/Full/0000.parquet`); a loose file to the split its name
    starts with (`Full/data/Full-00000-of-00001.parquet` is `Full`).
    """
    parts = os.path.relpath(path, config_folder).split(os.sep)
    if parts[0] == "data" and len(parts) > 1:
        parts = parts[1:]
    if len(parts) > 1:
        return parts[0]
    return os.path.splitext(parts[0])[0].split("-", 1)[0]


def _config_root(folder: str) -> str:
    """The folder holding the config subfolders: `folder`, or its `data/` when the configs are there."""
    data = os.path.join(folder, "data")
    if any(os.path.isdir(os.path.join(data, name)) for name in CRB_CONFIGS):
        return data
    return folder


def crb_config_files(folder: str) -> dict[str, tuple[str, ...]]:
    """Lists the configs of a folder in CRB's Hub layout.

    Args:
        folder: The dataset folder (a Hub snapshot or a copy of one).

    Returns:
        Config name to its Parquet files (sorted, at any depth), for every
        subfolder that holds at least one; hidden folders are skipped.
    """
    root = _config_root(folder)
    configs: dict[str, tuple[str, ...]] = {}
    for name in sorted(os.listdir(root)):
        sub = os.path.join(root, name)
        if name.startswith(".") or not os.path.isdir(sub):
            continue
        files = sorted(glob.glob(os.path.join(sub, "**", "*.parquet"), recursive=True))
        if files:
            configs[name] = tuple(files)
    return configs


def _folder_source(folder: str, config: str | None, split: str | None) -> BenchSource:
    config = config or DEFAULT_CONFIG
    configs = crb_config_files(folder)
    if not configs:
        raise BenchInputError(
            f"--bench {folder}: no config subfolder with Parquet files (CRB's Hub layout is "
            f"{', '.join(c + '/' for c in CRB_CONFIGS)}); for loose files pass a glob such as "
            f"'{os.path.join(folder, '*.parquet')}'"
        )
    if config not in configs:
        raise BenchInputError(f"--config {config}: no such config in {folder}; configs found: {', '.join(configs)}")
    files = configs[config]
    if split is not None:
        config_folder = os.path.join(_config_root(folder), config)
        splits = {split_of(path, config_folder): None for path in files}
        if split not in splits:
            found = ", ".join(splits)
            raise BenchInputError(f"--split {split}: no such split in config {config}; splits found: {found}")
        files = tuple(path for path in files if split_of(path, config_folder) == split)
    return BenchSource(files=files, config=config, split=split)


def resolve_bench(bench: str, config: str | None = None, split: str | None = None) -> BenchSource:
    """Decides what `--bench` names (see the module docstring for the order).

    Args:
        bench: A file, a CRB folder, a glob or a Hub dataset id.
        config: The CRB config (folders and Hub ids; `Full` when None).
        split: One split of that config (folders and Hub ids; all when None).

    Returns:
        The source to read with `iter_bench_rows`.

    Raises:
        BenchInputError: If nothing matches, the config or split is missing, or
            `--config` / `--split` is given with a file or glob.
    """
    if os.path.isdir(bench):
        return _folder_source(bench, config, split)
    if os.path.isfile(bench) or glob.has_magic(bench):
        files = [bench] if os.path.isfile(bench) else sorted(p for p in glob.glob(bench) if os.path.isfile(p))
        if not files:
            raise BenchInputError(f"--bench {bench}: the glob matches no file")
        for flag, value in (("--config", config), ("--split", split)):
            if value is not None:
                raise BenchInputError(f"{flag} {value}: applies to a CRB folder or a Hub id, not to {bench}")
        return BenchSource(files=tuple(files))
    if _HUB_ID.match(bench) and not bench.endswith(_FILE_SUFFIXES):
        return BenchSource(hub_id=bench, config=config or DEFAULT_CONFIG, split=split)
    raise BenchInputError(f"--bench {bench}: no such file or folder, and not a Hub dataset id (owner/name)")


def _file_rows(path: str, batch_rows: int) -> Iterator[dict]:
    if path.endswith(_JSON_SUFFIXES):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
        return
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    columns = [name for name in BENCH_COLUMNS if name in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
        yield from batch.to_pylist()


def _hub_rows(source: BenchSource) -> Iterator[dict]:
    where = f"{source.hub_id} (config {source.config}, split {source.split or 'all'})"
    local_copy = (
        "pass a local copy instead: a folder in CRB's Hub layout (Full/, Stratified_Aspect/, "
        "Stratified_Language/; e.g. from `hf download ID --repo-type dataset --local-dir DIR`), "
        "a Parquet/JSONL file or a glob"
    )
    try:
        import datasets
    except ImportError as exc:
        raise BenchInputError(f"--bench {where}: reading a Hub id needs the `datasets` package; {local_copy}") from exc
    try:
        loaded = datasets.load_dataset(source.hub_id, name=source.config, split=source.split)
    except Exception as exc:  # offline, unknown id, config or split: all told to the user the same way
        raise BenchInputError(
            f"--bench {where}: could not load it from the Hugging Face Hub ({type(exc).__name__}: {exc}); {local_copy}"
        ) from exc
    parts: Iterable = loaded.values() if isinstance(loaded, dict) else (loaded,)
    for part in parts:
        yield from part


def _bench_row(row: dict, where: str, row_number: int, position: int) -> dict:
    missing = [name for name in _REQUIRED if row.get(name) is None]
    if missing:
        raise BenchInputError(f"{where} row {row_number} lacks {missing}")
    record = {name: row.get(name) for name in BENCH_COLUMNS}
    if record["id"] is None:
        record["id"] = str(position)
    return record


def iter_bench_rows(source: BenchSource, limit: int | None = None, batch_rows: int = 1024) -> Iterator[dict]:
    """Streams benchmark rows with the `BENCH_COLUMNS` (absent ones as None).

    Args:
        source: From `resolve_bench`.
        limit: Stop after this many rows (None or 0: all).
        batch_rows: Rows per Parquet batch read.

    Yields:
        Row dicts; a row without an `id` gets its position in the stream.

    Raises:
        BenchInputError: If a row lacks `prompt`, `chosen` or `rejected`, or the
            Hub dataset cannot be loaded.
    """
    if source.hub_id is not None:
        streams: Iterable[tuple[str, Iterator[dict]]] = [(source.hub_id, _hub_rows(source))]
    else:
        streams = ((path, _file_rows(path, batch_rows)) for path in source.files)
    position = 0
    for where, rows in streams:
        for row_number, row in enumerate(rows):
            if limit and position >= limit:
                return
            yield _bench_row(row, where, row_number, position)
            position += 1


def read_bench(bench: str, limit: int | None = None, config: str | None = None, split: str | None = None) -> list[dict]:
    """Reads benchmark rows from anything `--bench` accepts.

    Args:
        bench: A file, a CRB folder, a glob or a Hub dataset id.
        limit: Keep only the first `limit` rows (None or 0: all).
        config: The CRB config (folders and Hub ids; `Full` when None).
        split: One split of that config (all when None).

    Returns:
        Row dicts with the `BENCH_COLUMNS` (missing optional ones as None).

    Raises:
        BenchInputError: As `resolve_bench` and `iter_bench_rows`; it is a
            `ValueError`.
    """
    return list(iter_bench_rows(resolve_bench(bench, config, split), limit))


def add_bench_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds `--config`, `--split` and `--results-format` to an `eval` parser.

    Args:
        parser: A parser that already has `trainer.config.add_eval_arguments`.

    Returns:
        The same parser.
    """
    parser.add_argument(
        "--config",
        default=None,
        help=f"config of a CRB folder or Hub id: {', '.join(CRB_CONFIGS)}; None means {DEFAULT_CONFIG}",
    )
    parser.add_argument("--split", default=None, help="one split of --config, e.g. Python; None means all of them")
    parser.add_argument(
        "--results-format",
        choices=RESULTS_FORMATS,
        default="default",
        help="results.json layout: default (flat) or themis (nested as Themis's evaluator writes it)",
    )
    return parser


def bench_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Returns the keyword arguments of `trainer.evaluate.evaluate` that `add_bench_arguments` adds."""
    return {"bench_config": args.config, "split": args.split, "results_format": args.results_format}
