import gzip
import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import PairRecord, RejectRecord
from transforms.sources.instructions import (
    InstructionColumns,
    ReadInstructionSets,
    detect_language,
    extract_code,
    seed_pair,
)


PY = "def add(a, b):\n    return a + b\n"
GO = "package m\n\nfunc Add(a int, b int) int {\n\treturn a + b\n}\n"
COLS = InstructionColumns()


def test_extract_code_takes_the_first_fence_and_its_tag():
    assert extract_code(f"Here you go:\n```python\n{PY}```\nDone.") == (PY, "python")
    assert extract_code(PY) == (PY, None)


def test_detect_language_never_guesses_broken_code():
    assert detect_language(GO) == "Go"
    assert detect_language("def f(:\n  ???") is None


def test_seed_pair_languages_and_reasons():
    pair = seed_pair({"instruction": "Add two numbers.", "solution": PY, "language": "py"}, COLS, "f:1")
    assert isinstance(pair, PairRecord)
    assert (pair.language, pair.aspect, pair.source, pair.rejected) == (
        "Python",
        "Functional Correctness",
        "bugged_instruct",
        "",
    )
    fenced = seed_pair({"instruction": "Add.", "solution": f"```go\n{GO}```"}, COLS, "f:2")
    assert fenced.language == "Go" and fenced.chosen == GO
    detected = seed_pair({"instruction": "Add.", "solution": GO}, InstructionColumns(language=None), "f:3")
    assert detected.language == "Go"
    fixed = seed_pair(
        {"instruction": "Add.", "solution": PY, "language": "Go"}, InstructionColumns(fixed_language="Python"), "f:4"
    )
    assert fixed.language == "Python"
    cases = {
        "unknown_language": {"instruction": "x", "solution": PY, "language": "Brainfuck"},
        "invalid_row": {"instruction": "x"},
        "empty_solution": {"instruction": "x", "solution": "```python\n```"},
        "language_undetected": {"instruction": "x", "solution": "}}} ((( not code"},
    }
    for reason, raw in cases.items():
        got = seed_pair(raw, COLS, "f:9")
        assert isinstance(got, RejectRecord) and got.reason == reason, reason
    assert seed_pair(["not", "an", "object"], COLS, "f:9").reason == "invalid_row"


def test_read_instruction_sets_pipeline(tmp_path):
    rows = [{"instruction": "Add.", "solution": PY, "language": "Python"}, "{broken", {"instruction": "x"}]
    (tmp_path / "set.jsonl").write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    with TestPipeline() as p:
        out = p | beam.Create([str(tmp_path / "*.jsonl")]) | ReadInstructionSets()
        assert_that(out.main | beam.Map(lambda r: r.language), equal_to(["Python"]), label="CheckMain")
        assert_that(
            out.rejected | beam.Map(lambda r: r.reason),
            equal_to(["malformed_json", "invalid_row"]),
            label="CheckRejected",
        )
        assert_that(out.reports[0].scanned | beam.CombineGlobally(sum), equal_to([3]), label="CheckScanned")


def test_a_language_that_is_not_text_is_an_invalid_row_not_a_crash():
    for value in (5, True, False, 0, ["py"], {"name": "py"}, 1.5):
        got = seed_pair({"instruction": "Add.", "solution": PY, "language": value}, COLS, "f:5")
        assert isinstance(got, RejectRecord) and got.reason == "invalid_row", value
        assert got.detail == "f:5: language is not text", value
    assert seed_pair({"instruction": "Add.", "solution": PY, "language": None}, COLS, "f:6").language == "Python"


def test_compressed_instruction_sets_and_bad_bytes(tmp_path):
    good = json.dumps({"instruction": "Add.", "solution": PY, "language": "Python"}).encode()
    latin1 = json.dumps({"instruction": "Add, caf\xe9.", "solution": PY}, ensure_ascii=False).encode("latin-1")
    (tmp_path / "set.jsonl.gz").write_bytes(gzip.compress(good + b"\n" + latin1 + b"\n"))
    with TestPipeline() as p:
        out = p | beam.Create([str(tmp_path / "*.jsonl.gz")]) | ReadInstructionSets()
        assert_that(out.main | beam.Map(lambda r: r.language), equal_to(["Python"]), label="CheckMain")
        assert_that(out.rejected | beam.Map(lambda r: r.reason), equal_to(["not_utf8"]), label="CheckRejected")
        assert_that(out.reports[0].scanned | beam.CombineGlobally(sum), equal_to([2]), label="CheckScanned")


def test_seed_pair_carries_tests_and_entry_point_from_their_columns():
    columns = InstructionColumns(tests="test", entry_point="entry")
    fenced = "```python\ndef check(candidate):\n    assert candidate(1, 2) == 3\n```"
    row = {"instruction": "Add.", "solution": PY, "language": "Python", "test": fenced, "entry": " add "}
    pair = seed_pair(row, columns, "f:1")
    assert pair.tests == "def check(candidate):\n    assert candidate(1, 2) == 3\n"
    assert pair.entry_point == "add"
    assert pair.to_row().keys().isdisjoint({"tests", "entry_point", "mutants"})
    without = seed_pair({**row, "test": None, "entry": None}, columns, "f:2")
    assert (without.tests, without.entry_point) == ("", "")
    assert seed_pair(row, COLS, "f:3").tests == ""  # no test column set: the value is not read
    bad = seed_pair({**row, "test": 3}, columns, "f:4")
    assert isinstance(bad, RejectRecord) and bad.reason == "invalid_row" and "test is not text" in bad.detail
