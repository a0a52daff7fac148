"""Explicit Arrow schemas, one per output; never inferred from rows.

The commit and pair schemas come from `datasets.Features`, so their metadata makes
`datasets` load `language`, `aspect` and `criteria` as ClassLabel with the Themis
names and order.
"""

__all__ = [
    "REJECT_SCHEMA",
    "class_label_names",
    "commit_features",
    "commit_schema",
    "pair_features",
    "pair_schema",
]

import functools
import json

import pyarrow as pa

from schemas.labels import ASPECTS, LANGUAGES


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


def class_label_names(schema: pa.Schema, column: str) -> tuple[str, ...]:
    """The ClassLabel names of `language` or `aspect` as the file's `datasets` metadata records them.

    Files record their own names, so a release reads right even if a later codepref
    reorders the labels; a file without the metadata gets today's order.
    """
    default = {"language": LANGUAGES, "aspect": ASPECTS}[column]
    meta = (schema.metadata or {}).get(b"huggingface")
    if meta is None:
        return default
    feature = json.loads(meta).get("info", {}).get("features", {}).get(column, {})
    return tuple(feature.get("names") or default)


@functools.cache
def pair_features():  # noqa: ANN201 - datasets is imported lazily
    """Returns the `datasets.Features` of a preference pair."""
    import datasets

    text = datasets.Value("large_string")
    string = datasets.Value("string")
    count = datasets.Value("int32")
    return datasets.Features(
        {
            "system": text,
            "input": text,
            "chosen": text,
            "rejected": text,
            "language": datasets.ClassLabel(names=list(LANGUAGES)),
            "aspect": datasets.ClassLabel(names=list(ASPECTS)),
            "source": string,
            "idx": string,
            "origin_commit": string,
            "repository": string,
            "license": string,
            "file_path": string,
            "config_id": string,
            "judge_matches": count,
            "judge_contradictions": count,
            "judge_ties": count,
            "judge_errors": count,
            "rating_mean": datasets.Value("float64"),
            "label_details": text,
        }
    )


@functools.cache
def pair_schema() -> pa.Schema:
    """Returns the Arrow schema of a preference pair, with ClassLabel metadata."""
    return pair_features().arrow_schema


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
