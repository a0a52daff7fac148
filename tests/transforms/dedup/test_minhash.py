"""MinHash signatures equal datasketch's; band parameters equal datasketch's optimiser."""

import numpy as np
import pytest
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from transforms.dedup import minhash
from transforms.dedup.minhash import (
    Permutations,
    band_keys,
    candidate_probability,
    optimal_bands,
    signature,
    signatures,
)
from transforms.dedup.shingles import shingle_hashes


TEXT = "def total(items):\n    return sum(item.price * item.count for item in items if item.valid)\n"


@pytest.mark.parametrize(("num_perm", "seed"), [(256, 77), (128, 1), (16, 3)])
def test_signature_equals_datasketch_given_the_same_shingle_hashes(num_perm, seed):
    hashes = shingle_hashes(TEXT * 40 + "tail words", 5)
    reference = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda h: h)
    reference.update_batch([int(h) for h in hashes])
    assert np.array_equal(signature(hashes, Permutations(num_perm, seed)), reference.hashvalues)


def test_signature_spanning_several_blocks_equals_datasketch():
    hashes = np.random.default_rng(0).integers(0, 2**32, 5000, dtype=np.uint64).astype(np.uint32)
    reference = MinHash(num_perm=64, seed=9, hashfunc=lambda h: h)
    reference.update_batch([int(h) for h in hashes])
    assert np.array_equal(signature(hashes, Permutations(64, 9)), reference.hashvalues)


def test_signature_ignores_order_and_repeats():
    perms = Permutations(32, 1)
    hashes = shingle_hashes(TEXT, 3)
    assert np.array_equal(signature(hashes, perms), signature(np.unique(hashes)[::-1], perms))


def test_empty_input_gives_the_maximum():
    assert (signature(np.zeros(0, dtype=np.uint32), Permutations(8, 1)) == 0xFFFFFFFF).all()


@pytest.mark.parametrize(
    ("threshold", "num_perm", "fp_weight"), [(0.7, 256, 0.5), (0.75, 256, 0.5), (0.75, 128, 0.5), (0.75, 256, 0.1)]
)
def test_optimal_bands_equal_datasketch(threshold, num_perm, fp_weight):
    assert optimal_bands(threshold, num_perm, fp_weight, 1 - fp_weight) == _optimal_param(
        threshold, num_perm, fp_weight, 1 - fp_weight
    )


def test_known_parameters_of_the_paper():
    assert optimal_bands(0.7, 256) == (25, 10)
    assert optimal_bands(0.75, 256) == (21, 12)


def test_optimal_bands_rejects_bad_thresholds():
    with pytest.raises(ValueError):
        optimal_bands(1.0, 256)


def test_band_keys_are_per_band_and_shared_only_by_equal_bands():
    perms = Permutations(12, 1)
    a = signature(shingle_hashes(TEXT, 2), perms)
    b = a.copy()
    b[5] ^= 1  # differs in band 1 (rows 4..7) only
    keys_a, keys_b = band_keys(a, 3, 4), band_keys(b, 3, 4)
    assert len(keys_a) == 3 and len(set(keys_a)) == 3
    assert [x == y for x, y in zip(keys_a, keys_b, strict=True)] == [True, False, True]


def test_candidate_probability_rises_with_similarity():
    low, mid, high = candidate_probability(np.array([0.3, 0.75, 0.95]), 21, 12)
    assert low < 0.01 < mid < high and high > 0.99


@pytest.mark.parametrize(("chunk", "block"), [(8192, 1 << 18), (7, 40)])  # (7, 40): groups of 5 permutations
def test_batched_signatures_equal_datasketch_per_document(monkeypatch, chunk, block):
    monkeypatch.setattr(minhash, "_CHUNK", chunk)
    monkeypatch.setattr(minhash, "_BLOCK", block)
    rng = np.random.default_rng(1)
    sizes = [0, 1, 3, 0, 20000, 5, 7, 8, 9, 0, 300, 1]  # empty, one hash, larger than a chunk, at chunk edges
    docs = [rng.integers(0, 2**32, size, dtype=np.uint64).astype(np.uint32) for size in sizes]
    docs[5] = np.array([4, 4, 9, 4, 9], dtype=np.uint32)  # repeats
    offsets = np.cumsum([0, *sizes])
    perms = Permutations(23, 4)
    batched = signatures(np.concatenate(docs), offsets, perms)
    assert batched.shape == (len(docs), 23)
    for doc, sig in zip(docs, batched, strict=True):
        reference = MinHash(num_perm=23, seed=4, hashfunc=lambda h: h)
        reference.update_batch([int(h) for h in doc])
        assert np.array_equal(sig, reference.hashvalues)
        assert np.array_equal(sig, signature(doc, perms))
