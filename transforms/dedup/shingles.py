"""Word n-gram shingles, as strings (for exact Jaccard) and as 32-bit hashes (for MinHash).

Tokenisation: maximal runs of `[A-Za-z0-9_]` (`WORD`). Unlike BigCode's
`re.split("[^A-Za-z_0-9]")`, no empty tokens are made between punctuation, so
shingles carry words only and a change of punctuation or spacing changes nothing.
A text with fewer than `k` tokens has one shingle, all its tokens (an empty text:
the empty shingle), so short texts match only texts with the same words, rather
than all colliding into one cluster as in the Themis script (paper-facts §2.5).

`shingle_set` gives the shingles as strings joined by a space; `shingle_hashes`
gives one 32-bit hash per shingle, computed with numpy from the text's bytes
(`token_hashes`) without making a Python object per token or shingle, many times
faster than hashing each shingle string. The two agree: equal shingle strings give
equal hashes, and distinct ones collide with probability about 2^-32.
"""

__all__ = ["WORD", "exact_jaccard", "hash_jaccard", "shingle_hashes", "shingle_set", "token_hashes", "tokens"]

import re

import numpy as np


WORD = re.compile(r"[A-Za-z0-9_]+")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it is a bijection of uint64
_BASE = np.uint64(0x100000001B3)  # odd polynomial base of the token hash
_IS_WORD = np.zeros(256, dtype=bool)
for _c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_":
    _IS_WORD[_c] = True
_powers = np.ones(1, dtype=np.uint64)  # _BASE^i
_inverse_powers = np.ones(1, dtype=np.uint64)  # _BASE^-i (mod 2^64)


def tokens(text: str) -> list[str]:
    """The word tokens of `text`."""
    return WORD.findall(text)


def shingle_set(text: str, k: int) -> set[str]:
    """The set of word `k`-grams of `text`, each joined by single spaces."""
    words = tokens(text)
    if len(words) < k:
        return {" ".join(words)}
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def _power_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    """BASE^i and BASE^-i mod 2^64 for i < n, grown on demand."""
    global _powers, _inverse_powers
    if len(_powers) < n:
        size = max(n, 2 * len(_powers))
        inverse = pow(int(_BASE), -1, 1 << 64)
        with np.errstate(over="ignore"):
            _powers = np.cumprod(np.r_[np.uint64(1), np.full(size - 1, _BASE)], dtype=np.uint64)
            _inverse_powers = np.cumprod(np.r_[np.uint64(1), np.full(size - 1, np.uint64(inverse))], dtype=np.uint64)
    return _powers, _inverse_powers


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def token_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the word tokens of `text`, in order, computed on its UTF-8 bytes with numpy.

    A token's hash is its bytes' polynomial `Σ b_i·BASE^i mod 2^64` (taken from
    prefix sums, so it does not depend on where the token occurs), plus its length,
    through the MurmurHash3 64-bit finaliser.
    """
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    changes = np.flatnonzero(np.diff(_IS_WORD[data].view(np.int8), prepend=0, append=0))
    starts, ends = changes[0::2], changes[1::2]  # changes alternate: a token starts, then ends
    powers, inverse = _power_tables(len(data) + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(data) + 1, dtype=np.uint64)
        np.cumsum(powers[: len(data)] * data, out=prefix[1:])
        value = (prefix[ends] - prefix[starts]) * inverse[starts]
        value += (ends - starts).astype(np.uint64) * _MIX
        return _fmix64(value)


def shingle_hashes(text: str, k: int) -> np.ndarray:
    """32-bit hashes of the word `k`-grams of `text`, in text order (uint32; repeats kept).

    A shingle's hash is the polynomial `Σ t_j·BASE^j mod 2^64` over its tokens'
    `token_hashes` (a window of prefix sums, so the cost does not grow with `k`),
    through the MurmurHash3 finaliser, top 32 bits.
    """
    words = token_hashes(text)
    if len(words) < k:  # fewer than k tokens: one shingle of all of them
        if not len(words):
            return np.zeros(1, dtype=np.uint32)
        k = len(words)
    powers, inverse = _power_tables(len(words) + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(words) + 1, dtype=np.uint64)
        np.cumsum(words * powers[: len(words)], out=prefix[1:])
        n = len(words) - k + 1
        value = (prefix[k:] - prefix[:n]) * inverse[:n]
        return (_fmix64(value) >> np.uint64(32)).astype(np.uint32)


def exact_jaccard(a: set[str], b: set[str]) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def hash_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard of two shingle-hash sets given as sorted unique uint32 arrays."""
    common = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - common
    return common / union if union else 1.0
