"""`Deduplicate`: exact and near duplicates, representatives, previous releases, conservation."""

import random

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.dedup import DedupConfig
from schemas.records import PairRecord
from transforms.dedup.minhash import Permutations
from transforms.dedup.shingles import shingle_hashes
from transforms.dedup.stage import (
    CURRENT,
    EXACT_DUPLICATE,
    IN_PREVIOUS,
    NEAR_DUPLICATE,
    Deduplicate,
    _band_int,
    _FingerprintFn,
    _verified,
    bucket_edges,
    fingerprint,
    fingerprints,
    normalize,
)
from transforms.packing import unpack


WORDS = [f"name{i}" for i in range(20000)]


def _text(rng: random.Random, n: int = 120) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _pair(idx: str, chosen: str, prompt: str = "Write the function.") -> PairRecord:
    return PairRecord(idx, prompt, chosen, "pass", "Python", "Functional Correctness", "test")


def _edit_tail(text: str, n: int) -> str:
    words = text.split()
    return " ".join(words[:-n] + ["changed"] * n)


def test_normalize_ignores_line_endings_and_trailing_spaces():
    a = {"input": "p", "chosen": "x = 1  \r\ny = 2\n\n", "rejected": "r"}
    b = {"input": "p", "chosen": "x = 1\ny = 2", "rejected": "r"}
    assert normalize(a, ("input", "chosen", "rejected")) == normalize(b, ("input", "chosen", "rejected"))
    assert normalize(a, ("chosen",)) != normalize({"chosen": "  x = 1\ny = 2"}, ("chosen",))


def test_fingerprint_uses_the_id_column_or_the_content_hash():
    cfg = DedupConfig(num_perm=32)
    perms = Permutations(32, cfg.seed)
    with_id = fingerprint(_pair("abc", "code"), cfg, perms)
    without = fingerprint(
        {"input": "", "chosen": "code", "rejected": ""}, cfg.model_copy(update={"id_column": None}), perms
    )
    assert with_id.row_id == "abc"
    assert len(without.row_id) == 16 and int(without.row_id, 16) >> 2 == without.node - CURRENT
    assert len(with_id.keys) == 6  # optimal_bands(0.75, 32, 0.1, 0.9) == (6, 5)


def test_bucket_edges_link_each_bucket_to_its_smallest_node():
    def packed(*entries):
        return np.array(entries, dtype=np.uint64).tobytes()

    groups = [packed((7, 30), (7, 10), (9, 5)), packed((7, 20), (7, 10), (8, 1))]
    assert sorted(bucket_edges(groups)) == [(10, 20), (10, 30)]
    assert list(bucket_edges([packed((1, 2))])) == []


def test_verification_keeps_only_edges_at_or_above_the_threshold():
    a = np.unique(shingle_hashes(" ".join(WORDS[:100]), 1))
    close = np.unique(shingle_hashes(" ".join(WORDS[5:105]), 1))  # 95 of 105
    far = np.unique(shingle_hashes(" ".join(WORDS[40:140]), 1))  # 60 of 140
    assert list(_verified(((1, 2), [(1, a.tobytes()), (2, close.tobytes())]), 0.75))
    assert not list(_verified(((1, 3), [(1, a.tobytes()), (3, far.tobytes())]), 0.75))


def _corpus(seed: int = 0):
    """30 distinct rows, plus exact copies, near copies (edited tails) and one chain."""
    rng = random.Random(seed)
    base = [_pair(f"b{i:02d}", _text(rng)) for i in range(30)]
    extra = [
        base[0]._replace(idx="x00"),  # exact copy of b00 (smaller id wins: b00)
        base[1]._replace(idx="a01", chosen=base[1].chosen + "   \n"),  # exact after normalisation; a01 < b01
        base[2]._replace(idx="n02", chosen=_edit_tail(base[2].chosen, 2)),  # near copy
        base[2]._replace(idx="m02", chosen=_edit_tail(base[2].chosen, 3)),  # near copy
        base[3]._replace(idx="n03", chosen=_edit_tail(base[3].chosen, 60)),  # far: J well below 0.75
    ]
    return base, extra


def test_exact_and_near_duplicates_keep_one_representative():
    base, extra = _corpus()
    rows = base + extra
    cfg = DedupConfig()
    by_id = {r.idx: r for r in rows}
    near_group = sorted(["b02", "n02", "m02"], key=lambda i: normalize(by_id[i], cfg.columns))
    perms = Permutations(cfg.num_perm, cfg.seed)
    hashes = {i: fingerprint(by_id[i], cfg, perms).node for i in ("b02", "n02", "m02")}
    keep = min(hashes, key=hashes.get)
    expected_near = sorted((i, keep, NEAR_DUPLICATE) for i in hashes if i != keep)
    with TestPipeline() as p:
        out = p | beam.Create(rows) | Deduplicate(cfg)
        kept_ids = out.main | "Ids" >> beam.Map(lambda r: r.idx)
        expected_kept = sorted({r.idx for r in rows} - {"x00", "b01"} - {i for i, _, _ in expected_near})
        assert_that(kept_ids, equal_to(expected_kept), label="Kept")
        exact = out.reports[0].rejected | "E" >> beam.Map(lambda r: (r.record_id, r.duplicate_of, r.reason))
        assert_that(exact, equal_to([("x00", "b00", EXACT_DUPLICATE), ("b01", "a01", EXACT_DUPLICATE)]), label="Exact")
        near = out.reports[1].rejected | "N" >> beam.Map(lambda r: (r.record_id, r.duplicate_of, r.reason))
        assert_that(near, equal_to(expected_near), label="Near")
        unique = out.reports[0].out | "CountUnique" >> beam.combiners.Count.Globally()
        assert_that(unique, equal_to([len(rows) - 2]), label="Unique")
    assert len(near_group) == 3


def test_rows_near_a_previous_release_are_rejected():
    base, _ = _corpus(1)
    previous = [base[4]._replace(idx="old4"), base[5]._replace(idx="old5", chosen=_edit_tail(base[5].chosen, 1))]
    with TestPipeline() as p:
        old = p | "Old" >> beam.Create(previous)
        out = p | beam.Create(base) | Deduplicate(DedupConfig(), previous=old)
        near = out.reports[1].rejected | beam.Map(lambda r: (r.record_id, r.duplicate_of, r.reason))
        assert_that(near, equal_to([("b04", "old4", IN_PREVIOUS), ("b05", "old5", IN_PREVIOUS)]), label="Near")
        count = out.main | beam.combiners.Count.Globally()
        assert_that(count, equal_to([len(base) - 2]), label="Kept")


def test_dict_rows_without_an_id_column_use_content_hashes():
    rng = random.Random(5)
    text = _text(rng)
    rows = [{"code": text}, {"code": _edit_tail(text, 1)}, {"code": _text(rng)}]
    cfg = DedupConfig(columns=("code",), ngram=5, threshold=0.7, id_column=None)
    with TestPipeline() as p:
        out = p | beam.Create(rows) | Deduplicate(cfg)
        count = out.main | beam.combiners.Count.Globally()
        assert_that(count, equal_to([2]), label="Kept")
        dup = out.reports[1].rejected | beam.Map(lambda r: (len(r.record_id), len(r.duplicate_of)))
        assert_that(dup, equal_to([(16, 16)]), label="Ids")


@pytest.mark.parametrize("verify", ["exact", "none"])
def test_far_rows_are_kept_and_counts_add_up(verify):
    base, extra = _corpus(2)
    rows = base + extra
    with TestPipeline() as p:
        out = p | beam.Create(rows) | Deduplicate(DedupConfig(verify=verify))
        total = (
            (out.main, out.reports[0].rejected, out.reports[1].rejected)
            | beam.Flatten()
            | beam.combiners.Count.Globally()
        )
        assert_that(total, equal_to([len(rows)]), label="Conservation")
        kept = out.main | beam.Map(lambda r: r.idx) | beam.Filter(lambda i: i in ("b03", "n03"))
        assert_that(kept, equal_to(["b03", "n03"]), label="FarKept")


def _varied_rows(n: int) -> list[dict]:
    rng = random.Random(7)
    texts = ["", "short", "naïve café 世界 x", _text(rng, 3000)]  # empty, fewer than k tokens, non-ASCII, many blocks
    return [
        {"input": f"p{i}", "chosen": texts[i] if i < len(texts) else _text(rng, i % 150), "rejected": "r"}
        for i in range(n)
    ]


def test_fingerprints_of_a_batch_equal_each_rows_fingerprint():
    cfg, rows = DedupConfig(id_column=None), _varied_rows(40)
    perms = Permutations(cfg.num_perm, cfg.seed)
    assert fingerprints(rows, cfg, perms, current=False) == [fingerprint(r, cfg, perms, False) for r in rows]


def test_fingerprint_fn_batches_without_changing_outputs():
    cfg, rows = DedupConfig(id_column=None), _varied_rows(2 * _FingerprintFn.BATCH + 45)  # full batches and a rest
    perms = Permutations(cfg.num_perm, cfg.seed)
    fps = [fingerprint(r, cfg, perms) for r in rows]
    with TestPipeline() as p:
        out = p | beam.Create(rows) | beam.ParDo(_FingerprintFn(cfg, True)).with_outputs("marks", "bands", main="rows")
        assert_that(out.marks, equal_to([(fp.node, fp.row_id) for fp in fps]), label="Marks")
        entries = out.bands | beam.FlatMap(lambda g: map(tuple, np.frombuffer(g[1], np.uint64).reshape(-1, 2).tolist()))
        expected = [(_band_int(key), fp.node) for fp in fps for key in fp.keys]
        assert_that(entries, equal_to(expected), label="Bands")
        nodes = out.rows | beam.Map(lambda kv: (kv[0], unpack(kv[1])["input"]))
        assert_that(nodes, equal_to([(fp.node, r["input"]) for fp, r in zip(fps, rows, strict=True)]), label="Rows")
