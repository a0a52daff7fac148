"""Explicit Arrow schemas, one per output; never inferred from rows.

The commit and pair schemas come from `datasets.Features`, so their metadata makes
`datasets` load `language`, `aspect` and `criteria` as ClassLabel with the Themis
names and order. The pair's features are derived from the one declaration of its
columns, `schemas.pair_columns.PAIR_COLUMNS`, and so are those of its exports
(`codepref export`, `pipelines.export`):

* `trl_features`: TRL's conversational preference layout, `prompt` / `chosen` /
  `rejected` as lists of `{"role", "content"}` messages, then every other pair
  column as provenance (`TRL_FOLDED_COLUMNS` are the ones the messages carry);
* `themis_features`: the Themis-CodePreference columns only (`THEMIS_COLUMNS`).
"""

__all__ = [
    "REJECT_SCHEMA",
    "TRL_FOLDED_COLUMNS",
    "TRL_MESSAGE_COLUMNS",
    "class_label_names",
    "commit_features",
    "commit_schema",
    "column_feature",
    "message_list_feature",
    "pair_features",
    "pair_schema",
    "themis_features",
    "themis_schema",
    "trl_features",
    "trl_schema",
]

import functools
import json

import pyarrow as pa

from schemas.labels import ASPECTS, LANGUAGES
from schemas.pair_columns import LABEL_COLUMNS, PAIR_COLUMNS, THEMIS_COLUMNS, PairColumn


REJECT_SCHEMA = pa.schema(
    [
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("detail", pa.large_string(), nullable=False),
        pa.field("payload", pa.large_string(), nullable=False),
        pa.field("duplicate_of", pa.string()),
    ]
)
"""Reject rows, one folder per stage under `rejects/`."""


_LABELS: dict[str, tuple[str, ...]] = {c.name: c.labels for c in LABEL_COLUMNS}


def class_label_names(schema: pa.Schema, column: str) -> tuple[str, ...]:
    """The ClassLabel names of a label column (`language`, `aspect`) as the file's `datasets` metadata records them.

    Files record their own names, so a release reads right even if a later codepref
    reorders the labels; a file without the metadata gets today's order.

    Raises:
        KeyError: `column` is not a label column of the pair schema.
    """
    default = _LABELS[column]
    meta = (schema.metadata or {}).get(b"huggingface")
    if meta is None:
        return default
    feature = json.loads(meta).get("info", {}).get("features", {}).get(column, {})
    return tuple(feature.get("names") or default)


def column_feature(column: PairColumn):  # noqa: ANN201 - datasets is imported lazily
    """Returns the `datasets` feature of one pair column: its Arrow type, or its ClassLabel."""
    import datasets

    if column.kind == "label":
        return datasets.ClassLabel(names=list(column.labels))
    dtype = {"text": "large_string", "string": "string", "count": "int32", "float": "float64"}[column.kind]
    return datasets.Value(dtype)


@functools.cache
def pair_features():  # noqa: ANN201 - datasets is imported lazily
    """Returns the `datasets.Features` of a preference pair, one feature per `PAIR_COLUMNS` entry."""
    import datasets

    return datasets.Features({column.name: column_feature(column) for column in PAIR_COLUMNS})


@functools.cache
def pair_schema() -> pa.Schema:
    """Returns the Arrow schema of a preference pair, with ClassLabel metadata."""
    return pair_features().arrow_schema


TRL_MESSAGE_COLUMNS: tuple[str, ...] = ("prompt", "chosen", "rejected")
"""The message columns of TRL's conversational preference layout, first in a TRL export."""

TRL_FOLDED_COLUMNS: tuple[str, ...] = ("system", "input", "chosen", "rejected")
"""The pair columns a TRL export carries as messages: `system` and `input` in `prompt`, the responses in
`chosen` and `rejected`; a null `system` is no system message, so nothing is lost."""


def message_list_feature():  # noqa: ANN201 - datasets is imported lazily
    """Returns the `datasets` feature of a list of chat messages: `[{"role": str, "content": large str}]`."""
    import datasets

    return datasets.List({"role": datasets.Value("string"), "content": datasets.Value("large_string")})


@functools.cache
def trl_features():  # noqa: ANN201 - datasets is imported lazily
    """Returns the `datasets.Features` of a pair in TRL's conversational layout.

    `prompt` (`[system?, user]`), `chosen` and `rejected` (`[assistant]`) are
    message lists; then every pair column but `TRL_FOLDED_COLUMNS`, in release
    order, with the release's features (`language`, `aspect` as ClassLabel).
    """
    import datasets

    messages = {name: message_list_feature() for name in TRL_MESSAGE_COLUMNS}
    provenance = {c.name: column_feature(c) for c in PAIR_COLUMNS if c.name not in TRL_FOLDED_COLUMNS}
    return datasets.Features({**messages, **provenance})


@functools.cache
def trl_schema() -> pa.Schema:
    """Returns the Arrow schema of a TRL export's pair, with ClassLabel metadata."""
    return trl_features().arrow_schema


@functools.cache
def themis_features():  # noqa: ANN201 - datasets is imported lazily
    """Returns the `datasets.Features` of the Themis-CodePreference columns, as the release declares them."""
    import datasets

    return datasets.Features({name: pair_features()[name] for name in THEMIS_COLUMNS})


@functools.cache
def themis_schema() -> pa.Schema:
    """Returns the Arrow schema of a Themis export's pair, with ClassLabel metadata."""
    return themis_features().arrow_schema


@functools.cache
def commit_features():  # noqa: ANN201 - datasets is imported lazily
    """Returns the `datasets.Features` of a commit row.

    The Themis git-commits columns, plus `language` (ClassLabel) and `criteria`
    (a list of ClassLabel over the aspect names).
    """
    import datasets

    text = datasets.Value("large_string")
    string = datasets.Value("string")
    return datasets.Features(
        {
            "commit": string,
            "subject": text,
            "message": text,
            "repos": string,
            "file_path": string,
            "license": string,
            "unix_time": datasets.Value("int64"),
            "old_contents": text,
            "new_contents": text,
            "language": datasets.ClassLabel(names=list(LANGUAGES)),
            "criteria": datasets.List(datasets.ClassLabel(names=list(ASPECTS))),
        }
    )


@functools.cache
def commit_schema() -> pa.Schema:
    """Returns the Arrow schema of a commit row, with ClassLabel metadata."""
    return commit_features().arrow_schema
