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
`shingle_hashes_batch` hashes many texts in the same few numpy calls, with results
equal to `shingle_hashes` of each text: per-call overhead, not arithmetic, is most
of the cost of one text of a few KB.
"""

__all__ = [
    "WORD",
    "exact_jaccard",
    "hash_jaccard",
    "shingle_hashes",
    "shingle_hashes_batch",
    "shingle_set",
    "token_hashes",
    "tokens",
]

import re
from collections.abc import Sequence

import numpy as np


WORD = re.compile(r"[A-Za-z0-9_]+")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it is a bijection of uint64
_BASE = np.uint64(0x100000001B3)  # odd polynomial base of the token hash
_WORD_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
_ZERO_OTHERS = bytes(c if c in _WORD_BYTES else 0 for c in range(256))  # bytes.translate table
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


def _word_bytes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The texts' UTF-8 bytes with every non-word byte set to 0, and where each text starts in them.

    The texts are joined with a 0 byte (one also first and last), so no token spans
    two texts and every token has a 0 byte before and after it. `bytes.translate`
    zeroes the non-word bytes several times faster than a numpy table lookup.
    """
    parts = [t.encode("utf-8", "surrogatepass") for t in texts]
    data = np.frombuffer(b"\0".join([b"", *parts, b""]).translate(_ZERO_OTHERS), dtype=np.uint8)
    starts = np.cumsum([1, *(len(p) + 1 for p in parts)])  # text i: data[starts[i] : starts[i + 1] - 1]
    return data, starts


def _token_hashes(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes (see `token_hashes`) and start offsets of the tokens of `_word_bytes` output."""
    word = data != 0
    changes = np.flatnonzero(word[1:] != word[:-1]) + 1
    starts, ends = changes[0::2], changes[1::2]  # changes alternate: a token starts, then ends
    powers, inverse = _power_tables(len(data))
    with np.errstate(over="ignore"):
        prefix = np.cumsum(powers[: len(data)] * data)  # inclusive; data[starts - 1] and data[ends] are 0
        value = (prefix[ends] - prefix[starts - 1]) * inverse[starts]
        value += (ends - starts).astype(np.uint64) * _MIX
        return _fmix64(value), starts


def token_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the word tokens of `text`, in order, computed on its UTF-8 bytes with numpy.

    A token's hash is its bytes' polynomial `Σ b_i·BASE^i mod 2^64` (taken from
    prefix sums, so it does not depend on where the token occurs), plus its length,
    through the MurmurHash3 64-bit finaliser.
    """
    return _token_hashes(_word_bytes([text])[0])[0]


def shingle_hashes(text: str, k: int) -> np.ndarray:
    """32-bit hashes of the word `k`-grams of `text`, in text order (uint32; repeats kept).

    A shingle's hash is the polynomial `Σ t_j·BASE^j mod 2^64` over its tokens'
    `token_hashes` (a window of prefix sums, so the cost does not grow with `k`),
    through the MurmurHash3 finaliser, top 32 bits.
    """
    return shingle_hashes_batch([text], k)[0]


def shingle_hashes_batch(texts: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """`shingle_hashes` of many texts at once: all hashes concatenated, and offsets (one more than texts).

    Text i's hashes are `hashes[offsets[i] : offsets[i + 1]]`, equal to
    `shingle_hashes(texts[i], k)`: the texts are joined so that tokens stay within
    one text, and the polynomials do not depend on where a token or shingle starts,
    so one pass of prefix sums serves all texts.
    """
    data, text_starts = _word_bytes(texts)
    words, token_starts = _token_hashes(data)
    first = np.searchsorted(token_starts, text_starts)  # text i's tokens: words[first[i] : first[i + 1]]
    count = np.diff(first)
    per_text = np.maximum(count - k + 1, 1)  # fewer than k tokens: one shingle of all of them (none: hash 0)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(per_text, out=offsets[1:])
    lo = np.repeat(first[:-1] - offsets[:-1], per_text) + np.arange(offsets[-1])  # each shingle's first token
    hi = lo + np.repeat(np.minimum(count, k), per_text)
    powers, inverse = _power_tables(len(words) + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(words) + 1, dtype=np.uint64)
        np.cumsum(words * powers[: len(words)], out=prefix[1:])
        value = (prefix[hi] - prefix[lo]) * inverse[lo]
        return (_fmix64(value) >> np.uint64(32)).astype(np.uint32), offsets


def exact_jaccard(a: set[str], b: set[str]) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def hash_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard of two shingle-hash sets given as sorted unique uint32 arrays."""
    common = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - common
    return common / union if union else 1.0
