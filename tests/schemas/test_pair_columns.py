"""Every form of the pair agrees with the one declaration of its columns, `PAIR_COLUMNS`."""

import dataclasses
import typing

import pyarrow as pa
import pytest

from data_cards import metadata, sections
from data_cards.stats import in_memory_stats
from pipelines.audit.records import AuditPair
from schemas.arrow import class_label_names, pair_features, pair_schema
from schemas.labels import ASPECTS, LANGUAGES
from schemas.pair_columns import LABEL_COLUMNS, PAIR_COLUMNS, THEMIS_COLUMNS, PairColumn, columns_after, pair_column
from schemas.records import Count32, Float64, PairRecord, PreferencePair


NAMES = [c.name for c in PAIR_COLUMNS]
ARROW_TYPES = {
    "text": pa.large_string(),
    "string": pa.string(),
    "count": pa.int32(),
    "float": pa.float64(),
    "label": pa.int64(),
}
HUB_DTYPES = {"text": "large_string", "string": "string", "count": "int32", "float": "float64"}


def test_the_declaration_keeps_the_themis_columns_first_with_their_label_orders():
    assert THEMIS_COLUMNS == ("system", "input", "chosen", "rejected", "language", "aspect", "source", "idx")
    assert NAMES[: len(THEMIS_COLUMNS)] == list(THEMIS_COLUMNS)
    assert len(set(NAMES)) == len(NAMES)
    assert [(c.name, c.labels) for c in LABEL_COLUMNS] == [("language", LANGUAGES), ("aspect", ASPECTS)]
    assert pair_column("aspect").labels == ASPECTS
    with pytest.raises(KeyError):
        pair_column("criteria")


def test_a_column_is_checked_when_declared():
    with pytest.raises(ValueError, match="unknown kind"):
        PairColumn("x", "blob", "?")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="label column"):
        PairColumn("x", "label", "?")
    with pytest.raises(ValueError, match="label column"):
        PairColumn("x", "string", "?", labels=("a",))


def test_the_arrow_schema_is_the_declaration():
    schema = pair_schema()
    assert schema.names == NAMES
    for column in PAIR_COLUMNS:
        assert schema.field(column.name).type == ARROW_TYPES[column.kind], column.name
    for column in LABEL_COLUMNS:
        assert class_label_names(schema, column.name) == column.labels
        assert pair_features()[column.name].names == list(column.labels)


def test_the_boundary_model_is_the_declaration():
    fields = PreferencePair.model_fields
    assert list(fields) == NAMES
    types = {"text": str, "string": str, "count": Count32, "float": Float64}
    for column in PAIR_COLUMNS:
        field = fields[column.name]
        assert field.is_required() == column.required, column.name
        kind = typing.Literal[column.labels] if column.kind == "label" else types[column.kind]
        assert field.annotation == (kind if column.required else kind | None), column.name
    row = PreferencePair(input="q", chosen="a", rejected="b", language="Go", aspect="Helpfulness", source="s", idx="i")
    assert list(row.to_row()) == NAMES


def test_the_pipeline_record_is_the_declaration_in_its_positional_layout():
    themis = ("idx", "input", "chosen", "rejected", "language", "aspect", "source")
    head = (*themis, "origin_commit", "repository", "license", "file_path", "commit_message", "system")
    trailing = ("tests", "entry_point", "mutants")  # the execution stage's working fields
    assert PairRecord._fields == (*head, *(c.name for c in columns_after(head)), *trailing)
    assert set(PairRecord._fields) == {*NAMES, "commit_message", *trailing}
    required = [c.name for c in PAIR_COLUMNS if c.required]
    assert [f for f in PairRecord._fields if f not in PairRecord._field_defaults] == ["idx", *required[:-1]]
    working = {"commit_message": "", "tests": "", "entry_point": "", "mutants": ()}
    assert PairRecord._field_defaults == {**working, **{n: None for n in NAMES if n not in required}}
    for column in PAIR_COLUMNS:
        want = column.python_type if column.required else column.python_type | None
        assert PairRecord.__annotations__[column.name] == want, column.name
    plain = PairRecord("i", "q", "a", "b", "C#", "Memory Efficiency", "s")
    assert list(plain._asdict()) == list(PairRecord._fields[: -len(trailing)])  # a reject's payload, as before
    record = PairRecord("i", "q", "a", "b", "C#", "Memory Efficiency", "s", commit_message="m", tests="assert 1")
    assert record._asdict()["tests"] == "assert 1" and "mutants" not in record._asdict()
    row = record.to_row()
    assert sorted(row) == sorted(NAMES) and row["language"] == 7 and row["aspect"] == 4
    assert pa.Table.from_pylist([row], schema=pair_schema()).num_rows == 1


def test_the_audit_record_is_the_declaration_a_reviewer_sees():
    fields = [f.name for f in dataclasses.fields(AuditPair)]
    audited = [c.name for c in PAIR_COLUMNS if c.audited]
    assert sorted(fields) == sorted([*audited, "split", "rank"])
    assert "config_id" not in fields
    lead = ["idx", "split", "rank", "aspect", "language", "source", "system", "input", "chosen", "rejected"]
    tail = [
        "license",
        "repository",
        "file_path",
        "origin_commit",
        "judge_matches",
        "judge_contradictions",
        "judge_ties",
        "judge_errors",
        "rating_mean",
        "label_details",
    ]
    assert fields == lead + tail
    defaults = {f.name for f in dataclasses.fields(AuditPair) if f.default is None}
    assert defaults == set(tail)


def test_the_card_names_and_types_every_column():
    stats = in_memory_stats({"train": pa.Table.from_pylist([], schema=pair_schema())})
    features = metadata.card_metadata(stats, pair_features(), "x").to_dict()["dataset_info"]["features"]
    assert [f["name"] for f in features] == NAMES
    for column, feature in zip(PAIR_COLUMNS, features, strict=True):
        if column.kind == "label":
            names = dict(enumerate(column.labels))
            assert feature["dtype"] == {"class_label": {"names": {str(i): n for i, n in names.items()}}}
        else:
            assert feature["dtype"] == HUB_DTYPES[column.kind], column.name
    manifest = {"config_id": "cfg"}
    summary = sections.render_summary(stats, manifest, "org/x", "v1")
    for column in PAIR_COLUMNS:
        assert column.summary_words in summary, column.name
    themis = summary.index("are those of Themis-CodePreference")
    assert all(summary.index(f"`{name}`") < themis for name in THEMIS_COLUMNS)
