"""Boundary models (pydantic) and internal records for commits, pairs and rejects.

Pydantic validates what comes from outside (commit-file rows, configs); inside the
pipeline records are immutable NamedTuples, cheap to pickle between Beam workers.
Each record has an Arrow schema in `schemas.arrow`, and a test keeps the two equal.

The pair's two forms, `PreferencePair` (boundary) and `PairRecord` (pipeline), are
built from `schemas.pair_columns.PAIR_COLUMNS`, the one declaration of the pair's
columns: their fields, types and defaults follow it.
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

import collections
import itertools
import json
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from schemas.labels import ASPECTS, LANGUAGES
from schemas.pair_columns import LABEL_COLUMNS, PAIR_COLUMNS, PairColumn, columns_after, pair_column


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


_BOUNDARY_TYPES: dict[str, Any] = {"text": str, "string": str, "count": Count32, "float": Float64}


def _boundary_type(column: PairColumn) -> Any:
    """The pydantic type of a column: a `Literal` of its names for a label, `| None` unless required."""
    kind = Literal[column.labels] if column.kind == "label" else _BOUNDARY_TYPES[column.kind]  # type: ignore[valid-type]
    return kind if column.required else kind | None


def _with_label_ids(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with the names of its label columns replaced by their ClassLabel ids."""
    for column in LABEL_COLUMNS:
        row[column.name] = column.labels.index(row[column.name])
    return row


class _PreferencePairBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_row(self) -> dict[str, Any]:
        """Returns the pair as an Arrow-ready dict with ClassLabel ids."""
        return _with_label_ids(self.model_dump())


PreferencePair = create_model(
    "PreferencePair",
    __base__=_PreferencePairBase,
    __module__=__name__,
    __doc__="""A preference pair: the Themis-CodePreference columns plus provenance.

    `language` and `aspect` hold the ClassLabel names here; the Arrow schema
    stores their ids, in the orders of `schemas.labels`.
    """,
    **{c.name: (_boundary_type(c), ... if c.required else None) for c in PAIR_COLUMNS},
)
"""The boundary model of a pair row, one field per `PAIR_COLUMNS` entry in release order.

Required columns have no default, the others default to null; counts must fit int32
(`Count32`), `rating_mean` must be finite (`Float64`) and labels must be known names.
"""


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


_WORKING_FIELDS: dict[str, tuple[type, Any]] = {
    "commit_message": (str, ""),
    "tests": (str, ""),
    "entry_point": (str, ""),
    "mutants": (tuple, ()),
}
"""Fields of `PairRecord` that are no column: name → (type, default).

`commit_message` feeds the prompts; `tests` (a test program for `chosen`),
`entry_point` (the function they call) and `mutants` (the next candidate mutants,
`transforms.code.mutations.Mutant`s) feed the execution stage
(`transforms.execution`), which clears them."""

_TRAILING_WORKING_FIELDS: tuple[str, ...] = ("tests", "entry_point", "mutants")
"""Working fields laid out after every column (added after the layout was fixed)."""

_PAIR_RECORD_HEAD: tuple[str, ...] = (
    "idx",
    "input",
    "chosen",
    "rejected",
    "language",
    "aspect",
    "source",
    "origin_commit",
    "repository",
    "license",
    "file_path",
    "commit_message",
    "system",
)
"""The leading fields of `PairRecord`, fixed because records are built positionally; the other
columns follow in release order (`columns_after`)."""


def _record_field(name: str) -> tuple[str, Any, Any]:
    """(name, type, default) of a `PairRecord` field; a required column has no default (`...`)."""
    if name in _WORKING_FIELDS:
        return (name, *_WORKING_FIELDS[name])
    column = pair_column(name)
    if column.required:
        return name, column.python_type, ...
    return name, column.python_type | None, None


def _record_fields() -> list[tuple[str, Any, Any]]:
    """`PairRecord`'s fields: the head, then the other columns; checks that no required one follows a default."""
    names = (*_PAIR_RECORD_HEAD, *(c.name for c in columns_after(_PAIR_RECORD_HEAD)), *_TRAILING_WORKING_FIELDS)
    fields = [_record_field(n) for n in names]
    for (before, _, before_default), (name, _, default) in itertools.pairwise(fields):
        if default is ... and before_default is not ...:
            raise TypeError(
                f"PairRecord: required {name} follows {before}, which has a default (records are positional)"
            )
    return fields


_RECORD_FIELDS = _record_fields()


class PairRecord(
    collections.namedtuple(
        "_PairRecordFields",
        [name for name, _, _ in _RECORD_FIELDS],
        defaults=[default for _, _, default in _RECORD_FIELDS if default is not ...],
        module=__name__,
    )
):
    """A pair inside the pipeline: the pair schema's columns plus working context.

    The fields are `PAIR_COLUMNS` (names for `language` and `aspect`) plus the
    working fields (`_WORKING_FIELDS`), laid out as `_PAIR_RECORD_HEAD`, the other
    columns in release order, then `_TRAILING_WORKING_FIELDS`; required columns
    come first and have no default, the others default to None (working fields
    to their own defaults). `to_row` turns the labels into ClassLabel ids and
    drops the working fields, which are no column.
    """

    __slots__ = ()
    __annotations__ = {name: kind for name, kind, _ in _RECORD_FIELDS}  # as typing.NamedTuple sets them

    def _asdict(self) -> dict[str, Any]:
        """The fields by name; the trailing working fields only where they are set.

        So a pair's JSON (a reject's payload) is what it was before they existed,
        unless it carries tests or mutants.
        """
        data = super()._asdict()
        for name in _TRAILING_WORKING_FIELDS:
            if data[name] == _WORKING_FIELDS[name][1]:
                del data[name]
        return data

    def to_row(self) -> dict[str, Any]:
        """Returns the pair as an Arrow-ready dict of the pair schema."""
        row = self._asdict()
        for name in _WORKING_FIELDS:
            row.pop(name, None)
        return _with_label_ids(row)
