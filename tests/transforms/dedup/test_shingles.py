"""Word n-gram shingles: strings and hashes agree."""

import numpy as np
import pytest

from transforms.dedup.shingles import (
    exact_jaccard,
    hash_jaccard,
    shingle_hashes,
    shingle_hashes_batch,
    shingle_set,
    tokens,
)


def test_tokens_are_word_runs_without_empty_strings():
    assert tokens("a.b  (c_1);") == ["a", "b", "c_1"]


def test_shingle_set_slides_a_window_of_k_words():
    assert shingle_set("a b c d", 3) == {"a b c", "b c d"}


def test_short_texts_have_one_shingle_of_all_their_words():
    assert shingle_set("a, b", 5) == {"a b"}
    assert shingle_set("", 5) == {""}
    assert len(shingle_hashes("a, b", 5)) == 1


def test_equal_shingles_have_equal_hashes_wherever_they_occur():
    one = shingle_hashes("x y z w", 3)
    two = shingle_hashes("q x y z", 3)
    assert one[0] == two[1]
    assert one[1] not in two


def test_punctuation_and_spacing_do_not_change_hashes():
    assert np.array_equal(shingle_hashes("f(a, b)  + c", 2), shingle_hashes("f a b+c", 2))


def test_word_order_matters():
    assert shingle_hashes("a b", 2)[0] != shingle_hashes("b a", 2)[0]


def test_hash_jaccard_matches_string_jaccard():
    a = "the quick brown fox jumps over the lazy dog and runs away into the forest"
    b = "the quick brown fox jumps over the lazy cat and runs away into the forest"
    expected = exact_jaccard(shingle_set(a, 3), shingle_set(b, 3))
    got = hash_jaccard(np.unique(shingle_hashes(a, 3)), np.unique(shingle_hashes(b, 3)))
    assert got == expected and 0 < got < 1


def test_jaccard_of_empty_sets_is_one():
    assert exact_jaccard(set(), set()) == 1.0
    assert hash_jaccard(np.zeros(0, np.uint32), np.zeros(0, np.uint32)) == 1.0


_M64 = (1 << 64) - 1


def _fmix64(h: int) -> int:
    h ^= h >> 33
    h = h * 0xFF51AFD7ED558CCD & _M64
    h ^= h >> 33
    h = h * 0xC4CEB9FE1A85EC53 & _M64
    return h ^ (h >> 33)


def _poly(values) -> int:
    return sum(v * pow(0x100000001B3, i, 1 << 64) for i, v in enumerate(values)) & _M64


def _reference_shingle_hashes(text: str, k: int) -> list[int]:
    """The documented hashes, with Python ints: token polynomial + length, then a window of k token hashes."""
    words = [_fmix64((_poly(w.encode()) + len(w) * 0x9E3779B97F4A7C15) & _M64) for w in tokens(text)]
    width = min(k, len(words))
    return [_fmix64(_poly(words[i : i + width])) >> 32 for i in range(max(len(words) - k + 1, 1))]


TEXTS = [
    "",
    "one",
    "a b",
    ";; (  ) ..",
    "naïve café → 世界 x_y déjà_vu",
    "lone \udcff surrogate",
    "def f(x):\n    return x + 1\n",
    "end with word",
    " ".join(f"w{i % 37}" for i in range(3000)),
    "αβγ",
]


@pytest.mark.parametrize("k", [1, 3, 5, 20])
def test_batched_shingle_hashes_equal_each_texts_and_the_definition(k):
    hashes, offsets = shingle_hashes_batch(TEXTS, k)
    assert len(offsets) == len(TEXTS) + 1 and offsets[-1] == len(hashes)
    for i, text in enumerate(TEXTS):
        part = hashes[offsets[i] : offsets[i + 1]]
        assert np.array_equal(part, shingle_hashes(text, k))
        assert part.tolist() == _reference_shingle_hashes(text, k)


def test_a_batch_of_no_texts_is_empty():
    hashes, offsets = shingle_hashes_batch([], 5)
    assert len(hashes) == 0 and offsets.tolist() == [0]
