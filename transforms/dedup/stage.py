"""Exact and near deduplication as one composite: `Deduplicate` (stages `exact_dedup`, `near_dedup`).

Rows are PairRecords, CommitRecords or plain dicts; `DedupConfig.columns` names the
text compared. Steps, each a pure function or a separately tested transform:

1. `fingerprint`: the normalised text (`normalize`), its content hash (the node
   id), its word n-gram shingle hashes and MinHash band keys.
2. Exact dedup: rows with the same content hash keep the one with the smallest
   row id; the others are rejected `exact_duplicate`.
3. Band keys → GroupByKey → candidate edges (each bucket's smallest node to the
   others) → exact-Jaccard verification (`verify: exact`) → `ConnectedComponents`.
4. Each component keeps its smallest content hash; the others are rejected
   `near_duplicate` with `duplicate_of` = the kept row's id.

Rows of a previous release (`previous`) join the graph with node ids that sort
first, so a component holding any of them keeps none of the new rows: those are
rejected `in_previous_release`, with `duplicate_of` the old row's id.

Only ids, band keys and shingle hashes are shuffled until the last step, where the
rows meet their verdict in one CoGroupByKey; no worker holds all signatures.
"""

__all__ = [
    "EXACT_STAGE",
    "NEAR_STAGE",
    "DedupOutputs",
    "Deduplicate",
    "candidate_edges",
    "fingerprint",
    "normalize",
]

import dataclasses
import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import apache_beam as beam
import numpy as np

from schemas.dedup import DedupConfig
from schemas.records import RejectRecord
from transforms.dedup.components import ConnectedComponents
from transforms.dedup.minhash import Permutations, band_keys, optimal_bands, signature
from transforms.dedup.shingles import hash_jaccard, shingle_hashes
from transforms.metrics import Progress, beam_counter


EXACT_STAGE, NEAR_STAGE = "exact_dedup", "near_dedup"
EXACT_DUPLICATE, NEAR_DUPLICATE, IN_PREVIOUS = "exact_duplicate", "near_duplicate", "in_previous_release"
_CURRENT, _PREVIOUS = "1", "0"  # node prefixes: a previous release's nodes sort first


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


class Fingerprint(NamedTuple):
    """What the dedup steps need of one row."""

    node: str
    row_id: str
    keys: list[bytes]
    shingles: bytes  # sorted unique uint32 shingle hashes


def fingerprint(row: Any, cfg: DedupConfig, perms: Permutations, prefix: str = _CURRENT) -> Fingerprint:
    """The content-hash node id, row id, band keys and shingle set of a row."""
    text = normalize(row, cfg.columns)
    content = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    row_id = str(field(row, cfg.id_column)) if cfg.id_column and field(row, cfg.id_column) is not None else content
    hashes = np.unique(shingle_hashes(text, cfg.ngram))
    bands, rows = optimal_bands(cfg.threshold, cfg.num_perm, cfg.fp_weight, cfg.fn_weight)
    keys = band_keys(signature(hashes, perms), bands, rows)
    return Fingerprint(prefix + content, row_id, keys, hashes.tobytes())


def candidate_edges(item: tuple[bytes, Iterable[str]]) -> Iterable[tuple[str, str]]:
    """A bucket's members → edges from its smallest node to each other node."""
    members = sorted(set(item[1]))
    for other in members[1:]:
        yield members[0], other


def _payload(row: Any) -> Any:
    return row if isinstance(row, dict) else row._asdict()


class _FingerprintFn(beam.DoFn):
    def __init__(self, cfg: DedupConfig, prefix: str) -> None:
        self._cfg, self._prefix = cfg, prefix

    def setup(self) -> None:
        self._perms = Permutations(self._cfg.num_perm, self._cfg.seed)
        self._progress = Progress("dedup", "rows fingerprinted")

    def process(self, row: Any):
        fp = fingerprint(row, self._cfg, self._perms, self._prefix)
        self._progress.tick(1, 1)
        yield beam.pvalue.TaggedOutput("marks", (fp.node, fp.row_id))
        yield beam.pvalue.TaggedOutput("shingles", (fp.node, fp.shingles))
        for key in fp.keys:
            yield beam.pvalue.TaggedOutput("bands", (key, fp.node))
        if self._prefix == _CURRENT:
            yield fp.node, row


def _endpoints(edge: tuple[str, str]) -> Iterable[tuple[str, tuple[str, str]]]:
    yield edge[0], edge
    yield edge[1], edge


def _attach_shingles(item: tuple[str, dict[str, list]]) -> Iterable[tuple[tuple[str, str], tuple[str, bytes]]]:
    node, groups = item
    if groups["shingles"]:
        shingles = groups["shingles"][0]
        for edge in groups["edges"]:
            yield edge, (node, shingles)


def _verified(item: tuple[tuple[str, str], Iterable[tuple[str, bytes]]], threshold: float):
    edge, sides = item
    sets = {node: np.frombuffer(raw, dtype=np.uint32) for node, raw in sides}
    if len(sets) == 2 and hash_jaccard(*sets.values()) >= threshold:
        yield edge


@dataclasses.dataclass
class VerifyEdges(beam.PTransform):
    """Keeps candidate edges whose shingle sets have exact Jaccard ≥ `threshold`."""

    shingles: beam.PCollection  # (node, bytes)
    threshold: float

    def expand(self, edges: beam.PCollection[tuple[str, str]]) -> beam.PCollection[tuple[str, str]]:
        return (
            {"edges": edges | "Endpoints" >> beam.FlatMap(_endpoints), "shingles": self.shingles}
            | "JoinShingles" >> beam.CoGroupByKey()
            | "AttachShingles" >> beam.FlatMap(_attach_shingles)
            | "GroupByEdge" >> beam.GroupByKey()
            | "Jaccard" >> beam.FlatMap(_verified, self.threshold)
        )


class DedupOutputs(NamedTuple):
    """`main`: kept rows; `unique`: one element per distinct content (exact stage's out)."""

    main: beam.PCollection
    unique: beam.PCollection
    exact_rejected: beam.PCollection
    near_rejected: beam.PCollection


def _first_ids(item: tuple[str, Iterable[str]]) -> tuple[str, str]:
    return item[0], min(item[1])


def _rep_ids(item: tuple[str, dict[str, list]]) -> Iterable[tuple[str, str]]:
    rep, groups = item
    rep_id = min(groups["first"]) if groups["first"] else rep[1:]
    for node in groups["members"]:
        yield node, rep_id


def _decide(item: tuple[str, dict[str, list]], id_of: Callable[[Any], str]):
    node, groups = item
    rows = sorted(groups["rows"], key=lambda r: (id_of(r), json.dumps(_payload(r), sort_keys=True, default=str)))
    if not rows:
        return
    first = rows[0]
    if groups["rep"]:
        rep_id = groups["rep"][0]
        reason = IN_PREVIOUS if groups["previous"][0] else NEAR_DUPLICATE
        detail = f"{reason.replace('_', ' ')}: kept {rep_id}"
        yield beam.pvalue.TaggedOutput(
            "near", RejectRecord.make(NEAR_STAGE, reason, id_of(first), detail, _payload(first), rep_id)
        )
    else:
        yield first
    for row in rows[1:]:
        detail = f"same normalised content as {id_of(first)}"
        yield beam.pvalue.TaggedOutput(
            "exact",
            RejectRecord.make(EXACT_STAGE, EXACT_DUPLICATE, id_of(row), detail, _payload(row), id_of(first)),
        )


def _count(stage: str, name: str):
    count = beam_counter(stage)

    def tick(x: Any) -> Any:
        count(name, 1)
        return x

    return tick


@dataclasses.dataclass
class Deduplicate(beam.PTransform):
    """Exact then near deduplication of rows; see the module docstring.

    Attributes:
        cfg: columns, shingles, threshold, MinHash and LSH settings.
        previous: rows of a previous release to dedup against (same columns), or None.
    """

    cfg: DedupConfig
    previous: beam.PCollection | None = None

    def expand(self, rows: beam.PCollection):  # returns DedupOutputs
        cfg = self.cfg
        id_column = cfg.id_column

        def id_of(row: Any) -> str:
            value = field(row, id_column) if id_column else None
            return str(value) if value is not None else fingerprint_id(row)

        def fingerprint_id(row: Any) -> str:
            return hashlib.sha256(normalize(row, cfg.columns).encode("utf-8", "surrogatepass")).hexdigest()[:16]

        current = rows | "Fingerprint" >> beam.ParDo(_FingerprintFn(cfg, _CURRENT)).with_outputs(
            "marks", "shingles", "bands", main="rows"
        )
        shingles, bands = [current.shingles], [current.bands]
        previous_marks = []
        if self.previous is not None:
            old = self.previous | "FingerprintPrevious" >> beam.ParDo(_FingerprintFn(cfg, _PREVIOUS)).with_outputs(
                "marks", "shingles", "bands", main="rows"
            )
            previous_marks, shingles, bands = [old.marks], shingles + [old.shingles], bands + [old.bands]
        first = current.marks | "GroupByContent" >> beam.GroupByKey() | "FirstIds" >> beam.Map(_first_ids)
        all_first = (
            [first, *previous_marks]
            | "AllMarks" >> beam.Flatten()
            | "GroupAllMarks" >> beam.GroupByKey()
            | "AllFirstIds" >> beam.Map(_first_ids)
        )
        edges = (
            bands
            | "AllBands" >> beam.Flatten()
            | "GroupByBand" >> beam.GroupByKey()
            | "CandidateEdges" >> beam.FlatMap(candidate_edges)
            | "DistinctEdges" >> beam.Distinct()
        )
        if cfg.verify == "exact":
            all_shingles = shingles | "AllShingles" >> beam.Flatten()
            edges = edges | "VerifyEdges" >> VerifyEdges(all_shingles, cfg.threshold)
        reps = edges | "Components" >> ConnectedComponents(cfg.rounds)
        verdicts = (
            {
                "members": reps | "KeyByRep" >> beam.Map(lambda nr: (nr[1], nr[0])),
                "first": all_first,
            }
            | "JoinRepIds" >> beam.CoGroupByKey()
            | "RepIds" >> beam.FlatMap(_rep_ids)
            | "KeepCurrent" >> beam.Filter(lambda nr: nr[0].startswith(_CURRENT))
        )
        reps_previous = reps | "RepIsPrevious" >> beam.Map(lambda nr: (nr[0], nr[1].startswith(_PREVIOUS)))
        decided = (
            {"rows": current.rows, "rep": verdicts, "previous": reps_previous}
            | "JoinVerdicts" >> beam.CoGroupByKey()
            | "Decide" >> beam.FlatMap(_decide, id_of).with_outputs("exact", "near", main="kept")
        )
        return DedupOutputs(
            decided.kept | "CountKept" >> beam.Map(_count(NEAR_STAGE, "out")),
            first,
            decided.exact | "CountExact" >> beam.Map(_count(EXACT_STAGE, f"rejected:{EXACT_DUPLICATE}")),
            decided.near | "CountNear" >> beam.Map(_count(NEAR_STAGE, "rejected")),
        )
