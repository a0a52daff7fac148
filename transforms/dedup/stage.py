"""Exact and near deduplication as one composite: `Deduplicate` (stages `exact_dedup`, `near_dedup`).

Rows are PairRecords, CommitRecords or plain dicts; `DedupConfig.columns` names the
text compared. Steps, each a pure function or a separately tested transform:

1. `fingerprint`: the normalised text (`normalize`), its content hash (the node:
   a 62-bit int), its word n-gram shingle hashes and MinHash band keys.
2. Exact dedup: rows with the same content hash keep the one with the smallest
   row id; the others are rejected `exact_duplicate`.
3. LSH: band keys, packed per bundle into numpy arrays (`BandPacks`) and grouped
   by a key prefix, so the shuffle moves a few large arrays instead of one element
   per band and row; inside a group, rows sharing a band key are candidates
   (`bucket_edges`: each bucket's smallest node to the others).
4. `verify: exact`: the shingle sets of candidate rows only are recomputed and
   each candidate edge is kept when its exact Jaccard reaches the threshold.
5. `ConnectedComponents` → each component keeps its smallest content hash; the
   others are rejected `near_duplicate` with `duplicate_of` = the kept row's id.

Rows of a previous release (`previous`) join the graph with node ids that sort
first, so a component holding any of them keeps none of the new rows: those are
rejected `in_previous_release`, with `duplicate_of` the old row's id.

Rows are compressed (`transforms.packing`) and spilled to run files
(`transforms.spill`) in 1,024 partitions of their node; only references to the
runs are shuffled. A partition's rows are read back twice: for the candidate
rows' shingles (step 4) and to meet their verdicts (step 5). No worker holds all
signatures or all rows.

`Deduplicate` returns `transforms.manifest.StageOutputs`: `main` the kept rows,
`rejected` the rejects of both stages, and two reports, `exact_dedup` (its `out`:
one element per distinct content) and `near_dedup` (reading the exact stage's),
each name after the composite's `prefix`.
"""

__all__ = [
    "EXACT_STAGE",
    "NEAR_STAGE",
    "Deduplicate",
    "bucket_edges",
    "fingerprint",
    "normalize",
]

import dataclasses
import hashlib
import itertools
import json
import unicodedata
from collections.abc import Iterable
from typing import Any, NamedTuple

import apache_beam as beam
import numpy as np

from schemas.dedup import DedupConfig
from schemas.records import RejectRecord
from transforms import spill
from transforms.bundles import in_global_window
from transforms.dedup.components import ConnectedComponents
from transforms.dedup.minhash import Permutations, band_keys, optimal_bands, signatures
from transforms.dedup.shingles import hash_jaccard, shingle_hashes, shingle_hashes_batch
from transforms.manifest import StageOutputs, StageReport, count_input
from transforms.metrics import TAG_MAIN, Progress, beam_counter
from transforms.packing import pack, unpack


EXACT_STAGE, NEAR_STAGE = "exact_dedup", "near_dedup"
EXACT_DUPLICATE, NEAR_DUPLICATE, IN_PREVIOUS = "exact_duplicate", "near_duplicate", "in_previous_release"
CURRENT = 1 << 62  # added to the nodes of current rows: a previous release's nodes sort first
_PREFIX_BITS = 4  # band-key groups per band: 2^4
_FLUSH = 1 << 20  # band entries buffered per bundle before a pack is emitted
_PARTITION_BITS = 10  # rows are spilled and joined in 2^10 partitions of their node
_PARTITION_BOUNDS = tuple(range(1, 1 << _PARTITION_BITS))  # each partition its own group of slices
TAG_MARKS, TAG_BANDS = "marks", "bands"  # fingerprint outputs: (node, row id) and packed (band group, entries)
TAG_EXACT, TAG_NEAR = "exact", "near"  # the rejects of each stage, as the verdicts are met


def field(row: Any, column: str) -> Any:
    """A column of a dict row or an attribute of a record."""
    return row.get(column) if isinstance(row, dict) else getattr(row, column, None)


def normalize(row: Any, columns: Iterable[str]) -> str:
    """The compared text: each column NFC-normalised, CRLF → LF, trailing spaces dropped, joined."""
    parts = []
    for column in columns:
        text = unicodedata.normalize("NFC", str(field(row, column) or "")).replace("\r\n", "\n")
        parts.append("\n".join(line.rstrip() for line in text.split("\n")).strip("\n"))
    return "\n\x1e\n".join(parts)


def content_hash(text: str) -> str:
    """16 hex digits of SHA-256: the content id of a normalised text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def row_id(row: Any, cfg: DedupConfig, text: str | None = None) -> str:
    """The id column's value, or the content hash when there is none."""
    value = field(row, cfg.id_column) if cfg.id_column else None
    return str(value) if value is not None else content_hash(normalize(row, cfg.columns) if text is None else text)


class Fingerprint(NamedTuple):
    """What the dedup steps need of one row."""

    node: int
    row_id: str
    keys: list[bytes]


def shingles_of(text: str, cfg: DedupConfig) -> np.ndarray:
    """Sorted unique shingle hashes of a normalised text."""
    return np.unique(shingle_hashes(text, cfg.ngram))


def fingerprint(row: Any, cfg: DedupConfig, perms: Permutations, current: bool = True) -> Fingerprint:
    """The node (62-bit content hash, plus `CURRENT` for current rows), row id and band keys of a row."""
    return fingerprints([row], cfg, perms, current)[0]


def fingerprints(batch: list[Any], cfg: DedupConfig, perms: Permutations, current: bool = True) -> list[Fingerprint]:
    """`fingerprint` of each row of a batch, hashing all their shingles and signatures in one call each.

    Batching matters: for texts of a few KB, numpy's per-call overhead costs more
    than the arithmetic (`minhash.signatures`).
    """
    texts = [normalize(row, cfg.columns) for row in batch]
    sigs = signatures(*shingle_hashes_batch(texts, cfg.ngram), perms)
    bands, rows = optimal_bands(cfg.threshold, cfg.num_perm, cfg.fp_weight, cfg.fn_weight)
    out = []
    for row, text, sig in zip(batch, texts, sigs, strict=True):
        node = (int(content_hash(text), 16) >> 2) + (CURRENT if current else 0)
        out.append(Fingerprint(node, row_id(row, cfg, text), band_keys(sig, bands, rows)))
    return out


def bucket_edges(pack_arrays: Iterable[bytes]) -> Iterable[tuple[int, int]]:
    """Packed `(band key, node)` entries of one group → edges from each bucket's smallest node to the others."""
    entries = np.unique(np.concatenate([np.frombuffer(b, dtype=np.uint64).reshape(-1, 2) for b in pack_arrays]), axis=0)
    keys, nodes = entries[:, 0], entries[:, 1]  # sorted by key, then node
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    for start, size in zip(starts[sizes > 1], sizes[sizes > 1], strict=True):
        smallest = int(nodes[start])
        for other in nodes[start + 1 : start + size]:
            yield smallest, int(other)


def _band_int(key: bytes) -> int:
    """A band key as a uint64: the band index in the top 10 bits, then 54 bits of its digest."""
    return (int.from_bytes(key[:2], "big") << 54) | (int.from_bytes(key[2:], "big") >> 10)


def _payload(row: Any) -> Any:
    return row if isinstance(row, dict) else row._asdict()


class _FingerprintFn(beam.DoFn):
    """Row → (node, packed row), (node, row id), and band entries packed per bundle (previous rows too).

    Rows are fingerprinted `BATCH` at a time (`fingerprints`); those left at the end
    of a bundle, like the last band packs, are emitted in the global window.
    """

    BATCH = 128  # rows per `fingerprints` call: most of the speed-up of batching, little memory

    def __init__(self, cfg: DedupConfig, current: bool) -> None:
        self._cfg, self._current = cfg, current

    def setup(self) -> None:
        self._perms = Permutations(self._cfg.num_perm, self._cfg.seed)
        self._progress = Progress("dedup", "rows fingerprinted")

    def start_bundle(self) -> None:
        self._entries: list[tuple[int, int]] = []
        self._rows: list[Any] = []

    def _flush(self):
        if not self._entries:
            return
        array = np.array(self._entries, dtype=np.uint64)
        self._entries = []
        groups = array[:, 0] >> np.uint64(54 - _PREFIX_BITS)  # band index + the digest's first bits
        order = np.argsort(groups, kind="stable")
        array, groups = array[order], groups[order]
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        for start, end in zip(starts, np.r_[starts[1:], len(groups)], strict=True):
            yield beam.pvalue.TaggedOutput(TAG_BANDS, (int(groups[start]), array[start:end].tobytes()))

    def _fingerprint_rows(self):
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        for row, fp in zip(rows, fingerprints(rows, self._cfg, self._perms, self._current), strict=True):
            yield beam.pvalue.TaggedOutput(TAG_MARKS, (fp.node, fp.row_id))
            self._entries.extend((_band_int(key), fp.node) for key in fp.keys)
            yield fp.node, pack(row)
        self._progress.tick(len(rows), len(rows))
        if len(self._entries) >= _FLUSH:
            yield from self._flush()

    def process(self, row: Any):
        self._rows.append(row)
        if len(self._rows) >= self.BATCH:
            yield from self._fingerprint_rows()

    def finish_bundle(self):
        yield from in_global_window(itertools.chain(self._fingerprint_rows(), self._flush()))


def partition(node: int) -> int:
    """The spill partition of a node: the top bits of its content hash (current and previous alike)."""
    return (node & (CURRENT - 1)) >> (62 - _PARTITION_BITS)


def _spill_item(item: tuple[int, bytes]) -> tuple[int, int, bytes]:
    node, packed = item
    return partition(node), node, packed


def _partition_slices(run: spill.RunIndex) -> Iterable[tuple[int, spill.Slice]]:
    return run.slices(_PARTITION_BOUNDS)


def _endpoints(edge: tuple[int, int]) -> Iterable[tuple[int, tuple[int, tuple[int, int]]]]:
    yield partition(edge[0]), (edge[0], edge)
    yield partition(edge[1]), (edge[1], edge)


def _candidate_shingles(item: tuple[int, dict[str, list]], cfg: DedupConfig):
    """One partition's rows and edge endpoints → (edge, (node, shingle hashes)) for each endpoint."""
    _, groups = item
    edges: dict[int, list[tuple[int, int]]] = {}
    for node, edge in groups["ends"]:
        edges.setdefault(node, []).append(edge)
    for node, rows in itertools.groupby(spill.read_slices(groups["slices"]), key=lambda x: x[1]):
        if node in edges:
            shingles = shingles_of(normalize(unpack(next(rows)[2]), cfg.columns), cfg).tobytes()
            for edge in edges[node]:
                yield edge, (node, shingles)


def _verified(item: tuple[tuple[int, int], Iterable[tuple[int, bytes]]], threshold: float):
    edge, sides = item
    sets = {node: np.frombuffer(raw, dtype=np.uint32) for node, raw in sides}
    if len(sets) == 2 and hash_jaccard(*sets.values()) >= threshold:
        yield edge


@dataclasses.dataclass
class VerifyEdges(beam.PTransform):
    """Keeps candidate edges whose rows' shingle sets have exact Jaccard ≥ the threshold.

    Each partition's edge endpoints meet the partition's spilled rows; only the
    rows at an endpoint have their shingles recomputed.

    Attributes:
        slices: `(partition, spill.Slice)` of the spilled `(partition, node, packed row)`
            items of every row, current and previous.
        cfg: the dedup config (columns, n-gram size, threshold).
    """

    slices: beam.PCollection
    cfg: DedupConfig

    def expand(self, edges: beam.PCollection[tuple[int, int]]) -> beam.PCollection[tuple[int, int]]:
        return (
            {"ends": edges | "Endpoints" >> beam.FlatMap(_endpoints), "slices": self.slices}
            | "JoinRows" >> beam.CoGroupByKey()
            | "CandidateShingles" >> beam.FlatMap(_candidate_shingles, self.cfg)
            | "GroupByEdge" >> beam.GroupByKey()
            | "Jaccard" >> beam.FlatMap(_verified, self.cfg.threshold)
        )


def _first_ids(item: tuple[int, Iterable[str]]) -> tuple[int, str]:
    return item[0], min(item[1])


def _rep_ids(item: tuple[int, dict[str, list]]) -> Iterable[tuple[int, tuple[str, bool]]]:
    rep, groups = item
    rep_id = min(groups["first"]) if groups["first"] else f"{rep:016x}"
    for node in groups["members"]:
        if node >= CURRENT:
            yield node, (rep_id, rep < CURRENT)


def _decide_partition(item: tuple[int, dict[str, list]], cfg: DedupConfig, prefix: str):
    """One partition's spilled rows and near-duplicate verdicts → kept rows and rejects."""
    _, groups = item
    verdicts = dict(groups["rep"])
    for node, rows in itertools.groupby(spill.read_slices(groups["slices"]), key=lambda x: x[1]):
        if node >= CURRENT:  # a previous release's rows are only compared with
            yield from _decide([unpack(packed) for _, _, packed in rows], verdicts.get(node), cfg, prefix)


def _decide(rows: list[Any], verdict: tuple[str, bool] | None, cfg: DedupConfig, prefix: str):
    """Rows of one content: the first kept (or rejected near-duplicate by `verdict`), the others exact duplicates."""
    rows.sort(key=lambda r: (row_id(r, cfg), json.dumps(_payload(r), sort_keys=True, default=str)))
    first, first_id = rows[0], row_id(rows[0], cfg)
    if verdict is not None:
        rep_id, previous = verdict
        reason = IN_PREVIOUS if previous else NEAR_DUPLICATE
        detail = f"{reason.replace('_', ' ')}: kept {rep_id}"
        yield beam.pvalue.TaggedOutput(
            TAG_NEAR, RejectRecord.make(prefix + NEAR_STAGE, reason, first_id, detail, _payload(first), rep_id)
        )
    else:
        yield first
    for row in rows[1:]:
        detail = f"same normalised content as {first_id}"
        reject = RejectRecord.make(
            prefix + EXACT_STAGE, EXACT_DUPLICATE, row_id(row, cfg), detail, _payload(row), first_id
        )
        yield beam.pvalue.TaggedOutput(TAG_EXACT, reject)


def _counted(stage: str, name: str):
    count = beam_counter(stage)

    def tick(x: Any) -> Any:
        count(name if name != "rejected" else f"rejected:{x.reason}", 1)
        return x

    return tick


@dataclasses.dataclass
class Deduplicate(beam.PTransform):
    """Exact then near deduplication of rows; see the module docstring.

    Attributes:
        cfg: columns, shingles, threshold, MinHash and LSH settings.
        previous: rows of a previous release to dedup against (same columns), or None.
        prefix: put before the stage names, for a pipeline that dedups twice (`content_`).
    """

    cfg: DedupConfig
    previous: beam.PCollection | None = None
    prefix: str = ""

    def expand(self, rows: beam.PCollection):  # returns StageOutputs
        cfg = self.cfg
        current = rows | "Fingerprint" >> beam.ParDo(_FingerprintFn(cfg, True)).with_outputs(
            TAG_MARKS, TAG_BANDS, main=TAG_MAIN
        )
        marks, bands, spilled = [current[TAG_MARKS]], [current[TAG_BANDS]], [current[TAG_MAIN]]
        if self.previous is not None:
            old = self.previous | "FingerprintPrevious" >> beam.ParDo(_FingerprintFn(cfg, False)).with_outputs(
                TAG_MARKS, TAG_BANDS, main=TAG_MAIN
            )
            marks, bands, spilled = [*marks, old[TAG_MARKS]], [*bands, old[TAG_BANDS]], [*spilled, old[TAG_MAIN]]
        scratch = spill.spill_directory(rows.pipeline, "dedup")
        slices = (
            spilled
            | "AllRows" >> beam.Flatten()
            | "ByPartition" >> beam.Map(_spill_item)
            | "SpillRows" >> spill.SpillRuns(scratch)
            | "Slices" >> beam.FlatMap(_partition_slices)
        )
        first = current[TAG_MARKS] | "GroupByContent" >> beam.GroupByKey() | "FirstIds" >> beam.Map(_first_ids)
        all_first = marks | "AllMarks" >> beam.Flatten() | "GroupAllMarks" >> beam.GroupByKey()
        edges = (
            bands
            | "AllBands" >> beam.Flatten()
            | "GroupByBandPrefix" >> beam.GroupByKey()
            | "BucketEdges" >> beam.FlatMap(lambda kv: bucket_edges(kv[1]))
            | "DistinctEdges" >> beam.Distinct()
        )
        if cfg.verify == "exact":
            edges = edges | "VerifyEdges" >> VerifyEdges(slices, cfg)
        reps = edges | "Components" >> ConnectedComponents(cfg.rounds)
        verdicts = (
            {
                "members": reps | "KeyByRep" >> beam.Map(lambda nr: (nr[1], nr[0])),
                "first": all_first | "AllFirstIds" >> beam.Map(lambda kv: (kv[0], min(kv[1]))),
            }
            | "JoinRepIds" >> beam.CoGroupByKey()
            | "RepIds" >> beam.FlatMap(_rep_ids)
            | "ByPartitionOfNode" >> beam.Map(lambda nv: (partition(nv[0]), nv))
        )
        decided = (
            {"slices": slices, "rep": verdicts}
            | "JoinVerdicts" >> beam.CoGroupByKey()
            | "Decide"
            >> beam.FlatMap(_decide_partition, cfg, self.prefix).with_outputs(TAG_EXACT, TAG_NEAR, main=TAG_MAIN)
        )
        _ = decided[TAG_MAIN] | "DeleteSpill" >> spill.DeleteSpill(scratch)
        exact_stage, near_stage = self.prefix + EXACT_STAGE, self.prefix + NEAR_STAGE
        kept = decided[TAG_MAIN] | "CountKept" >> beam.Map(_counted(near_stage, "out"))
        exact_rejected = decided[TAG_EXACT] | "CountExact" >> beam.Map(_counted(exact_stage, "rejected"))
        near_rejected = decided[TAG_NEAR] | "CountNear" >> beam.Map(_counted(near_stage, "rejected"))
        reports = (
            StageReport(exact_stage, count_input(rows, "Exact"), first, exact_rejected),
            StageReport(near_stage, count_input(first, "Near"), kept, near_rejected, rows_from=(exact_stage,)),
        )
        rejected = (exact_rejected, near_rejected) | "AllRejects" >> beam.Flatten()
        return StageOutputs(kept, rejected, reports)
