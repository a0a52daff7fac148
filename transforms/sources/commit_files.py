"""Read commit rows from JSONL or Parquet files (local or any Beam filesystem).

The files hold the Themis git-commits columns (a BigQuery export, say), so they
feed the same pipeline as git mining. Each file is read by one worker, streaming
(JSONL line by line, Parquet batch by batch); `.gz` JSONL is decompressed.
Rows pass the same filters as mined commits (`transforms.commit_filters`) except
the diff checks, which a row cannot show.

`ReadCommitFiles`: PCollection[str] of glob patterns → `SourceOutputs`.
Reject reasons, besides the shared filter reasons: `malformed_json` (detail
`path:line N: error`), `invalid_row` (which fields are wrong), `unreadable_file`
(the whole file could not be read; counted once). Counters
(`codepref.read_commit_files`): `in`, `out`, `rejected:<reason>`.
"""

__all__ = ["STAGE", "ReadCommitFiles", "ReadRows", "commit_from_row", "iter_rows", "match_files"]

import dataclasses
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
import pydantic
from apache_beam.io.filesystems import FileSystems

from schemas.config import MineConfig
from schemas.labels import language_for_path
from schemas.records import CommitRecord, CommitRow, RejectRecord
from transforms import commit_filters as cf
from transforms.licenses import normalize_license
from transforms.metrics import Progress, beam_counter, route
from transforms.sources.git_repos import TAG_REJECTED, TAG_SCANNED, SourceOutputs


STAGE = "read_commit_files"
MALFORMED_JSON = "malformed_json"
INVALID_ROW = "invalid_row"
UNREADABLE_FILE = "unreadable_file"


def match_files(pattern: str) -> list[str]:
    """Returns the files a glob matches, sorted; a plain path matches itself."""
    results = FileSystems.match([pattern])[0].metadata_list
    return sorted(m.path for m in results)


def commit_from_row(raw: Any, cfg: MineConfig, where: str) -> CommitRecord | RejectRecord:
    """Validates one row and applies the commit filters."""
    try:
        row = CommitRow.model_validate(raw)
    except pydantic.ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        commit = raw.get("commit", "") if isinstance(raw, dict) else ""
        return RejectRecord.make(STAGE, INVALID_ROW, str(commit) or where, f"{where}: {fields}", raw)
    license = normalize_license(row.license)
    subject = row.subject if row.subject is not None else row.message.split("\n", 1)[0]
    payload = {"repos": row.repos, "commit": row.commit, "subject": subject, "where": where}
    repos = [r.strip() for r in row.repos.split(",") if r.strip()]
    problem = cf.metadata_reject(repos=repos, license=license, unix_time=row.unix_time, message=row.message, cfg=cfg)
    language = language_for_path(row.file_path)
    if not problem and language is None:
        problem = cf.UNSUPPORTED_LANGUAGE, row.file_path
    contents: cf.Contents | cf.Reject | None = None
    if not problem:
        try:
            contents = cf.decode_contents(row.old_contents.encode(), row.new_contents.encode(), cfg)
        except UnicodeEncodeError as exc:
            contents = cf.NOT_UTF8, str(exc)
        if not isinstance(contents, cf.Contents):
            problem = contents
    if problem or not isinstance(contents, cf.Contents):
        reason, detail = problem or ("", "")
        return RejectRecord.make(STAGE, reason, row.commit, detail, payload)
    return CommitRecord(
        commit=row.commit,
        subject=subject,
        message=row.message,
        repos=row.repos,
        file_path=row.file_path,
        license=license,
        unix_time=row.unix_time,
        old_contents=contents.old,
        new_contents=contents.new,
        language=language or "",
    )


def _iter_jsonl(path: str) -> Iterator[tuple[str, Any]]:
    with FileSystems.open(path) as f:
        for number, line in enumerate(f, start=1):
            text = line.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            where = f"{path}:line {number}"
            try:
                yield where, json.loads(text, strict=False)
            except json.JSONDecodeError as exc:
                yield where, exc


def _iter_parquet(path: str) -> Iterator[tuple[str, Any]]:
    import pyarrow.parquet as pq

    with FileSystems.open(path) as f:
        number = 0
        for batch in pq.ParquetFile(f).iter_batches(batch_size=512):
            for row in batch.to_pylist():
                number += 1
                yield f"{path}:row {number}", row


def iter_rows(path: str) -> Iterator[tuple[str, Any]]:
    """Yields `(where, row)` of a JSONL or Parquet file; a bad JSON line yields its error."""
    return _iter_parquet(path) if path.endswith(".parquet") else _iter_jsonl(path)


class _ReadRowsFn(beam.DoFn):
    """Reads one file's rows and turns each into a record or a reject with `convert`."""

    def __init__(
        self, stage: str, convert: Callable[..., Any], rows: Callable[[str], Iterator[tuple[str, Any]]]
    ) -> None:
        self._stage, self._convert, self._rows = stage, convert, rows

    def setup(self) -> None:
        self._count = beam_counter(self._stage)
        self._progress = Progress(self._stage, "rows")

    def process(self, path: str):
        seen = 0
        try:
            for where, raw in self._rows(path):
                seen += 1
                if isinstance(raw, json.JSONDecodeError):
                    detail = f"{where}: {raw.msg} at column {raw.colno}"
                    item = RejectRecord.make(self._stage, MALFORMED_JSON, where, detail, raw.doc[:2000])
                else:
                    item = self._convert(raw, where=where)
                yield route(item, self._count)
                if seen % 1000 == 0:
                    self._progress.tick(1000, 0)
        except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid, a ValueError
            seen += 1
            self._count(f"rejected:{UNREADABLE_FILE}", 1)
            reject = RejectRecord.make(self._stage, UNREADABLE_FILE, path, f"after {seen - 1} rows: {exc}", path)
            yield beam.pvalue.TaggedOutput(TAG_REJECTED, reject)
        self._count("in", seen)
        yield beam.pvalue.TaggedOutput(TAG_SCANNED, seen)


@dataclasses.dataclass
class ReadRows(beam.PTransform):
    """Reads JSONL/Parquet files matching globs, one worker a file, into records.

    Attributes:
        stage: the stage's name in counters, rejects and the manifest.
        convert: `convert(raw_row, where=...)` returns a record or a `RejectRecord`.
        rows: yields `(where, row)` of one input. The default reads JSONL or Parquet
            files, and the inputs are glob patterns to match; any other reader gets
            each input as given (e.g. a Hub dataset spec).
    """

    stage: str
    convert: Callable[..., Any]
    rows: Callable[[str], Iterator[tuple[str, Any]]] = iter_rows

    def expand(self, patterns: beam.PCollection[str]):  # returns SourceOutputs
        if self.rows is iter_rows:
            patterns = (
                patterns
                | "MatchFiles" >> beam.FlatMap(match_files)
                | "DistinctFiles" >> beam.Distinct()
                | "SpreadFiles" >> beam.Reshuffle()
            )
        fn = _ReadRowsFn(self.stage, self.convert, self.rows)
        out = patterns | "ReadRows" >> beam.ParDo(fn).with_outputs(TAG_SCANNED, TAG_REJECTED, main="commits")
        return SourceOutputs(out.commits, out[TAG_REJECTED], out[TAG_SCANNED])


@dataclasses.dataclass
class ReadCommitFiles(beam.PTransform):
    """Reads commit rows from files matching glob patterns; see the module docstring.

    Attributes:
        cfg: what to keep.
    """

    cfg: MineConfig

    def expand(self, patterns: beam.PCollection[str]):  # returns SourceOutputs
        return patterns | "Read" >> ReadRows(STAGE, functools.partial(commit_from_row, cfg=self.cfg))
