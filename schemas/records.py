"""Boundary models (pydantic) and internal records for commits, pairs and rejects.

Pydantic validates what comes from outside (commit-file rows, configs); inside the
pipeline records are immutable NamedTuples, cheap to pickle between Beam workers.
Each record has an Arrow schema in `schemas.arrow`, and a test keeps the two equal.
"""

__all__ = [
    "CommitRecord",
    "Count32",
    "Float64",
    "Int64",
    "PairRecord",
    "CommitRow",
    "PreferencePair",
    "RejectRecord",
]

import json
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from schemas.labels import ASPECTS, LANGUAGES


Aspect = Literal[ASPECTS]  # type: ignore[valid-type]
Language = Literal[LANGUAGES]  # type: ignore[valid-type]

_DIGITS = re.compile(r"[+-]?[0-9]{1,19}")


def _integer(low: int, high: int) -> Callable[[Any], int]:
    """A check that a value is an integer in `[low, high]`, the range of its Arrow column.

    Integers are JSON integers, or strings of ASCII digits (BigQuery's JSON export
    writes INT64 columns so). Bools, floats (even `1e9`) and other strings are not.
    """

    def check(value: Any) -> int:
        if isinstance(value, str) and _DIGITS.fullmatch(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected an integer or a string of digits, got {type(value).__name__} {value!r:.40}")
        if not low <= value <= high:
            raise ValueError(f"{value:.3g} is outside [{low}, {high}]")
        return value

    return check


def _finite_float(value: Any) -> float:
    """A check that a value is a finite JSON number (not a bool, not text) that fits a float64."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r:.40}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{value!r:.40} is not a finite float64")
    return number


Int64 = Annotated[int, BeforeValidator(_integer(-(2**63), 2**63 - 1))]
"""An integer that fits an Arrow int64 column."""
Count32 = Annotated[int, BeforeValidator(_integer(0, 2**31 - 1))]
"""A count that fits an Arrow int32 column."""
Float64 = Annotated[float, BeforeValidator(_finite_float)]
"""A finite number for an Arrow float64 column."""


class CommitRow(BaseModel):
    """One row of a commit file, in the Themis git-commits column layout.

    Unknown columns (a BigQuery export's `returncode`, `stderr`, ...) are ignored.
    `subject` defaults to the first line of `message`; `language` and `criteria`,
    if present, are recomputed by the pipeline. `unix_time` must fit int64 (see
    `Int64`: digit strings count, bools and floats do not).
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    commit: str = Field(min_length=1)
    subject: str | None = None
    message: str
    repos: str
    file_path: str = Field(min_length=1)
    license: str | None = None
    unix_time: Int64
    old_contents: str
    new_contents: str


class CommitRecord(NamedTuple):
    """A single-file commit: the Themis git-commits columns plus language and criteria."""

    commit: str
    subject: str
    message: str
    repos: str
    file_path: str
    license: str
    unix_time: int
    old_contents: str
    new_contents: str
    language: str
    criteria: tuple[str, ...] = ()

    def to_row(self) -> dict[str, Any]:
        """Returns the record as an Arrow-ready dict with ClassLabel ids."""
        row = self._asdict()
        row["language"] = LANGUAGES.index(self.language)
        row["criteria"] = [ASPECTS.index(c) for c in self.criteria]
        return row


class PreferencePair(BaseModel):
    """A preference pair: the Themis-CodePreference columns plus provenance.

    `language` and `aspect` hold the ClassLabel names here; the Arrow schema
    stores their ids, in the orders of `schemas.labels`.
    """

    model_config = ConfigDict(extra="forbid")

    system: str | None = None
    input: str
    chosen: str
    rejected: str
    language: Language
    aspect: Aspect
    source: str
    idx: str
    origin_commit: str | None = None
    repository: str | None = None
    license: str | None = None
    file_path: str | None = None
    config_id: str | None = None
    judge_matches: Count32 | None = None
    judge_contradictions: Count32 | None = None
    judge_ties: Count32 | None = None
    judge_errors: Count32 | None = None
    rating_mean: Float64 | None = None
    label_details: str | None = None

    def to_row(self) -> dict[str, Any]:
        """Returns the pair as an Arrow-ready dict with ClassLabel ids."""
        row = self.model_dump()
        row["language"] = LANGUAGES.index(self.language)
        row["aspect"] = ASPECTS.index(self.aspect)
        return row


class RejectRecord(NamedTuple):
    """A record some stage did not pass on, with why.

    Attributes:
        stage: the stage's name, as in the manifest.
        reason: a stable snake_case reason from that stage's module.
        record_id: the content-hash id (or commit sha) of the rejected record.
        detail: a human-readable detail (line number, sizes, error text).
        payload: the rejected record, or its metadata, as JSON.
        duplicate_of: for a duplicate, the id of the row kept in its place.
    """

    stage: str
    reason: str
    record_id: str
    detail: str
    payload: str
    duplicate_of: str | None = None

    @classmethod
    def make(
        cls,
        stage: str,
        reason: str,
        record_id: str,
        detail: str = "",
        payload: Any = None,
        duplicate_of: str | None = None,
    ) -> "RejectRecord":
        """Builds a reject, serialising `payload` to JSON."""
        return cls(stage, reason, record_id, detail, json.dumps(payload, ensure_ascii=False, default=str), duplicate_of)

    def to_row(self) -> dict[str, Any]:
        """Returns the reject as an Arrow-ready dict."""
        return self._asdict()


class PairRecord(NamedTuple):
    """A pair inside the pipeline: the pair schema's columns plus working context.

    `language` and `aspect` hold names; `to_row` turns them into ClassLabel ids
    and drops `commit_message`, which only feeds the prompts.
    """

    idx: str
    input: str
    chosen: str
    rejected: str
    language: str
    aspect: str
    source: str
    origin_commit: str | None = None
    repository: str | None = None
    license: str | None = None
    file_path: str | None = None
    commit_message: str = ""
    system: str | None = None
    config_id: str | None = None
    judge_matches: int | None = None
    judge_contradictions: int | None = None
    judge_ties: int | None = None
    judge_errors: int | None = None
    rating_mean: float | None = None
    label_details: str | None = None

    def to_row(self) -> dict[str, Any]:
        """Returns the pair as an Arrow-ready dict of the pair schema."""
        row = self._asdict()
        del row["commit_message"]
        row["language"] = LANGUAGES.index(self.language)
        row["aspect"] = ASPECTS.index(self.aspect)
        return row
