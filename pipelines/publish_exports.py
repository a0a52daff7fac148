"""Exports published with their release, as more configs of the same Hub repository.

`codepref publish OUT --export DIR` adds a `codepref export` of OUT: its files go to
`{format}/` in the repository (`trl/train-00000-of-00001.parquet`), and the card's
header lists it as the config named by its format (`trl`, `themis`), so
`datasets.load_dataset(REPO, "trl")` loads it. An export is published only when it
is complete and of this run: its `export.json` names the run's `config_id`, its
splits hold the run's files (names and rows), and its files hold those rows in the
columns of its format. Its pairs are scanned for secrets like the release's,
message contents included.
"""

__all__ = ["ReleaseExport", "export_card_config", "export_release_files", "read_exports"]

import dataclasses
import json
import os
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.errors import ReleaseError
from schemas.runs import EXPORT_FORMATS


@dataclasses.dataclass(frozen=True)
class ReleaseExport:
    """One checked export.

    Attributes:
        config: the Hub config it is published as: its format (`trl` or `themis`).
        folder: the export folder (absolute).
        splits: split → its files, relative to `folder` (`data/train-00000-of-00001.parquet`).
    """

    config: str
    folder: str
    splits: dict[str, tuple[str, ...]]

    def files(self) -> list[str]:
        """Every file of the export, relative to `folder`, split by split."""
        return [name for names in self.splits.values() for name in names]


def _summary(folder: str) -> dict[str, Any]:
    path = os.path.join(folder, "export.json")
    if not os.path.isfile(path):
        raise ReleaseError(
            f"--export {folder}: no export.json, so it is not a complete codepref export; run codepref export again"
        )
    try:
        with open(path, encoding="utf-8") as f:
            summary = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReleaseError(f"--export {folder}: export.json is not readable JSON ({exc})") from exc
    if not isinstance(summary, dict) or not isinstance(summary.get("splits"), dict):
        raise ReleaseError(f"--export {folder}: export.json has no splits; run codepref export again")
    return summary


def read_export(folder: str, manifest: dict[str, Any]) -> ReleaseExport:
    """Checks that `folder` is a complete export of the run of `manifest`.

    Raises:
        ReleaseError: it is not (the message says what differs and what to do).
    """
    from pipelines.export import export_schema

    folder = os.path.realpath(folder)  # the files are checked against it with their links resolved
    summary = _summary(folder)
    layout = summary.get("format")
    if layout not in EXPORT_FORMATS:
        raise ReleaseError(f"--export {folder}: export.json names format {layout!r}, not one of {EXPORT_FORMATS}")
    if summary.get("config_id") != manifest.get("config_id"):
        raise ReleaseError(
            f"--export {folder} is an export of run {summary.get('config_id')}, not of this run "
            f"({manifest.get('config_id')}): export this run (codepref export OUT --format {layout} --out DIR)"
        )
    expected = {
        split: (info["rows"], [os.path.basename(f) for f in info["files"]])
        for split, info in manifest["outputs"].items()
    }
    splits = {}
    for split, info in summary["splits"].items():
        files = info.get("files") if isinstance(info, dict) else None
        if not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
            files = None
        if files is None or expected.get(split) != (info.get("rows"), [os.path.basename(f) for f in files]):
            raise ReleaseError(
                f"--export {folder}: its split {split} is not the run's (other files or rows): export the run again"
            )
        splits[split] = tuple(files)
    if set(splits) != set(expected):
        raise ReleaseError(f"--export {folder} holds splits {sorted(splits)}, the run {sorted(expected)}: export again")
    export = ReleaseExport(layout, folder, splits)
    names = export_schema(layout).names
    for split, files in splits.items():
        rows = 0
        for name in files:
            path = os.path.realpath(os.path.join(folder, name))
            if not path.startswith(os.path.join(folder, "data") + os.sep) or not os.path.isfile(path):
                raise ReleaseError(f"--export {folder}: {name} is missing (or outside data/): export again")
            try:
                parquet = pq.ParquetFile(path)
            except (OSError, pa.ArrowException) as exc:
                raise ReleaseError(f"--export {folder}: {name} is not readable Parquet ({exc}): export again") from exc
            if parquet.schema_arrow.names != names:
                raise ReleaseError(f"--export {folder}: {name} does not hold the {layout} columns: export again")
            rows += parquet.metadata.num_rows
        if rows != manifest["outputs"][split]["rows"]:
            raise ReleaseError(
                f"--export {folder}: split {split} holds {rows} rows, the run's {manifest['outputs'][split]['rows']}"
            )
    return export


def read_exports(folders: list[str], manifest: dict[str, Any]) -> list[ReleaseExport]:
    """`read_export` of each folder; two exports of one format are refused (they would be one config).

    Raises:
        ReleaseError: an export is not of this run, or two share a format.
    """
    exports = [read_export(folder, manifest) for folder in folders]
    configs = [export.config for export in exports]
    if len(set(configs)) != len(configs):
        raise ReleaseError(f"--export: two exports of one format ({', '.join(configs)}); give one of each")
    return exports


def export_release_files(export: ReleaseExport) -> list[tuple[str, str]]:
    """(where the file is now, its path in the repository: `{config}/{name}`) for each file of the export."""
    return [(os.path.join(export.folder, name), f"{export.config}/{os.path.basename(name)}") for name in export.files()]


def export_card_config(export: ReleaseExport) -> Any:  # data_cards.metadata.CardConfig
    """The export as a config of the card's header: its splits' rows and bytes, and its features."""
    import datasets

    from data_cards.metadata import CardConfig
    from data_cards.stats import BATCH_SIZE, SplitStats

    splits, features = [], None
    for split, files in export.splits.items():
        rows = num_bytes = size = 0
        for name in files:
            path = os.path.join(export.folder, name)
            parquet = pq.ParquetFile(path)
            features = features or datasets.Features.from_arrow_schema(parquet.schema_arrow)
            for batch in parquet.iter_batches(batch_size=BATCH_SIZE):
                rows, num_bytes = rows + batch.num_rows, num_bytes + batch.nbytes
            size += os.path.getsize(path)
        repository = tuple(f"{export.config}/{os.path.basename(name)}" for name in files)
        splits.append(SplitStats(split, rows, num_bytes, size, repository))
    if features is None:  # no split has a file
        from pipelines.export import export_features

        features = export_features(export.config)
    return CardConfig(export.config, tuple(splits), features)
