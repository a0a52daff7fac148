import bz2
import codecs
import gzip
import json
import lzma
import zlib

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.config import MineConfig
from schemas.records import CommitRecord, RejectRecord
from transforms.licenses import PERMISSIVE_LICENSES
from transforms.sources.commit_files import ReadCommitFiles, commit_from_row, iter_rows


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
        assert_that(out.main | beam.Map(lambda c: c.commit), equal_to(["c1", "p1"]), label="CheckMain")
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
        assert_that(out.reports[0].scanned | beam.CombineGlobally(sum), equal_to([7]), label="CheckScanned")


def commit_line(**kw):
    return (json.dumps(row(**kw)) + "\n").encode()


def read_file(path):
    """The rows of one file through the real reader, and the error it ended with (or None)."""
    got = []
    try:
        for where, raw in iter_rows(str(path)):
            got.append((where.rsplit(":", 1)[-1], raw))
    except OSError as exc:
        return got, exc
    return got, None


def check_files(pattern, kept, rejected, scanned):
    """Runs `ReadCommitFiles` on a glob; checks the kept commits, the (reason, detail) rejects and the rows in."""
    with TestPipeline() as p:
        out = p | beam.Create([pattern]) | ReadCommitFiles(CFG)
        assert_that(out.main | beam.Map(lambda c: c.commit), equal_to(kept), label="CheckMain")
        assert_that(
            out.rejected | beam.Map(lambda r: (r.reason, r.detail.rsplit("/", 1)[-1])),
            equal_to(rejected),
            label="CheckRejected",
        )
        assert_that(out.reports[0].scanned | beam.CombineGlobally(sum), equal_to([scanned]), label="CheckScanned")
    assert scanned == len(kept) + len(rejected)  # in = out + rejected


ROWS = b"".join(commit_line(commit=f"c{i}") for i in range(3))
COMPRESSORS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
    "deflate": zlib.compress,
}


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_compressed_jsonl_is_read_like_plain_jsonl(tmp_path, ext):
    compress = COMPRESSORS[ext]
    path = tmp_path / f"rows.jsonl.{ext}"
    path.write_bytes(compress(ROWS[:-1]) + compress(ROWS[-1:]))  # two concatenated streams, split inside a line
    got, error = read_file(path)
    assert error is None
    assert [(where, raw["commit"]) for where, raw in got] == [("line 1", "c0"), ("line 2", "c1"), ("line 3", "c2")]


@pytest.mark.parametrize("ext", sorted(COMPRESSORS))
def test_truncated_compressed_jsonl_keeps_the_lines_before_the_break_then_fails(tmp_path, ext):
    big = b"".join(commit_line(commit=f"c{i}", message=f"Speed up lookup {i} " + "x" * (i % 97)) for i in range(9000))
    data = COMPRESSORS[ext](big)  # bzip2 works in blocks of 900 kB: several of them
    path = tmp_path / f"rows.jsonl.{ext}"
    path.write_bytes(data[: len(data) * 3 // 4])
    got, error = read_file(path)
    assert isinstance(error, OSError) and "truncated" in str(error)
    assert 0 < len(got) < 9000
    assert [raw["commit"] for _, raw in got] == [f"c{i}" for i in range(len(got))]  # whole lines only, in order


def test_fake_and_corrupt_gzip_are_unreadable_files_not_crashes(tmp_path):
    (tmp_path / "fake.jsonl.gz").write_bytes(ROWS)  # plain text named .gz
    data = bytearray(gzip.compress(ROWS))
    data[-6] ^= 0xFF  # the CRC-32 trailer no longer matches
    (tmp_path / "crc.jsonl.gz").write_bytes(bytes(data))
    got, error = read_file(tmp_path / "fake.jsonl.gz")
    assert got == [] and isinstance(error, OSError) and "gzip" in str(error)
    got, error = read_file(tmp_path / "crc.jsonl.gz")
    assert len(got) == 3 and isinstance(error, OSError) and "CRC check failed" in str(error)  # found at the end


def test_read_commit_files_conserves_rows_of_broken_compressed_files(tmp_path):
    (tmp_path / "good.jsonl.gz").write_bytes(gzip.compress(commit_line(commit="g1") + commit_line(commit="g2")))
    (tmp_path / "good.jsonl.bz2").write_bytes(bz2.compress(commit_line(commit="b1")))
    (tmp_path / "fake.jsonl.gz").write_bytes(commit_line(commit="f1"))
    whole = gzip.compress(b"".join(commit_line(commit=f"t{i}") for i in range(2000)))
    (tmp_path / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    cut = [raw["commit"] for _, raw in read_file(tmp_path / "cut.jsonl.gz")[0]]
    assert 0 < len(cut) < 2000
    check_files(
        str(tmp_path / "*.jsonl.*"),
        kept=["b1", "g1", "g2", *cut],
        rejected=[
            ("unreadable_file", f"after {len(cut)} rows: {read_file(tmp_path / 'cut.jsonl.gz')[1]}"),
            ("unreadable_file", f"after 0 rows: {read_file(tmp_path / 'fake.jsonl.gz')[1]}"),
        ],
        scanned=len(cut) + 3 + 2,  # each broken file counts once, as its one reject
    )


def test_compressed_or_corrupt_parquet_is_an_unreadable_file(tmp_path):
    table = pa.Table.from_pylist([row(commit=f"p{i}") for i in range(50)])
    pq.write_table(table, tmp_path / "ok.parquet")
    data = (tmp_path / "ok.parquet").read_bytes()
    (tmp_path / "ok.parquet").unlink()
    (tmp_path / "a.parquet.gz").write_bytes(gzip.compress(data))
    (tmp_path / "b.parquet").write_bytes(gzip.compress(data))  # gzipped but named .parquet
    (tmp_path / "c.parquet").write_bytes(data[: len(data) // 2])  # truncated: no footer
    errors = []
    for name in ("a.parquet.gz", "b.parquet", "c.parquet"):
        got, error = read_file(tmp_path / name)
        assert got == [] and isinstance(error, OSError), name
        errors.append(("unreadable_file", f"after 0 rows: {error}"))
    assert "compressed" in errors[0][1]
    check_files(str(tmp_path / "*"), kept=[], rejected=errors, scanned=3)


def test_damaged_parquet_page_keeps_the_rows_before_it(tmp_path):
    table = pa.Table.from_pylist([row(commit=f"p{i}", message=f"Speed up lookup {i}") for i in range(3000)])
    pq.write_table(table, tmp_path / "rows.parquet", row_group_size=1000)
    data = bytearray((tmp_path / "rows.parquet").read_bytes())
    for at in range(len(data) // 2, len(data) // 2 + 64):
        data[at] ^= 0x5A
    (tmp_path / "rows.parquet").write_bytes(bytes(data))
    got, error = read_file(tmp_path / "rows.parquet")
    assert isinstance(error, OSError) and 0 < len(got) < 3000
    check_files(
        str(tmp_path / "rows.parquet"),
        kept=[f"p{i}" for i in range(len(got))],
        rejected=[("unreadable_file", f"after {len(got)} rows: {error}")],
        scanned=len(got) + 1,
    )


def test_parquet_cell_that_is_not_utf8_rejects_its_row_only(tmp_path):
    base = pa.Table.from_pylist([row(commit=f"p{i}") for i in range(3)])
    messages = pa.array([b"Speed up lookup ok", b"Speed up lookup \xff", b"Speed up lookup fine"]).view(pa.string())
    table = base.set_column(base.schema.get_field_index("message"), "message", messages)
    pq.write_table(table, tmp_path / "rows.parquet")
    check_files(
        str(tmp_path / "rows.parquet"),
        kept=["p0", "p2"],
        rejected=[("not_utf8", "rows.parquet:row 2: column message: invalid start byte at byte 16")],
        scanned=3,
    )


def test_non_utf8_line_is_rejected_not_replaced(tmp_path):
    bad = commit_line(commit="c2", new_contents="def f(xs, y):\n    return y in set(xs)  # caf\xe9\n")
    bad = bad.replace(b"caf\\u00e9", b"caf\xe9")  # Latin-1, not UTF-8
    assert b"caf\xe9" in bad
    (tmp_path / "rows.jsonl").write_bytes(commit_line(commit="c1") + bad + commit_line(commit="c3"))
    at = bad.index(b"\xe9")
    check_files(
        str(tmp_path / "rows.jsonl"),
        kept=["c1", "c3"],
        rejected=[("not_utf8", f"rows.jsonl:line 2: invalid continuation byte at byte {at}")],
        scanned=3,
    )


def test_lone_surrogate_escapes_are_not_utf8(tmp_path):
    paired = commit_line(commit="c1", message="Speed up lookup \U0001f600")  # json.dumps writes \ud83d\ude00
    lone = commit_line(commit="c2", message="Speed up lookup \udcff")
    assert b"\\udcff" in lone and b"\\ud83d\\ude00" in paired
    (tmp_path / "rows.jsonl").write_bytes(paired + lone)
    at = lone.index(b"\\udcff")
    check_files(
        str(tmp_path / "rows.jsonl"),
        kept=["c1"],
        rejected=[
            ("not_utf8", f"rows.jsonl:line 2: a \\u escape of a lone surrogate, which UTF-8 cannot encode at byte {at}")
        ],
        scanned=2,
    )


def test_json_the_parser_refuses_is_one_malformed_line_not_a_lost_file(tmp_path):
    lines = [
        commit_line(commit="c1"),
        b'{"unix_time": ' + b"9" * 5000 + b"}\n",
        b"[" * 100_000 + b"\n",
        commit_line(commit="c4"),
    ]
    (tmp_path / "rows.jsonl").write_bytes(codecs.BOM_UTF8 + b"".join(lines))  # a BOM is not part of line 1
    check_files(
        str(tmp_path / "rows.jsonl"),
        kept=["c1", "c4"],
        rejected=[
            (
                "malformed_json",
                "rows.jsonl:line 2: ValueError: Exceeds the limit (4300 digits) for integer string "
                "conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase the "
                "limit at column 1",
            ),
            (
                "malformed_json",
                "rows.jsonl:line 3: RecursionError: maximum recursion depth exceeded while decoding "
                "a JSON array from a unicode string at column 1",
            ),
        ],
        scanned=4,
    )


@pytest.mark.parametrize(
    "value",
    [1e30, -1e30, 10**30, -(10**30), 2**63, True, False, 1.5e9, 12.5, "soon", " 12 ", "1_000", "1e9", "١٢٣", None],
)
def test_unix_time_must_be_an_int64(value):
    got = commit_from_row(row(unix_time=value), CFG, "f:line 4")
    assert isinstance(got, RejectRecord) and got.reason == "invalid_row", value
    assert got.detail.startswith("f:line 4: unix_time: "), got.detail


def test_unix_time_digits_as_text_are_an_integer():
    # BigQuery's JSON export writes INT64 columns as strings.
    for text, value in (("1500000000", 1_500_000_000), ("-86400", -86400), ("123", 123), (str(2**63 - 1), 2**63 - 1)):
        got = commit_from_row(row(unix_time=text), CFG, "w")
        assert isinstance(got, CommitRecord) and got.unix_time == value and type(got.unix_time) is int
