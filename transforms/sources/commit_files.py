r"""Read commit rows from JSONL or Parquet files (local or any Beam filesystem).

The files hold the Themis git-commits columns (a BigQuery export, say), so they
feed the same pipeline as git mining. Each file is read by one worker, streaming
(JSONL line by line, Parquet batch by batch). JSONL may be compressed, by the
suffix Beam's `CompressionTypes` knows: `.gz`, `.bz2`, `.zst`/`.zstd`, `.xz`/`.lzma`,
`.deflate`; concatenated streams are read through. Rows pass the same filters as
mined commits (`transforms.commit_filters`) except the diff checks, which a row
cannot show.

A file that breaks part way (a truncated or corrupt stream, a damaged Parquet
page) keeps the rows read before the break and adds one `unreadable_file` reject
for the rest ("after N rows: ..."); a partial last line is part of that rest,
and a bad checksum, found at its stream's end, breaks the file after the stream's
rows. So a stage's `in` counts each file's rows read plus one per broken file,
and `in = out + rejected` holds exactly. A compressed Parquet file (`x.parquet.gz`)
is unreadable: Parquet compresses its own pages and needs random access.

`ReadCommitFiles`: PCollection[str] of glob patterns → `transforms.manifest.StageOutputs`
(`main`: the `CommitRecord`s; one report, stage `read_commit_files`, whose `in`
counts each file's rows read plus one per broken file).
Reject reasons, besides the shared filter reasons: `malformed_json` (detail
`path:line N: error`; also a number or nesting the JSON parser refuses),
`not_utf8` (a line, or a Parquet text cell, whose bytes are not UTF-8, or a JSON
`\u` escape of a lone surrogate, which no UTF-8 text holds; the payload shows
the bytes backslash-escaped), `invalid_row` (which fields are wrong, e.g.
`unix_time` a bool, a float or out of int64), `unreadable_file` (the file, or
its rest, could not be read; counted once). Counters
(`codepref.read_commit_files`): `in`, `out`, `rejected:<reason>`.
"""

__all__ = ["STAGE", "ReadCommitFiles", "ReadRows", "UnreadableFileError", "commit_from_row", "iter_rows", "match_files"]

import bz2
import codecs
import dataclasses
import functools
import gzip
import json
import lzma
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

import apache_beam as beam
import pydantic
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from schemas.config import MineConfig
from schemas.labels import language_for_path
from schemas.records import CommitRecord, CommitRow, RejectRecord
from transforms import commit_filters as cf
from transforms.licenses import normalize_license
from transforms.manifest import StageOutputs, StageReport
from transforms.metrics import TAG_MAIN, TAG_REJECTED, Progress, beam_counter, route
from transforms.sources.git_repos import TAG_SCANNED


STAGE = "read_commit_files"
MALFORMED_JSON = "malformed_json"
NOT_UTF8 = cf.NOT_UTF8
INVALID_ROW = "invalid_row"
UNREADABLE_FILE = "unreadable_file"

_CHUNK = 1 << 16
_FRAME_CHUNK = 1 << 12  # zstd/deflate input per step: bounds what one step can inflate to (~128 MiB for zstd)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD]([89a-fA-F][0-9a-fA-F]{2})")


class UnreadableFileError(OSError):
    """A file that cannot be read (on): not in its format, corrupt, or truncated."""


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


def _frames(raw: BinaryIO, new_decompressor: Callable[[], Any]) -> Iterator[bytes]:
    """Decompresses concatenated zstd or zlib frames; raises EOFError if the data ends inside one."""
    decompressor, data, fed = new_decompressor(), raw.read(_FRAME_CHUNK), False
    while data:
        fed = True
        if out := decompressor.decompress(data):
            yield out
        if decompressor.eof:
            data = decompressor.unused_data or raw.read(_FRAME_CHUNK)
            if data:
                decompressor = new_decompressor()
        else:
            data = raw.read(_FRAME_CHUNK)
    if fed and not decompressor.eof:
        raise EOFError("compressed data ended before the end of its frame")


def _zstd_decompressor() -> Any:  # noqa: ANN401 - zstandard is imported lazily
    import zstandard

    return zstandard.ZstdDecompressor(max_window_size=2**31).decompressobj()  # Beam's window limit


def _decompression_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, lzma.LZMAError)
    try:
        import zstandard
    except ImportError:  # pragma: no cover - Beam depends on zstandard
        return errors
    return (*errors, zstandard.ZstdError)


def _chunks(path: str) -> Iterator[bytes]:
    """Yields a file's bytes, decompressed by its suffix.

    Python's own readers (gzip, bz2, lzma) and `_frames` (zstd, deflate) check
    each stream's end marker and checksum, which Beam's `CompressedFile` does not:
    a truncated file would read as a shorter one.

    Raises:
        UnreadableFileError: the data is not in its format, is corrupt or is truncated.
    """
    kind = CompressionTypes.detect_compression_type(path)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        try:
            if kind == CompressionTypes.ZSTD:
                yield from _frames(raw, _zstd_decompressor)
                return
            if kind == CompressionTypes.DEFLATE:
                yield from _frames(raw, zlib.decompressobj)
                return
            opener = {
                CompressionTypes.GZIP: lambda f: gzip.GzipFile(fileobj=f, mode="rb"),
                CompressionTypes.BZIP2: bz2.BZ2File,
                CompressionTypes.LZMA: lzma.LZMAFile,
            }.get(kind)
            stream = opener(raw) if opener else raw
            read = stream.read1 if opener else stream.read  # read1: what one step inflated, kept if the next fails
            while chunk := read(_CHUNK):
                yield chunk
        except _decompression_errors() as exc:
            what = "truncated" if isinstance(exc, EOFError) else type(exc).__name__
            raise UnreadableFileError(f"{kind} data {what}: {exc}") from exc


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    r"""Splits chunks into lines at `\n`; a last line without one is a line too."""
    pending: list[bytes] = []
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            pending.append(chunk[start:end])
            yield b"".join(pending)
            pending, start = [], end + 1
        if start < len(chunk):
            pending.append(chunk[start:])
    if pending:
        yield b"".join(pending)


def _lone_surrogate_at(line: bytes) -> int:
    r"""The byte offset of the first surrogate `\u` escape in `line` that is not half of a pair."""
    escapes = [(m.start(), m.end(), int(m.group(1), 16) < 0xC00) for m in _SURROGATE_ESCAPE.finditer(line)]
    i = 0
    while i < len(escapes):
        start, end, high = escapes[i]
        if not (high and i + 1 < len(escapes) and escapes[i + 1][0] == end and not escapes[i + 1][2]):
            return start
        i += 2  # a high and a low surrogate escape: one character
    return 0


def _parse_line(text: str, line: bytes) -> Any:  # noqa: ANN401 - any JSON value, or the line's error
    """A line's JSON value, or a `JSONDecodeError`, or a `UnicodeDecodeError` for a lone surrogate escape."""
    try:
        value = json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        return exc
    except (ValueError, RecursionError) as exc:  # an integer of > 4300 digits; nesting deeper than the stack
        return json.JSONDecodeError(f"{type(exc).__name__}: {exc}", text, 0)
    if _SURROGATE_ESCAPE.search(line):  # cheap test first: most lines have no such escape at all
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            at = _lone_surrogate_at(line)
            reason = "a \\u escape of a lone surrogate, which UTF-8 cannot encode"
            return UnicodeDecodeError("utf-8", line, at, at + 6, reason)
    return value


def _iter_jsonl(path: str) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(_lines(_chunks(path)), start=1):
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        where = f"{path}:line {number}"
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield where, exc
            continue
        if text:
            yield where, _parse_line(text, line)


def _batch_rows(batch: Any) -> list[Any]:  # noqa: ANN401 - a pyarrow RecordBatch
    """A batch's rows; a row with a text cell that is not UTF-8 becomes that cell's `UnicodeDecodeError`."""
    try:
        return batch.to_pylist()
    except UnicodeDecodeError:
        pass
    rows = []
    for i in range(batch.num_rows):
        row = {}
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            try:
                row[name] = column[i].as_py()
            except UnicodeDecodeError as exc:
                row = UnicodeDecodeError("utf-8", exc.object, exc.start, exc.end, f"column {name}: {exc.reason}")
                break
        rows.append(row)
    return rows


def _iter_parquet(path: str) -> Iterator[tuple[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        number = 0
        try:
            for batch in pq.ParquetFile(f).iter_batches(batch_size=512):
                for row in _batch_rows(batch):
                    number += 1
                    yield f"{path}:row {number}", row
        except (pa.ArrowException, OSError) as exc:  # ArrowInvalid; OSError for a corrupt page
            raise UnreadableFileError(f"not readable as Parquet: {exc}") from exc


def _refuse_compressed_parquet(path: str) -> Iterator[tuple[str, Any]]:
    raise UnreadableFileError(
        f"a compressed Parquet file ({CompressionTypes.detect_compression_type(path)}) cannot be read: Parquet "
        "compresses its own pages and needs random access; decompress the file"
    )
    yield  # pragma: no cover - makes this a generator, so it raises when read, like the others


def iter_rows(path: str) -> Iterator[tuple[str, Any]]:
    """Yields `(where, row)` of a JSONL (plain or compressed) or Parquet file.

    A bad line yields its error as the row: a `json.JSONDecodeError` (malformed
    JSON) or a `UnicodeDecodeError` (bytes that are not UTF-8, or a lone surrogate
    escape), whose `object` holds the bytes.

    Raises:
        UnreadableFileError: while iterating, when the file cannot be read on.
    """
    kind = CompressionTypes.detect_compression_type(path)
    name = path.lower() if kind == CompressionTypes.UNCOMPRESSED else path.lower().rsplit(".", 1)[0]
    if name.endswith(".parquet"):
        return _iter_parquet(path) if kind == CompressionTypes.UNCOMPRESSED else _refuse_compressed_parquet(path)
    return _iter_jsonl(path)


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
                elif isinstance(raw, UnicodeDecodeError):
                    detail = f"{where}: {raw.reason} at byte {raw.start}"
                    shown = raw.object[:2000].decode("utf-8", "backslashreplace")
                    item = RejectRecord.make(self._stage, NOT_UTF8, where, detail, shown)
                else:
                    item = self._convert(raw, where=where)
                yield route(item, self._count)
                if seen % 1000 == 0:
                    self._progress.tick(1000, 0)
        except (OSError, ValueError) as exc:  # UnreadableFileError is an OSError; ArrowInvalid a ValueError
            seen += 1
            self._count(f"rejected:{UNREADABLE_FILE}", 1)
            reject = RejectRecord.make(self._stage, UNREADABLE_FILE, path, f"after {seen - 1} rows: {exc}", path)
            yield beam.pvalue.TaggedOutput(TAG_REJECTED, reject)
        self._count("in", seen)
        yield beam.pvalue.TaggedOutput(TAG_SCANNED, seen)


@dataclasses.dataclass
class ReadRows(beam.PTransform):
    """Reads JSONL/Parquet files matching globs, one worker a file, into records.

    Returns `StageOutputs`: `main` the records, one report of stage `stage`.

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

    def expand(self, patterns: beam.PCollection[str]):  # returns StageOutputs
        if self.rows is iter_rows:
            patterns = (
                patterns
                | "MatchFiles" >> beam.FlatMap(match_files)
                | "DistinctFiles" >> beam.Distinct()
                | "SpreadFiles" >> beam.Reshuffle()
            )
        fn = _ReadRowsFn(self.stage, self.convert, self.rows)
        out = patterns | "ReadRows" >> beam.ParDo(fn).with_outputs(TAG_SCANNED, TAG_REJECTED, main=TAG_MAIN)
        records, rejected = out[TAG_MAIN], out[TAG_REJECTED]
        return StageOutputs(records, rejected, (StageReport(self.stage, out[TAG_SCANNED], records, rejected),))


@dataclasses.dataclass
class ReadCommitFiles(beam.PTransform):
    """Reads commit rows from files matching glob patterns; see the module docstring.

    Attributes:
        cfg: what to keep.
    """

    cfg: MineConfig

    def expand(self, patterns: beam.PCollection[str]):  # returns StageOutputs
        return patterns | "Read" >> ReadRows(STAGE, functools.partial(commit_from_row, cfg=self.cfg))
