"""Configuration of the final stages over finished pairs: filters, dedup, decontamination, split.

Read from YAML (`--filters FILE`); every field has the default the paper uses, so an
empty file gives Themis's final filtering. Relative local paths in the file (benchmark
files, a previous release, a tokenizer) are taken from the file's own folder.
"""

__all__ = [
    "DecontaminationConfig",
    "FinalConfig",
    "LengthConfig",
    "PerplexityConfig",
    "SplitConfig",
    "load_final_config",
]

import os
from typing import Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from schemas.config_files import field_errors, read_yaml
from schemas.dedup import PAIR_DEDUP, DedupConfig


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LengthConfig(_Frozen):
    """Token length limit of (prompt + the longer response).

    Attributes:
        max_tokens: pairs above this are rejected `too_long` (Themis: 4096).
        tokenizer: a local `tokenizer.json` or tokenizer folder; None: a character-based estimate.
        kind: `auto` (tokenizers for a tokenizer.json, else transformers), `tokenizers` or `transformers`.
    """

    max_tokens: int = Field(4096, ge=1)
    tokenizer: str | None = None
    kind: Literal["auto", "tokenizers", "transformers"] = "auto"


class PerplexityConfig(_Frozen):
    """Optional KenLM perplexity filter of prompts (off unless `model` is set).

    Attributes:
        model: a local KenLM `.arpa` or `.bin` model (Themis: trained on OSCAR English).
        max_perplexity: prompts above this are rejected `high_perplexity` (Themis: 1200).
    """

    model: str | None = None
    max_perplexity: float = Field(1200.0, gt=0)


class DecontaminationConfig(_Frozen):
    """13-gram decontamination against benchmark prompts.

    Attributes:
        benchmarks: globs of local (or gs://) JSONL/Parquet benchmark files; empty: off.
        column: the benchmark files' prompt column.
        ngram: n of the shared word n-gram that marks a pair contaminated.
        include_code: also check chosen and rejected code, not only the prompt.
    """

    benchmarks: tuple[str, ...] = ()
    column: str = "prompt"
    ngram: int = Field(13, ge=1)
    include_code: bool = False


class SplitConfig(_Frozen):
    """Train/validation split by a hash of the prompt.

    Attributes:
        validation_fraction: share of prompts in `validation` (0: train only).
        salt: mixed into the hash to draw another split.
    """

    validation_fraction: float = Field(0.02, ge=0.0, le=1.0)
    salt: str = ""


class FinalConfig(_Frozen):
    """The final stages, in pipeline order.

    Attributes:
        length: token length limit.
        english_only: reject prompts detected as another language than English.
        perplexity: optional KenLM prompt filter.
        secrets: reject pairs holding credentials or private keys.
        dedup: exact and near dedup of pairs.
        previous_release: globs of a previous release's Parquet files to dedup against.
        decontamination: n-gram overlap with benchmark prompts.
        split: train/validation split.
    """

    length: LengthConfig = LengthConfig()
    english_only: bool = True
    perplexity: PerplexityConfig = PerplexityConfig()
    secrets: bool = True
    dedup: DedupConfig = PAIR_DEDUP
    previous_release: tuple[str, ...] = ()
    decontamination: DecontaminationConfig = DecontaminationConfig()
    split: SplitConfig = SplitConfig()


def _resolve(path: str, base: str) -> str:
    return path if "://" in path or os.path.isabs(path) else os.path.join(base, path)


def _resolve_paths(cfg: FinalConfig, base: str) -> FinalConfig:
    decon = cfg.decontamination.model_copy(
        update={"benchmarks": tuple(_resolve(p, base) for p in cfg.decontamination.benchmarks)}
    )
    length = cfg.length
    if length.tokenizer:
        length = length.model_copy(update={"tokenizer": _resolve(length.tokenizer, base)})
    previous = tuple(_resolve(p, base) for p in cfg.previous_release)
    return cfg.model_copy(update={"decontamination": decon, "length": length, "previous_release": previous})


def load_final_config(path: str | None, flag: str = "--filters") -> FinalConfig:
    """Reads a final-stages YAML file (None: the defaults).

    Raises:
        ValueError: the file is missing, not YAML, or a field is wrong (named in the message).
    """
    if path is None:
        return FinalConfig()
    data = read_yaml(path, flag)
    try:
        return _resolve_paths(FinalConfig.model_validate(data), os.path.dirname(os.path.abspath(path)))
    except pydantic.ValidationError as exc:
        raise ValueError(f"{flag} {path}: {field_errors(exc)}") from exc
