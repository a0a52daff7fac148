import collections
import json
import math
import os
import random

import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.audit import sample as sample_module
from pipelines.audit.records import load_audit
from pipelines.audit.sample import allocate, pair_rank, sample
from pipelines.audit.store import VerdictStore
from schemas.errors import AuditError
from schemas.labels import ASPECTS, LANGUAGES
from tests.pipelines.audit.conftest import STRATA, strata_rows, write_release


def strata_of(audit):
    return collections.Counter((p.aspect, p.language) for p in audit.pairs)


def test_sample_is_deterministic_and_independent_of_file_layout(release, tmp_path):
    first = sample(release, 20, seed=7, audit_dir=str(tmp_path / "a"))
    again = sample(release, 20, seed=7, audit_dir=str(tmp_path / "b"))
    assert first.pairs == again.pairs
    with open(tmp_path / "a" / "audit.jsonl", "rb") as a, open(tmp_path / "b" / "audit.jsonl", "rb") as b:
        assert a.read() == b.read()
    # Same rows, shuffled into other files and row groups: the same pairs (only `split` differs).
    rows = strata_rows()
    random.Random(3).shuffle(rows)
    other = write_release(tmp_path / "other", {"part-a.parquet": rows[:50], "part-b.parquet": rows[50:]}, 7)
    moved = sample(other, 20, seed=7)
    assert [p.idx for p in moved.pairs] == [p.idx for p in first.pairs]
    assert [p.idx for p in sample(release, 20, seed=8, audit_dir=str(tmp_path / "c")).pairs] != [
        p.idx for p in first.pairs
    ]


def test_sample_is_stratified_proportionally_with_one_per_stratum(release):
    audit = sample(release, 20, seed=1)
    assert len(audit.pairs) == 20
    # quotas 20·c/81: 9.88, 2.96, 6.17, 0.74, 0.25 → floors 9, 2, 6 and two strata raised to one (19);
    # the largest remainder (Runtime Go, .96) takes the 20th.
    assert strata_of(audit) == {
        ("Runtime Efficiency", "Python"): 9,
        ("Runtime Efficiency", "Go"): 3,
        ("Functional Correctness", "Python"): 6,
        ("Functional Correctness", "C++"): 1,
        ("Security Hardness", "Java"): 1,
    }
    assert {s.key: (s.rows, s.sampled) for s in audit.strata} == {k: (STRATA[k], strata_of(audit)[k]) for k in STRATA}
    # Within a stratum the drawn pairs are its lowest seeded ranks.
    for key in STRATA:
        ranks = sorted(
            pair_rank(r["idx"], 1) for r in strata_rows() if (ASPECTS[r["aspect"]], LANGUAGES[r["language"]]) == key
        )
        assert sorted(p.rank for p in audit.pairs if (p.aspect, p.language) == key) == ranks[: strata_of(audit)[key]]
    # Review order is rank order, so strata interleave.
    assert [p.rank for p in audit.pairs] == sorted(p.rank for p in audit.pairs)


def test_sample_is_bounded_by_n_and_by_the_release(release, tmp_path):
    assert len(sample(release, 3, seed=2).pairs) == 3
    every = sample(release, 500, seed=2)
    assert len(every.pairs) == 81 and strata_of(every) == STRATA
    few = sample(release, 2, seed=2)  # fewer pairs than strata: two strata get one each
    assert len(few.pairs) == 2 and len(strata_of(few)) == 2
    with pytest.raises(AuditError, match="at least one"):
        sample(release, 0)


def test_sample_streams_batches_and_keeps_at_most_n_ranks_per_stratum(release, monkeypatch):
    def refuse(*_, **__):
        raise AssertionError("read the whole file")

    monkeypatch.setattr(pq, "read_table", refuse)
    monkeypatch.setattr(pq.ParquetFile, "read", refuse)
    monkeypatch.setattr(sample_module, "_BATCH_ROWS", 5)
    batches = []
    real = pq.ParquetFile.iter_batches

    def spy(self, *args, **kwargs):
        for batch in real(self, *args, **kwargs):
            batches.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    heaps = []
    real_rank = sample_module._rank_strata
    monkeypatch.setattr(sample_module, "_rank_strata", lambda *a: heaps.append(real_rank(*a)) or heaps[-1])
    audit = sample(release, 6, seed=4)
    assert len(audit.pairs) == 6
    assert batches and max(batches) <= 5
    counts, kept = heaps[0]
    assert counts == STRATA
    assert {k: len(h) for k, h in kept.items()} == {k: min(6, c) for k, c in STRATA.items()}


def test_audit_file_has_label_names_and_the_store_is_created(release):
    audit = sample(release, 10, seed=5)
    assert audit.audit_dir == os.path.join(release, "audit")
    with open(os.path.join(audit.audit_dir, "audit.jsonl")) as f:
        rows = [json.loads(line) for line in f]
    assert len(rows) == 10
    assert {r["aspect"] for r in rows} <= set(ASPECTS) and {r["language"] for r in rows} <= set(LANGUAGES)
    assert {r["split"] for r in rows} <= {"train", "validation"}
    assert rows[0]["chosen"].startswith("def f_") and rows[0]["system"] == "You are a careful reviewer."
    assert load_audit(audit.audit_dir) == list(audit.pairs)
    store = VerdictStore(os.path.join(audit.audit_dir, "verdicts.sqlite"))
    assert store.all() == {}
    meta = store.meta()
    assert meta["n"] == 10 and meta["seed"] == 5 and meta["stratify"] == ["aspect", "language"]
    assert meta["config_id"] == "cfg123" and meta["total_rows"] == 81


def test_resampling_keeps_verdicts(release):
    audit = sample(release, 5, seed=5)
    store = VerdictStore(os.path.join(audit.audit_dir, "verdicts.sqlite"))
    store.mark(audit.pairs[0].idx, "agree", "fine")
    again = sample(release, 5, seed=5)
    assert again.pairs == audit.pairs
    assert store.all()[audit.pairs[0].idx].verdict == "agree"


def test_other_strata_and_errors(release, tmp_path):
    by_split = sample(release, 10, stratify=("split",), seed=1)
    assert {s.key: s.rows for s in by_split.strata} == {("train",): 61, ("validation",): 20}
    assert collections.Counter(p.split for p in by_split.pairs) == {"train": 8, "validation": 2}
    flat = sample(release, 10, stratify=(), seed=1)
    assert len(flat.pairs) == 10 and [s.key for s in flat.strata] == [()]
    assert [p.rank for p in flat.pairs] == sorted(pair_rank(r["idx"], 1) for r in strata_rows())[:10]
    with pytest.raises(AuditError, match="no column colour"):
        sample(release, 10, stratify=("colour",))
    with pytest.raises(AuditError, match="no data"):
        sample(str(tmp_path), 10)


@given(
    counts=st.dictionaries(st.integers(0, 30), st.integers(0, 500), min_size=1, max_size=30),
    n=st.integers(1, 2000),
)
def test_allocation_invariants(counts, n):
    alloc = allocate(counts, n)
    sizes = {k: c for k, c in counts.items() if c}
    total = sum(sizes.values())
    assert set(alloc) == set(sizes)
    assert sum(alloc.values()) == min(n, total)
    assert all(0 <= alloc[k] <= sizes[k] for k in sizes)
    if n >= len(sizes):
        assert all(alloc[k] >= 1 for k in sizes)
    if n < total and all(n * c / total >= 1 for c in sizes.values()):  # nobody raised to one: plain Hamilton
        assert all(abs(alloc[k] - n * c / total) < 1 for k, c in sizes.items())


def test_allocation_takes_the_raises_back_from_the_strata_most_above_quota():
    # quotas 10.9 and 0.0109 ×9: nine tiny strata raised to one leave two for the big one.
    counts = {"big": 1000, **{f"tiny{i}": 1 for i in range(9)}}
    assert allocate(counts, 11) == {"big": 2, **{f"tiny{i}": 1 for i in range(9)}}
    # quotas 5.6, 3.2, 1.2 → floors 5, 3, 1; the largest remainder (.6) takes the last.
    assert allocate({"a": 56, "b": 32, "c": 12}, 10) == {"a": 6, "b": 3, "c": 1}
    assert math.isclose(sum(allocate({"a": 3, "b": 3}, 5).values()), 5)


def test_audit_pairs_carry_every_pair_column_but_the_config_id():
    import dataclasses

    from pipelines.audit.records import AuditPair
    from schemas.arrow import pair_schema

    fields = {f.name for f in dataclasses.fields(AuditPair)}
    assert fields == (set(pair_schema().names) - {"config_id"}) | {"split", "rank"}
