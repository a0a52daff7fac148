"""Word n-gram shingles: strings and hashes agree."""

import numpy as np

from transforms.dedup.shingles import exact_jaccard, hash_jaccard, shingle_hashes, shingle_set, tokens


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
