import datasets
import pyarrow as pa
import pytest

from schemas.arrow import REJECT_SCHEMA, commit_features, commit_schema, pair_features, pair_schema
from schemas.labels import ASPECTS, LANGUAGES, language_for_path
from schemas.records import CommitRecord, CommitRow, Count32, Float64, Int64, PreferencePair, RejectRecord


COMMIT_SCHEMA = commit_schema()


def _arrow_kind(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_list(t):
        return "list"
    raise AssertionError(t)


def test_commit_record_matches_commit_schema():
    assert list(CommitRecord._fields) == COMMIT_SCHEMA.names
    kinds = {"str": "str", "int": "int", "tuple": "list"}
    for name, annotation in CommitRecord.__annotations__.items():
        hint = getattr(annotation, "__name__", str(annotation))
        want = "int" if name == "language" else kinds[hint]  # a ClassLabel id
        assert want == _arrow_kind(COMMIT_SCHEMA.field(name).type), name
    record = CommitRecord("c", "s", "m", "r", "a.py", "mit", 1, "o", "n", "Python", ("Runtime Efficiency",))
    row = record.to_row()
    assert row["language"] == 1 and row["criteria"] == [1]
    table = pa.Table.from_pylist([row], schema=COMMIT_SCHEMA)
    assert table.to_pylist() == [row]
    features = datasets.Features.from_arrow_schema(COMMIT_SCHEMA)
    assert features == commit_features()
    assert features["language"].names == list(LANGUAGES)
    assert features["criteria"].feature.names == list(ASPECTS)


def test_commit_row_fields_are_the_themis_columns():
    themis = [
        "commit",
        "subject",
        "message",
        "repos",
        "file_path",
        "license",
        "unix_time",
        "old_contents",
        "new_contents",
    ]
    assert list(CommitRow.model_fields) == themis
    assert CommitRow.model_fields["unix_time"].metadata == list(Int64.__metadata__)  # the int64 range check
    assert COMMIT_SCHEMA.field("unix_time").type == pa.int64()
    assert COMMIT_SCHEMA.names == [*themis, "language", "criteria"]


def test_reject_record_matches_reject_schema():
    assert list(RejectRecord._fields) == REJECT_SCHEMA.names
    row = RejectRecord.make("s", "r", "id", "d", {"k": "é"}).to_row()
    assert row["payload"] == '{"k": "é"}'
    assert pa.Table.from_pylist([row], schema=REJECT_SCHEMA).to_pylist() == [row]


def test_preference_pair_matches_pair_schema():
    schema = pair_schema()
    assert list(PreferencePair.model_fields) == schema.names
    nullable_ints = {"judge_matches", "judge_contradictions", "judge_ties", "judge_errors"}
    for name, field in PreferencePair.model_fields.items():
        kind = _arrow_kind(schema.field(name).type)
        if name in ("language", "aspect"):
            assert kind == "int"  # ClassLabel ids
        elif name in nullable_ints:
            assert field.annotation == (Count32 | None) and schema.field(name).type == pa.int32()  # 0..2**31-1
        elif name == "rating_mean":
            assert kind == "float" and field.annotation == (Float64 | None)
        else:
            assert kind == "str", name
    pair = PreferencePair(
        input="q", chosen="a", rejected="b", language="C#", aspect="Memory Efficiency", source="commits", idx="x"
    )
    row = pair.to_row()
    assert row["language"] == 7 and row["aspect"] == 4
    assert pa.Table.from_pylist([row], schema=schema).num_rows == 1


def test_pair_schema_carries_themis_class_labels():
    features = datasets.Features.from_arrow_schema(pair_schema())
    assert features["language"].names == list(LANGUAGES)
    assert features["aspect"].names == list(ASPECTS)
    assert features == pair_features()
    assert LANGUAGES[:8] == ("JavaScript", "Python", "Ruby", "C++", "C", "Go", "Java", "C#")
    assert ASPECTS[3] == "Functional Correctness"


def test_pair_model_rejects_unknown_labels():
    with pytest.raises(ValueError):
        PreferencePair(input="q", chosen="a", rejected="b", language="Rust", aspect="Helpfulness", source="s", idx="i")


@pytest.mark.parametrize(
    "path,language",
    [
        ("a/b.c", "C"),
        ("x.h", "C"),
        ("x.hpp", "C++"),
        ("X.CPP", "C++"),
        ("x.hh", "C++"),
        ("x.cs", "C#"),
        ("x.go", "Go"),
        ("x.java", "Java"),
        ("x.jsx", "JavaScript"),
        ("x.mjs", "JavaScript"),
        ("x.py", "Python"),
        ("Rakefile.rake", "Ruby"),
        ("x.ts", None),
        ("Makefile", None),
        ("README.md", None),
    ],
)
def test_language_for_path(path, language):
    assert language_for_path(path) == language
