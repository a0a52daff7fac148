"""Draw a stratified, deterministic audit sample from a release.

`sample(out_dir, n, stratify, seed)` reads `OUT/data/{split}-*.parquet` and
writes `AUDIT_DIR/audit.jsonl` (default `OUT/audit`) plus an empty
`verdicts.sqlite`.

Determinism by hashing, never by `random`: each pair's rank is the first 8 bytes
of SHA-256(`seed` NUL `idx`) read as a big-endian integer. The rank depends only on
the seed and the pair's content-hash id, so the same release and seed give the
same sample on every machine, whatever the file order or batch size; and a pair
that survives into the next release keeps its rank, so two audits with one seed
overlap as much as the releases do. A stratum takes its k lowest-ranked pairs,
which is a uniform random draw without replacement within it.

Memory is bounded, never the whole release: the first pass streams only the
`idx` and strata columns with `ParquetFile.iter_batches`, counting each stratum
and keeping its n lowest ranks in a max-heap (no stratum can be given more than
n); the second pass streams all columns but materialises only the chosen rows.

Allocation (`allocate`): proportional to stratum size, rounded by largest
remainder (Hamilton), so the sample mirrors the release's mix and the total is
exactly n. Every non-empty stratum then gets at least one pair when n allows
(n ≥ number of strata), because a criterion × language cell that is never looked
at cannot be audited at all; the pairs this adds are taken back one at a time
from the strata most above their quota. When n is smaller than the number of
strata, the n strata whose best-ranked pair ranks lowest get one each: a seeded
choice in which larger strata are more likely, as proportional allocation would
have it. When n ≥ the release's rows, every pair is taken.

The audit set is written in rank order, so strata interleave and a reviewer who
stops early has still seen a random cross-section.
"""

__all__ = ["AuditSet", "Stratum", "allocate", "pair_rank", "sample"]

import dataclasses
import glob
import heapq
import json
import math
import os
import re
from collections.abc import Hashable, Iterator, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.audit.records import DEFAULT_SUBDIR, STORE_FILE, AuditPair, write_audit
from pipelines.audit.store import VerdictStore
from schemas.arrow import class_label_names
from schemas.errors import AuditError
from schemas.labels import label_name
from schemas.pair_columns import LABEL_COLUMNS
from transforms.hashing import stable_hash


DEFAULT_STRATIFY: tuple[str, ...] = ("aspect", "language")
SPLIT = "split"
"""A pseudo-column: the split a pair's Parquet file belongs to."""

_CLASS_LABELS = frozenset(c.name for c in LABEL_COLUMNS)
_SHARD = re.compile(r"^(?P<split>.+?)-\d+-of-\d+\.parquet$")
_MISSING = "(none)"
_BATCH_ROWS = 1024
_PAIR_COLUMNS = tuple(f.name for f in dataclasses.fields(AuditPair) if f.name not in (SPLIT, "rank"))
_REQUIRED = ("idx", "system", "input", "chosen", "rejected", "aspect", "language", "source")


@dataclasses.dataclass(frozen=True, slots=True)
class Stratum:
    """One stratum of the release: its key values, size and the pairs drawn."""

    key: tuple[str, ...]
    rows: int
    sampled: int


@dataclasses.dataclass(frozen=True)
class AuditSet:
    """The result of `sample`: where it was written and what was drawn."""

    audit_dir: str
    pairs: tuple[AuditPair, ...]
    strata: tuple[Stratum, ...]
    stratify: tuple[str, ...]
    seed: int
    n: int
    total_rows: int


def pair_rank(idx: str, seed: int) -> int:
    """The seeded hash rank of a pair: lower ranks are drawn first."""
    return stable_hash(f"{seed}\0{idx}")


def allocate(
    counts: Mapping[Hashable, int], n: int, priority: Mapping[Hashable, object] | None = None
) -> dict[Hashable, int]:
    """How many pairs each stratum gets (see the module docstring for the rule).

    Args:
        counts: Rows per stratum; strata with 0 rows get nothing.
        n: The sample size.
        priority: When n is below the number of strata, the n strata with the
            lowest priority get one pair each; by default the largest strata
            (ties by key).

    Returns:
        Pairs per non-empty stratum (0 for strata left out), summing to
        min(n, total rows), each between 1 and its count where n allows.

    Raises:
        AuditError: n < 1.
    """
    if n < 1:
        raise AuditError(f"n = {n}: the sample needs at least one pair")
    sizes = {k: c for k, c in counts.items() if c > 0}
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    if n < len(sizes):
        order = priority or {k: (-c, repr(k)) for k, c in sizes.items()}
        first = set(sorted(sizes, key=lambda k: (order[k], repr(k)))[:n])
        return {k: int(k in first) for k in sizes}
    quota = {k: n * c / total for k, c in sizes.items()}
    alloc = {k: max(1, math.floor(q)) for k, q in quota.items()}
    short = n - sum(alloc.values())
    if short > 0:  # largest remainders first; each stratum gains at most one (remainders are < 1)
        room = [k for k in sizes if alloc[k] < sizes[k]]
        for k in sorted(room, key=lambda k: (alloc[k] - quota[k], repr(k)))[:short]:
            alloc[k] += 1
    # Raising small strata to one may overshoot n: take back from the strata most above quota.
    heap = [(quota[k] - alloc[k], repr(k), k) for k in sizes if alloc[k] > 1]
    heapq.heapify(heap)
    for _ in range(-short if short < 0 else 0):
        _, key_repr, k = heapq.heappop(heap)
        alloc[k] -= 1
        if alloc[k] > 1:
            heapq.heappush(heap, (quota[k] - alloc[k], key_repr, k))
    return alloc


def _shards(out_dir: str) -> list[tuple[str, str]]:
    paths = sorted(glob.glob(os.path.join(out_dir, "data", "*.parquet")))
    if not paths:
        raise AuditError(f"{out_dir}: no data/*.parquet; is it a `codepref build` output folder?")
    shards = []
    for path in paths:
        match = _SHARD.match(os.path.basename(path))
        shards.append((match["split"] if match else os.path.basename(path)[: -len(".parquet")], path))
    return shards


def _label(value: object, column: str, schema: pa.Schema) -> str:
    """A ClassLabel id as the name its file records; strings (a release written with names) pass through."""
    if value is None:
        return _MISSING
    if column in _CLASS_LABELS and isinstance(value, int):
        name = label_name(class_label_names(schema, column), value)
        return f"{column}#{value}" if name is None else name
    return str(value)


def _rows(path: str, columns: Sequence[str]) -> Iterator[dict[str, list]]:
    """Streams `columns` of one shard as column dicts of at most `_BATCH_ROWS` rows."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH_ROWS, columns=list(columns)):
        yield batch.to_pydict()


def _check_columns(shards: Sequence[tuple[str, str]], stratify: Sequence[str]) -> None:
    for _, path in shards:
        names = set(pq.read_schema(path).names)
        missing = [c for c in (*_REQUIRED, *stratify) if c not in names and c != SPLIT]
        if missing:
            raise AuditError(f"{path}: no column {', '.join(missing)} (stratify by columns of the pair schema)")


def _rank_strata(
    shards: Sequence[tuple[str, str]], stratify: Sequence[str], n: int, seed: int
) -> tuple[dict[tuple, int], dict[tuple, list]]:
    """Pass 1: rows per stratum and each stratum's n lowest (rank, idx), as max-heaps."""
    counts: dict[tuple, int] = {}
    heaps: dict[tuple, list] = {}
    read = ["idx", *(c for c in stratify if c != SPLIT)]
    for split, path in shards:
        schema = pq.read_schema(path)
        for cols in _rows(path, read):
            for i, idx in enumerate(cols["idx"]):
                key = tuple(split if c == SPLIT else _label(cols[c][i], c, schema) for c in stratify)
                counts[key] = counts.get(key, 0) + 1
                item = (-pair_rank(idx, seed), idx)
                heap = heaps.setdefault(key, [])
                if len(heap) < n:
                    heapq.heappush(heap, item)
                elif item > heap[0]:
                    heapq.heapreplace(heap, item)
    return counts, heaps


def _read_chosen(shards: Sequence[tuple[str, str]], chosen: Mapping[str, int]) -> list[AuditPair]:
    """Pass 2: the chosen rows as `AuditPair`s; other rows never leave Arrow."""
    found: dict[str, AuditPair] = {}
    for split, path in shards:
        file = pq.ParquetFile(path)
        read = [c for c in _PAIR_COLUMNS if c in file.schema_arrow.names]
        wanted = pa.array(list(chosen), type=file.schema_arrow.field("idx").type)
        for batch in file.iter_batches(batch_size=_BATCH_ROWS, columns=read):
            hits = batch.filter(pc.is_in(batch.column("idx"), value_set=wanted))
            for row in hits.to_pylist():
                if row["idx"] in found:  # ids are content hashes; a repeat is the same pair
                    continue
                row["aspect"] = _label(row["aspect"], "aspect", file.schema_arrow)
                row["language"] = _label(row["language"], "language", file.schema_arrow)
                found[row["idx"]] = AuditPair(split=split, rank=chosen[row["idx"]], **row)
    return sorted(found.values(), key=lambda p: (p.rank, p.idx))


def _config_id(out_dir: str) -> str | None:
    try:
        with open(os.path.join(out_dir, "manifest.json"), encoding="utf-8") as f:
            return json.load(f).get("config_id")
    except (OSError, ValueError):
        return None


def sample(
    out_dir: str,
    n: int,
    stratify: Sequence[str] = DEFAULT_STRATIFY,
    seed: int = 0,
    audit_dir: str | None = None,
) -> AuditSet:
    """Draws the audit set of a release and writes it with an empty verdict store.

    Re-sampling into a folder that already has verdicts keeps them: verdicts are
    keyed by pair idx, and the same release, n, strata and seed draw the same pairs.

    Args:
        out_dir: A `codepref build` output folder (local).
        n: How many pairs to draw (all pairs when the release has fewer).
        stratify: Columns whose value combinations form the strata: pair-schema
            columns (`aspect` and `language` by ClassLabel name) or `split`; none
            for a simple random sample.
        seed: Changes which pairs are drawn, reproducibly.
        audit_dir: Where to write; default `out_dir/audit`.

    Returns:
        The written `AuditSet`.

    Raises:
        AuditError: no Parquet data, an unknown stratify column, or n < 1.
    """
    stratify = tuple(stratify)
    if n < 1:
        raise AuditError(f"--n {n}: the sample needs at least one pair")
    shards = _shards(out_dir)
    _check_columns(shards, stratify)
    counts, heaps = _rank_strata(shards, stratify, n, seed)
    heads = {k: -max(heap)[0] for k, heap in heaps.items()}
    alloc = allocate(counts, n, priority=heads)
    chosen = {}
    for key, k in alloc.items():
        for neg_rank, idx in heapq.nlargest(k, heaps[key]):
            chosen[idx] = -neg_rank
    pairs = tuple(_read_chosen(shards, chosen))
    audit_dir = audit_dir or os.path.join(out_dir, DEFAULT_SUBDIR)
    write_audit(audit_dir, pairs)
    strata = tuple(Stratum(k, counts[k], alloc.get(k, 0)) for k in sorted(counts))
    store = VerdictStore(os.path.join(audit_dir, STORE_FILE))
    store.set_meta(
        {
            "out_dir": os.path.abspath(out_dir),
            "config_id": _config_id(out_dir),
            "n": n,
            "seed": seed,
            "stratify": list(stratify),
            "total_rows": sum(counts.values()),
            "strata": [{"key": list(s.key), "rows": s.rows, "sampled": s.sampled} for s in strata],
        }
    )
    return AuditSet(os.path.abspath(audit_dir), pairs, strata, stratify, seed, n, sum(counts.values()))
