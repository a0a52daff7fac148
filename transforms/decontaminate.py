r"""Drop pairs whose prompt shares a word 13-gram with a benchmark prompt.

Tokenisation (both sides alike): NFKC normalisation, `str.lower`, then maximal
runs of Unicode word characters, `re.findall(r"\w+", ...)`, so punctuation,
whitespace and case never hide an overlap. An n-gram is `n` consecutive tokens
joined by single spaces (n = 13 by default). A text with fewer than `n` tokens
has no n-grams, so short prompts are never flagged (the usual practice; it also
spares stock phrases). Each n-gram is hashed to 64 bits: its 8-byte BLAKE2b
digest, read little-endian (collisions: about 2^-64 per pair of n-grams).

The benchmark side is built once, in Beam: patterns are matched at pipeline
construction (one matching no file raises ValueError), each file (JSONL, `.json`
lines, `.gz` JSONL or Parquet, via Beam's `FileSystems`, so `gs://` works) is
hashed by one worker, and the hashes are merged into a `BenchmarkIndex` (sorted
unique uint64 hashes plus a parallel array of file numbers in the smallest
unsigned dtype) that reaches the pairs as a singleton side input and is probed
with `np.searchsorted`. A benchmark file that cannot be used (unreadable or
truncated, a bad JSON or non-UTF-8 line, row without the column, non-text value,
no rows) raises ValueError naming the file and column, failing the job: it is a
configuration error, never skipped.

`Decontaminate`: PCollection[PairRecord] → `transforms.manifest.StageOutputs` (`main`: the
clean pairs; one report, stage `decontaminate`).
Reject reason: `contaminated` (detail: field, benchmark file, first shared
n-gram; payload: the pair). Counters (`codepref.decontaminate`): `in`, `out`,
`rejected:contaminated`, and `benchmark_texts` read from benchmark files.
"""

__all__ = [
    "CONTAMINATED",
    "STAGE",
    "BenchmarkIndex",
    "Decontaminate",
    "benchmark_hashes",
    "build_index",
    "contamination",
    "in_memory_decontaminate",
    "ngram_hashes",
    "ngrams",
    "read_benchmark_texts",
    "tokens",
]

import dataclasses
import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystem import BeamIOError

from schemas.records import PairRecord, RejectRecord
from transforms.manifest import StageOutputs, StageReport, count_input
from transforms.metrics import TAG_MAIN, TAG_REJECTED, beam_counter, route
from transforms.sources.commit_files import iter_rows, match_files


STAGE = "decontaminate"
CONTAMINATED = "contaminated"
_WORD = re.compile(r"\w+")
_MAX_SHOWN = 200  # characters of the matching n-gram shown in a reject's detail


def tokens(text: str) -> list[str]:
    """The lowercase word tokens of `text` after NFKC normalisation."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def ngrams(text: str, n: int) -> list[str]:
    """The word `n`-grams of `text` in order, each joined by single spaces; none if it has fewer than `n` tokens."""
    words = tokens(text)
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def _hash_grams(grams: list[str]) -> np.ndarray:
    digests = b"".join(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest() for g in grams)
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def ngram_hashes(text: str, n: int) -> np.ndarray:
    """64-bit hashes of the word `n`-grams of `text`, in text order (uint64; repeats kept)."""
    return _hash_grams(ngrams(text, n))


def benchmark_hashes(texts: Iterable[str], n: int) -> np.ndarray:
    """The sorted unique n-gram hashes of many texts (uint64)."""
    parts = [ngram_hashes(t, n) for t in texts]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, np.uint64)


@dataclasses.dataclass(frozen=True)
class BenchmarkIndex:
    """The benchmark side: which n-gram hashes occur, and in which file first.

    Attributes:
        n: the n-gram length the index was built with.
        hashes: sorted unique n-gram hashes (uint64).
        files: for each hash, the number of a benchmark file holding it (index into `names`).
        names: the benchmark file paths, sorted.
    """

    n: int
    hashes: np.ndarray
    files: np.ndarray
    names: tuple[str, ...]


def build_index(per_file: Iterable[tuple[str, np.ndarray]], n: int) -> BenchmarkIndex:
    """Merges per-file n-gram hashes into one index; a hash in several files names the first, by path."""
    items = sorted(per_file, key=lambda item: item[0])
    names = tuple(name for name, _ in items)
    dtype = np.min_scalar_type(max(len(items) - 1, 0))
    if not items:
        return BenchmarkIndex(n, np.empty(0, np.uint64), np.empty(0, dtype), names)
    hashes = np.concatenate([np.asarray(h, dtype=np.uint64) for _, h in items])
    files = np.concatenate([np.full(len(h), i, dtype=dtype) for i, (_, h) in enumerate(items)])
    order = np.lexsort((files, hashes))
    hashes, files = hashes[order], files[order]
    first = np.ones(len(hashes), dtype=bool)
    first[1:] = hashes[1:] != hashes[:-1]
    return BenchmarkIndex(n, hashes[first], files[first], names)


def _readable(path: str) -> Iterator[tuple[str, object]]:
    """`iter_rows(path)`, with a file that cannot be read to its end as a ValueError."""
    try:
        yield from iter_rows(path)
    except OSError as exc:  # commit_files.UnreadableFileError: corrupt, truncated or not in its format
        raise ValueError(f"benchmark file {path}: cannot be read ({exc}); fix or drop the file") from exc


def read_benchmark_texts(path: str, column: str) -> Iterator[str]:
    """Yields the `column` text of every row of a JSONL or Parquet benchmark file (null values skipped).

    Raises:
        ValueError: the file cannot be read to its end, a line is not JSON or not
            UTF-8, a row is not an object or lacks `column`, a value is not text, or
            the file has no rows.
    """
    rows = 0
    for where, row in _readable(path):
        rows += 1
        if isinstance(row, json.JSONDecodeError):
            raise ValueError(f"benchmark file {where}: bad JSON ({row.msg}); fix the line or drop the file")
        if isinstance(row, UnicodeDecodeError):
            raise ValueError(f"benchmark file {where}: not UTF-8 ({row.reason} at byte {row.start}); fix the file")
        if not isinstance(row, dict) or column not in row:
            found = sorted(row) if isinstance(row, dict) else type(row).__name__
            raise ValueError(
                f"benchmark file {where}: no column {column!r} (found {found}); set the benchmark column option"
            )
        value = row[column]
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(f"benchmark file {where}: column {column!r} holds {type(value).__name__}, not text")
        yield value
    if not rows:
        raise ValueError(f"benchmark file {path} has no rows (column {column!r}); drop it from the patterns")


def contamination(pair: PairRecord, index: BenchmarkIndex, include_code: bool = False) -> str | None:
    """Returns why `pair` overlaps the benchmark (field, file, first shared n-gram), or None if it does not."""
    if not len(index.hashes):
        return None
    for field in ("input", "chosen", "rejected") if include_code else ("input",):
        grams = ngrams(getattr(pair, field) or "", index.n)
        if not grams:
            continue
        hashes = _hash_grams(grams)
        pos = np.minimum(np.searchsorted(index.hashes, hashes), len(index.hashes) - 1)
        hits = np.flatnonzero(index.hashes[pos] == hashes)
        if len(hits):
            i = int(hits[0])
            name = index.names[int(index.files[pos[i]])]
            return f"{field} shares a {index.n}-gram with {name}: {grams[i][:_MAX_SHOWN]!r}"
    return None


def _decide(pair: PairRecord, index: BenchmarkIndex, include_code: bool) -> PairRecord | RejectRecord:
    detail = contamination(pair, index, include_code)
    if detail is None:
        return pair
    return RejectRecord.make(STAGE, CONTAMINATED, pair.idx, detail, pair._asdict())


def in_memory_decontaminate(
    pairs: Iterable[PairRecord],
    benchmark_texts: Mapping[str, Iterable[str]] | Iterable[str],
    n: int = 13,
    include_code: bool = False,
    count: Callable[[str, int], None] | None = None,
) -> tuple[list[PairRecord], list[RejectRecord]]:
    """The stage without Beam: returns `(kept, rejected)`.

    Args:
        pairs: the pairs to check.
        benchmark_texts: benchmark prompts, by benchmark name, or one plain iterable (named `<in-memory>`).
        n: the n-gram length.
        include_code: also check the chosen and rejected code.
        count: `count(name, n)` for the stage counters; Beam counters when None.
    """
    count = count or beam_counter(STAGE)
    if not isinstance(benchmark_texts, Mapping):
        benchmark_texts = {"<in-memory>": benchmark_texts}
    index = build_index(((name, benchmark_hashes(texts, n)) for name, texts in benchmark_texts.items()), n)
    items = [_decide(pair, index, include_code) for pair in pairs]
    rejected = [item for item in items if isinstance(item, RejectRecord)]
    count("in", len(items))
    count("out", len(items) - len(rejected))
    for reject in rejected:
        count(f"rejected:{reject.reason}", 1)
    return [item for item in items if not isinstance(item, RejectRecord)], rejected


class _BenchmarkHashesFn(beam.DoFn):
    """Reads one benchmark file into `(path, sorted unique n-gram hashes)`."""

    def __init__(self, column: str, n: int) -> None:
        self._column, self._n = column, n

    def setup(self) -> None:
        self._count = beam_counter(STAGE)

    def process(self, path: str):
        texts = list(read_benchmark_texts(path, self._column))
        self._count("benchmark_texts", len(texts))
        yield path, benchmark_hashes(texts, self._n)


class _DecontaminateFn(beam.DoFn):
    def __init__(self, include_code: bool) -> None:
        self._include_code = include_code

    def setup(self) -> None:
        self._count = beam_counter(STAGE)

    def process(self, pair: PairRecord, index: BenchmarkIndex):
        self._count("in", 1)
        yield route(_decide(pair, index, self._include_code), self._count)


@dataclasses.dataclass
class Decontaminate(beam.PTransform):
    """Rejects pairs sharing an n-gram with a benchmark prompt; see the module docstring.

    Outputs (`StageOutputs`): `main`, the pairs that pass; `rejected`, one `contaminated`
    reject per dropped pair; one report, of stage `decontaminate`.
    With no patterns every pair passes.

    Attributes:
        benchmark_patterns: globs of benchmark files (JSONL or Parquet; local or any Beam filesystem).
        column: the benchmark files' text column.
        n: the n-gram length, in word tokens.
        include_code: also check the chosen and rejected code, not only the prompt.
    """

    benchmark_patterns: list[str] = dataclasses.field(default_factory=list)
    column: str = "prompt"
    n: int = 13
    include_code: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.benchmark_patterns, str):
            self.benchmark_patterns = [self.benchmark_patterns]
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        if not self.column:
            raise ValueError("column must name the benchmark files' text column")

    def _files(self) -> list[str]:
        files: set[str] = set()
        for pattern in self.benchmark_patterns:
            try:
                matched = match_files(pattern)
            except (BeamIOError, OSError, ValueError) as exc:
                raise ValueError(f"benchmark pattern {pattern!r} could not be matched: {exc}") from exc
            if not matched:
                raise ValueError(f"benchmark pattern {pattern!r} matches no file; fix or remove it")
            files.update(matched)
        return sorted(files)

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns StageOutputs
        index = (
            pairs.pipeline
            | "BenchmarkFiles" >> beam.Create(self._files())
            | "SpreadFiles" >> beam.Reshuffle()
            | "HashBenchmark" >> beam.ParDo(_BenchmarkHashesFn(self.column, self.n))
            | "CollectFiles" >> beam.combiners.ToList()
            | "BuildIndex" >> beam.Map(build_index, n=self.n)
        )
        out = pairs | "CheckOverlap" >> beam.ParDo(
            _DecontaminateFn(self.include_code), index=beam.pvalue.AsSingleton(index)
        ).with_outputs(TAG_REJECTED, main=TAG_MAIN)
        clean, rejected = out[TAG_MAIN], out[TAG_REJECTED]
        return StageOutputs(clean, rejected, (StageReport(STAGE, count_input(pairs, ""), clean, rejected),))
