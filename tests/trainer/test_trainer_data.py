"""Streaming Parquet reader, deterministic order, resume skipping, rank batching."""

import collections
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemas.principles import default_principles
from trainer.data import (
    PairRecord,
    count_rows,
    epoch_records,
    iter_records,
    resolve_data_files,
    shuffle_buffer,
)
from transforms.system_prompt import PromptMix, aspect_prompt


@pytest.fixture
def shards(tmp_path, pair_helpers):
    make_pair, write_shards = pair_helpers
    rng = random.Random(5)
    rows = [make_pair(rng, i) for i in range(60)]
    train = write_shards(str(tmp_path / "data"), "train", rows[:50], shards=3)
    val = write_shards(str(tmp_path / "data"), "validation", rows[50:], shards=1)
    return tmp_path, rows, train, val


def test_resolve_folder_glob_and_file(shards):
    root, _, train, val = shards
    assert resolve_data_files(str(root)) == train
    assert resolve_data_files(str(root), "validation") == val
    assert resolve_data_files(str(root / "data")) == train
    assert resolve_data_files(str(root / "data" / "train-*.parquet")) == train
    assert resolve_data_files(train[1]) == [train[1]]
    assert resolve_data_files(str(root), "test") == []
    with pytest.raises(FileNotFoundError):
        resolve_data_files(str(root / "nothing-*.parquet"))
    assert count_rows(train) == 50


def test_records_decode_labels_and_keep_system_column(shards):
    _, rows, train, _ = shards
    records = list(iter_records(train, mix=PromptMix(0.0, 1.0, 0.0)))
    assert len(records) == 50
    by_idx = {r.idx: r for r in records}
    row = rows[3]  # system is set (3 % 5 != 0), language 3 = C++, aspect 3 = FC
    record = by_idx[row["idx"]]
    assert record.system == "You judge code."
    assert record.language == "C++" and record.aspect == "Functional Correctness"
    assert (record.input, record.chosen, record.rejected) == (row["input"], row["chosen"], row["rejected"])
    # null system -> assigned from the hash; with an all-single mix it is the pair's aspect prompt
    assigned = by_idx[rows[5]["idx"]]
    assert assigned.system == aspect_prompt(assigned.aspect)


def test_assigned_systems_are_made_of_the_principle_texts(shards, principles_file):
    root, rows, train, _ = shards
    texts = principles_file(root / "principles.yaml")
    single = PromptMix(0.0, 1.0, 0.0)
    records = {r.idx: r for r in iter_records(train, mix=single, principles=texts)}
    assert len(records) == 50
    assigned = 0
    for row in rows[:50]:
        record = records[row["idx"]]
        if row["system"] is None:  # null system: the pair's own criterion, in the custom texts
            assigned += 1
            assert record.system == aspect_prompt(record.aspect, texts)
            assert record.system == f"{texts.base}\n\n3. {texts.criteria[record.aspect]}\n\n"
            assert default_principles().base not in record.system
        else:
            assert record.system == row["system"] == "You judge code."  # the column's own text is kept
    assert assigned == 10
    # every row assigned: each criterion's custom text, never codepref's
    forced = list(iter_records(train, mix=single, use_system_column=False, principles=texts))
    assert {r.aspect for r in forced} == set(texts.criteria)
    for record in forced:
        assert record.system == aspect_prompt(record.aspect, texts)
        assert default_principles().criteria[record.aspect] not in record.system
    everything = list(iter_records(train, mix=PromptMix(0.0, 0.0, 1.0), use_system_column=False, principles=texts))
    for record in everything:
        assert record.system.startswith(texts.base) and all(text in record.system for text in texts.criteria.values())
    # the texts change the words, never which pair gets which kind of prompt
    default = list(iter_records(train, mix=PromptMix(0.3, 0.4, 0.3), use_system_column=False))
    custom = list(iter_records(train, mix=PromptMix(0.3, 0.4, 0.3), use_system_column=False, principles=texts))

    def kinds(records, criteria):  # None: no prompt, else the criteria named, in order
        named = [
            r.system and sorted((r.system.index(t), n) for n, t in criteria.items() if t in r.system) for r in records
        ]
        return [kind and [name for _, name in kind] for kind in named]

    assert kinds(default, default_principles().criteria) == kinds(custom, texts.criteria)
    assert {len(kind) if kind else 0 for kind in kinds(custom, texts.criteria)} == {0, 1, 5}


def test_epoch_records_pass_the_principle_texts_on(shards, principles_file):
    root, _, train, _ = shards
    texts = principles_file(root / "principles.yaml")
    mix = PromptMix(0.0, 1.0, 0.0)
    for shuffle in (False, True):
        records = list(epoch_records(train, epoch=0, seed=1, buffer_size=8, shuffle=shuffle, mix=mix, principles=texts))
        assert len(records) == 50
        for record in records:
            if record.system != "You judge code.":
                assert record.system == aspect_prompt(record.aspect, texts)
    plain = list(epoch_records(train, epoch=0, seed=1, shuffle=False, mix=mix))
    assert [r.system for r in plain] == [r.system for r in iter_records(train, mix=mix)]  # None: codepref's


def test_system_assignment_when_column_absent_and_ignored(tmp_path):
    table = pa.table({"input": ["p"] * 3, "chosen": ["a"] * 3, "rejected": ["b"] * 3, "system": ["", "S", None]})
    path = str(tmp_path / "x.parquet")
    pq.write_table(table, path)
    mix = PromptMix(1.0, 0.0, 0.0)
    records = list(iter_records([path], mix=mix))
    assert [r.system for r in records] == [None, "S", None]  # "" means explicitly none
    assert len({r.idx for r in records}) == 1  # content-hash ids when idx is absent
    forced = list(iter_records([path], mix=PromptMix(0.0, 0.0, 1.0), use_system_column=False))
    assert all(r.system and r.system.count("\n\n") >= 6 for r in forced)


def test_missing_required_column(tmp_path):
    path = str(tmp_path / "bad.parquet")
    pq.write_table(pa.table({"input": ["p"], "chosen": ["a"]}), path)
    with pytest.raises(ValueError, match="rejected"):
        list(iter_records([path]))


def test_epoch_order_is_deterministic_and_differs_by_epoch(shards):
    _, _, train, _ = shards

    def ids(epoch, seed=1, skip=0):
        return [r.idx for r in epoch_records(train, epoch=epoch, seed=seed, buffer_size=8, skip=skip)]

    first = ids(0)
    assert first == ids(0)
    assert sorted(first) == sorted(ids(1)) and first != ids(1)
    assert first != ids(0, seed=2)
    assert ids(0, skip=17) == first[17:]
    plain = [r.idx for r in epoch_records(train, epoch=0, seed=1, shuffle=False)]
    assert plain == [r.idx for r in iter_records(train)]


def test_shuffle_buffer_is_a_permutation():
    out = list(shuffle_buffer(range(100), 10, seed=0))
    assert sorted(out) == list(range(100)) and out != list(range(100))
    assert list(shuffle_buffer(range(5), 1, seed=0)) == list(range(5))


def _record(i: int, long_prompt: bool = False) -> PairRecord:
    prompt = "word " * (400 if long_prompt else 3)
    return PairRecord(f"r{i}", None, prompt, f"good {i}", f"bad {i}")


def test_micro_batches_split_by_rank_and_track_position(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    from trainer.batching import micro_batches

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    records = [_record(i, long_prompt=(i == 2)) for i in range(11)]
    skipped = collections.Counter()
    per_rank = [
        list(micro_batches(records, tokenizer, batch_size=2, max_length=64, rank=r, world_size=2, skipped=skipped))
        for r in range(2)
    ]
    assert skipped["prompt_too_long"] == 2  # once per rank
    assert [len(b) for b in per_rank] == [3, 3]  # 10 usable pairs: 2 full global batches + 2 left
    for r in range(2):
        for mb in per_rank[r]:
            assert mb.valid == len(mb.pairs)
    # ranks see disjoint pairs, and together every usable pair once
    seen = [p.idx for rank in per_rank for mb in rank for p in mb.pairs]
    assert sorted(seen) == sorted(r.idx for r in records if r.idx != "r2")
    assert [mb.position for mb in per_rank[0]] == [5, 9, 11]
    # pad_last fills the tail so each rank gets a full batch, marking repeats invalid
    tail = list(micro_batches(records[:3], tokenizer, batch_size=2, max_length=64, rank=1, world_size=2, pad_last=True))
    # two usable pairs (r0, r1) for a global batch of 4: rank 1 gets r1 (valid) then r1 again (a repeat)
    assert len(tail) == 1 and [p.idx for p in tail[0].pairs] == ["r1", "r1"] and tail[0].valid == 1
