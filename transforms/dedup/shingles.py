"""Word n-gram shingles, as strings (for exact Jaccard) and as 32-bit hashes (for MinHash).

Tokenisation: maximal runs of `[A-Za-z0-9_]` (`WORD`). Unlike BigCode's
`re.split("[^A-Za-z_0-9]")`, no empty tokens are made between punctuation, so
shingles carry words only and a change of punctuation or spacing changes nothing.
A text with fewer than `k` tokens has one shingle, all its tokens (an empty text:
the empty shingle), so short texts match only texts with the same words, rather
than all colliding into one cluster as in the Themis script (paper-facts §2.5).

`shingle_set` gives the shingles as strings joined by a space; `shingle_hashes`
gives one 32-bit hash per shingle, computed with numpy from per-token SHA-1 hashes
(a token's hash is cached per process), about 5× faster than hashing each shingle
string. The two agree: equal shingle strings give equal hashes, and distinct ones
collide with probability about 2^-32.
"""

__all__ = ["WORD", "exact_jaccard", "hash_jaccard", "shingle_hashes", "shingle_set", "tokens"]

import hashlib
import re

import numpy as np


WORD = re.compile(r"[A-Za-z0-9_]+")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it is a bijection of uint64
_CACHE_LIMIT = 2_000_000
_token_hashes: dict[str, int] = {}


def tokens(text: str) -> list[str]:
    """The word tokens of `text`."""
    return WORD.findall(text)


def shingle_set(text: str, k: int) -> set[str]:
    """The set of word `k`-grams of `text`, each joined by single spaces."""
    words = tokens(text)
    if len(words) < k:
        return {" ".join(words)}
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def _token_hash_array(words: list[str]) -> np.ndarray:
    cache = _token_hashes
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    get = cache.get
    values = []
    for word in words:
        value = get(word)
        if value is None:
            value = cache[word] = int.from_bytes(hashlib.sha1(word.encode()).digest()[:8], "little")
        values.append(value)
    return np.array(values, dtype=np.uint64)


def shingle_hashes(text: str, k: int) -> np.ndarray:
    """32-bit hashes of the word `k`-grams of `text`, in text order (uint32; repeats kept).

    A shingle's hash is the top 32 bits of `(...((t0·M) ^ t1)·M ^ ...) ^ t(k-1)` over
    its tokens' 64-bit SHA-1 prefixes, in uint64 arithmetic.
    """
    words = _token_hash_array(tokens(text))
    n = len(words) - k + 1
    if n < 1:  # fewer than k tokens: one shingle of all of them
        n, k = 1, len(words)
        if k == 0:
            return np.zeros(1, dtype=np.uint32)
    value = words[:n].copy()
    for j in range(1, k):
        value *= _MIX
        value ^= words[j : j + n]
    return (value >> np.uint64(32)).astype(np.uint32)


def exact_jaccard(a: set[str], b: set[str]) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def hash_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard of two shingle-hash sets given as sorted unique uint32 arrays."""
    common = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - common
    return common / union if union else 1.0
