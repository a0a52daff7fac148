"""The configs of the single-purpose pipelines: what one run reads and how each of its stages is set.

Each pipeline module builds one of these from its flags (`config_from_args`) and
runs it with `run(cfg, out, beam_args)`; `codepref build` runs a `BuildConfig`
(`schemas.build`) the same way. Paths and globs are taken as given: the flags'
checks (that they exist) name the flags, so they happen where the flags are read.

    MineRun     codepref mine           repositories and commit files, mined
    LabelRun    codepref label, mutate  commit sources and instruction sets, labelled
    FilterRun   codepref filter         pair files, through the final stages
    DedupRun    codepref dedup          any rows, deduplicated
    ExportRun   codepref export         a run's pairs, converted for a trainer (no Beam: `run(cfg)`)
"""

__all__ = ["EXPORT_FORMATS", "DedupRun", "ExportFormat", "ExportRun", "FilterRun", "LabelRun", "MineRun"]

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from schemas.build import InstructionSource
from schemas.config import CodeConfig, MineConfig
from schemas.dedup import DedupConfig
from schemas.final import FinalConfig
from schemas.llm import LabelConfig


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MineRun(_Frozen):
    """A `codepref mine` run.

    Attributes:
        repos: git repositories (absolute paths).
        commit_files: JSONL/Parquet globs of commit rows.
        mine: what the mining keeps.
    """

    repos: tuple[str, ...] = ()
    commit_files: tuple[str, ...] = ()
    mine: MineConfig


class LabelRun(_Frozen):
    """A `codepref label` run (and `codepref mutate`'s: instruction sets only).

    Attributes:
        repos: git repositories (absolute paths), mined into commit pairs.
        commit_files: JSONL/Parquet globs of commit rows.
        instructions: an instruction set for bugged-instruct pairs, or None.
        mine: what the mining keeps (its `target_shard_bytes` sizes every shard of the run).
        llm: the endpoints and labelling rules (`pipelines.label.NO_LLM` where no LLM stage runs).
        code: the tree-sitter and mutation settings.
        filters: the final stages.
    """

    repos: tuple[str, ...] = ()
    commit_files: tuple[str, ...] = ()
    instructions: InstructionSource | None = None
    mine: MineConfig
    llm: LabelConfig
    code: CodeConfig = CodeConfig()
    filters: FinalConfig = FinalConfig()


class FilterRun(_Frozen):
    """A `codepref filter` run.

    Attributes:
        inputs: JSONL/Parquet globs of pairs in the Themis-CodePreference columns.
        filters: the final stages.
        target_shard_bytes: uncompressed bytes per output shard.
    """

    inputs: tuple[str, ...] = Field(min_length=1)
    filters: FinalConfig = FinalConfig()
    target_shard_bytes: int = Field(256 * 1024 * 1024, gt=0)


class DedupRun(_Frozen):
    """A `codepref dedup` run.

    Attributes:
        inputs: JSONL/Parquet globs of the rows.
        previous: globs of a previous release's rows: rows near any of them are dropped.
        split: the file name prefix of the kept rows.
        dedup: columns, shingles, threshold, MinHash and LSH settings.
        target_shard_bytes: uncompressed bytes per output shard.
    """

    inputs: tuple[str, ...] = Field(min_length=1)
    previous: tuple[str, ...] = ()
    split: str = "train"
    dedup: DedupConfig
    target_shard_bytes: int = Field(256 * 1024 * 1024, gt=0)


ExportFormat = Literal["trl", "themis"]
"""The layouts of `codepref export`: TRL's conversational preference columns, or the Themis columns only."""
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
"""`ExportFormat`'s values: each a Hub config (and repository folder) when published with a release."""


class ExportRun(_Frozen):
    """A `codepref export` run.

    Attributes:
        run: the codepref run folder to read (absolute): `manifest.json` and `data/`.
        out: the export folder to write (absolute): `data/`, `export.json`, `README.md`.
        format: the layout of the exported pairs.
        overwrite: replace a previous export (or other files) in a non-empty `out`.
        batch_rows: rows read, converted and written at a time (one Parquet row group each).
    """

    run: str
    out: str
    format: ExportFormat = "trl"
    overwrite: bool = False
    batch_rows: int = Field(1000, gt=0)
