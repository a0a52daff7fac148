import collections
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_cards.stats import (
    TOKEN_BIN_EDGES,
    _Accumulator,
    compute_stats,
    in_memory_stats,
    load_manifest,
    read_features,
    token_bin,
)
from schemas.arrow import pair_features, pair_schema
from schemas.labels import ASPECTS, LANGUAGES
from tests.data_cards.conftest import SHARDS, all_rows, write_run
from transforms.filters.length import estimate_tokens


def test_token_bins_are_power_of_two_ranges_with_an_open_last_bin():
    assert [token_bin(n) for n in (0, 31, 32, 63, 64, 1000, 16383, 16384, 10**9)] == [0, 0, 1, 1, 2, 5, 9, 10, 10]
    assert len(TOKEN_BIN_EDGES) == 11


def test_splits_count_rows_arrow_bytes_and_file_bytes(run_dir):
    stats = compute_stats(run_dir)
    manifest = load_manifest(run_dir)
    assert [s.name for s in stats.splits] == ["train", "validation"]
    for split in stats.splits:
        files = manifest["outputs"][split.name]["files"]
        paths = [os.path.join(run_dir, f) for f in files]
        assert split.files == tuple(files)
        assert split.rows == sum(pq.read_metadata(p).num_rows for p in paths)
        assert split.download_size == sum(os.path.getsize(p) for p in paths)
        assert split.num_bytes == sum(pq.read_table(p).nbytes for p in paths)
    assert stats.rows == 6


def test_composition_uses_label_names(run_dir):
    stats = compute_stats(run_dir)
    expected = collections.Counter()
    for split, files in SHARDS.items():
        for rows in files:
            for r in rows:
                expected[(split, r["source"], ASPECTS[r["aspect"]], LANGUAGES[r["language"]])] += 1
    assert stats.composition == dict(sorted(expected.items()))
    assert stats.composition[("train", "commits", "Runtime Efficiency", "Go")] == 1


def test_lengths_are_the_length_filters_estimate_in_fixed_bins(run_dir):
    lengths = compute_stats(run_dir).lengths
    assert estimate_tokens("a" * 320) == 100 and estimate_tokens("é" * 40) == 40  # non-ASCII: one token each
    for name, column in (("prompt", "input"), ("chosen", "chosen"), ("rejected", "rejected")):
        tokens = [estimate_tokens(r[column]) for r in all_rows()]
        h = lengths[name]
        assert h.n == 6 and sum(h.counts) == 6
        assert (h.total, h.minimum, h.maximum) == (sum(tokens), min(tokens), max(tokens))
        assert list(h.counts) == [sum(token_bin(t) == i for t in tokens) for i in range(len(TOKEN_BIN_EDGES))]
    assert lengths["rejected"].counts[5] == 1  # the 3,200-character response: 1,000 tokens, bin 512-1023
    assert lengths["chosen"].labels()[:2] == ["0-31", "32-63"] and lengths["chosen"].labels()[-1] == "16384+"


def test_judge_votes_count_only_judged_pairs(run_dir):
    judge = compute_stats(run_dir).judge
    assert judge.pairs == 3
    assert judge.distribution == {
        "matches": {1: 2, 2: 1},
        "contradictions": {0: 2, 1: 1},
        "ties": {0: 2, 1: 1},
        "errors": {0: 3},
    }
    assert judge.totals == {"matches": 4, "contradictions": 1, "ties": 1, "errors": 0}
    assert judge.agreement == pytest.approx(4 / 6)
    assert judge.a_rate_mean == pytest.approx(0.75)  # r4 has no label_details: not averaged
    assert judge.position_consistency_mean == pytest.approx(0.5)


def test_licences_per_source_keep_missing_ones(run_dir):
    assert compute_stats(run_dir).licences == {
        ("bugged_instruct", None): 2,
        ("commits", "apache-2.0"): 1,
        ("commits", "mit"): 1,
        ("secure", "mit"): 2,
    }


def test_streaming_in_batches_of_one_gives_the_same_statistics(run_dir):
    whole, ones = compute_stats(run_dir), compute_stats(run_dir, batch_size=1)
    assert (ones.composition, ones.lengths, ones.judge, ones.licences) == (
        whole.composition,
        whole.lengths,
        whole.judge,
        whole.licences,
    )
    assert [s.rows for s in ones.splits] == [s.rows for s in whole.splits]


def test_in_memory_twin_and_merged_accumulators_agree_with_the_files(run_dir):
    tables = {
        split: pa.Table.from_pylist([r for rows in files for r in rows], schema=pair_schema())
        for split, files in SHARDS.items()
    }
    from_files, in_memory = compute_stats(run_dir), in_memory_stats(tables)
    assert (in_memory.composition, in_memory.lengths, in_memory.judge, in_memory.licences) == (
        from_files.composition,
        from_files.lengths,
        from_files.judge,
        from_files.licences,
    )
    assert [(s.name, s.rows, s.download_size, s.files) for s in in_memory.splits] == [
        ("train", 5, 0, ()),
        ("validation", 1, 0, ()),
    ]
    halves = [_Accumulator(), _Accumulator()]
    for i, batch in enumerate(tables["train"].to_batches(max_chunksize=2)):
        halves[i % 2].add_batch("train", batch)
    halves[0].merge(halves[1])
    one = _Accumulator()
    one.add_batch("train", tables["train"])
    merged, single = halves[0].result({"train": ()}), one.result({"train": ()})
    assert (merged.composition, merged.lengths, merged.judge, merged.licences) == (
        single.composition,
        single.lengths,
        single.judge,
        single.licences,
    )


def test_row_counts_that_disagree_with_the_manifest_are_an_error(tmp_path):
    def inflate(manifest):
        manifest["outputs"]["train"]["rows"] += 1

    run = write_run(tmp_path / "run", manifest_edit=inflate)
    with pytest.raises(ValueError, match="split train: the files hold 5 rows, the manifest says 6"):
        compute_stats(run)


def test_features_come_from_the_shards_and_an_empty_release_falls_back(run_dir, tmp_path):
    manifest = load_manifest(run_dir)
    assert read_features(run_dir, manifest) == pair_features()
    empty = {**manifest, "outputs": {"train": {"rows": 0, "files": []}}}
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "manifest.json").write_text(json.dumps(empty))
    assert read_features(str(tmp_path / "empty"), empty) == pair_features()
    stats = compute_stats(str(tmp_path / "empty"))
    assert stats.rows == 0 and stats.lengths["chosen"].mean is None and stats.judge.agreement is None
