import json

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.config import MineConfig
from schemas.records import CommitRecord, RejectRecord
from transforms.licenses import PERMISSIVE_LICENSES
from transforms.sources.commit_files import ReadCommitFiles, commit_from_row


CFG = MineConfig(licenses=PERMISSIVE_LICENSES, max_file_bytes=1000)


def row(**kw):
    base = {
        "commit": "abc123",
        "subject": "Speed up lookup",
        "message": "Speed up lookup with a set",
        "repos": "acme/a,fork/a",
        "file_path": "src/find.py",
        "license": "MIT",
        "unix_time": 1_500_000_000,
        "old_contents": "def f(xs, y):\n    return y in list(xs)\n",
        "new_contents": "def f(xs, y):\n    return y in set(xs)\n",
        "returncode": 0,
    }
    base.update(kw)
    return base


def test_commit_from_row_keeps_a_good_row():
    got = commit_from_row(row(), CFG, "f:line 1")
    assert isinstance(got, CommitRecord)
    assert (got.language, got.license, got.repos) == ("Python", "mit", "acme/a,fork/a")


def test_commit_from_row_defaults_subject_to_first_line():
    got = commit_from_row(row(subject=None, message="Fix bug in parser\n\nlong body"), CFG, "w")
    assert got.subject == "Fix bug in parser"


def test_commit_from_row_reasons():
    cases = {
        "invalid_row": row(unix_time="yesterday"),
        "license_unknown": row(license=None),
        "license_not_permissive": row(license="gpl-3.0"),
        "unsupported_language": row(file_path="notes.txt"),
        "too_large": row(new_contents="x" * 2000),
        "binary": row(new_contents="a\x00b"),
        "not_utf8": row(new_contents="bad \udcff surrogate"),
        "empty_contents": row(old_contents=""),
        "message_too_short": row(message="fix"),
    }
    for reason, raw in cases.items():
        got = commit_from_row(raw, CFG, "f:line 3")
        assert isinstance(got, RejectRecord), reason
        assert got.reason == reason
    missing = commit_from_row({"commit": "x"}, CFG, "f:line 9")
    assert missing.reason == "invalid_row" and "f:line 9" in missing.detail and "message" in missing.detail


def test_read_commit_files_pipeline(tmp_path):
    jsonl = tmp_path / "part-0.jsonl"
    lines = [json.dumps(row(commit="c1")), "{not json", "", json.dumps(row(commit="c2", license="gpl-3.0")), "[1, 2]"]
    jsonl.write_text("\n".join(lines) + "\n")
    table = pa.Table.from_pylist([row(commit="p1"), row(commit="p2", file_path="x.rs")])
    pq.write_table(table, tmp_path / "part-1.parquet")
    (tmp_path / "part-2.parquet").write_bytes(b"PAR1 this is not parquet")
    with TestPipeline() as p:
        out = p | beam.Create([str(tmp_path / "part-*")]) | ReadCommitFiles(CFG)
        assert_that(out.commits | beam.Map(lambda c: c.commit), equal_to(["c1", "p1"]), label="CheckMain")
        assert_that(
            out.rejected | beam.Map(lambda r: (r.reason, r.detail.split(": ")[0].rsplit("/", 1)[-1])),
            equal_to(
                [
                    ("malformed_json", "part-0.jsonl:line 2"),
                    ("license_not_permissive", "gpl-3.0"),
                    ("invalid_row", "part-0.jsonl:line 5"),
                    ("unsupported_language", "x.rs"),
                    ("unreadable_file", "after 0 rows"),
                ]
            ),
            label="CheckRejected",
        )
        assert_that(out.scanned | beam.CombineGlobally(sum), equal_to([7]), label="CheckScanned")
