"""MinHash signatures compatible with datasketch, and LSH band parameters and keys.

`Permutations(num_perm, seed)` draws the same permutations as datasketch's default
`MinHash(num_perm, seed)` (scheme `affine32`): odd `a` and any `b` from
`numpy.random.RandomState(seed)`; a shingle hash `h` is pre-mixed with the
MurmurHash3 32-bit finaliser and permuted to `a·h + b mod 2^32`. Given the same
32-bit shingle hashes, `signature` equals datasketch's `hashvalues` bit for bit
(a test checks it); it is faster because the shingle hashes come from numpy
(`shingles.shingle_hashes`) and the permutation runs in cache-sized blocks.
`signatures` computes many documents' signatures in the same blocks (with
`shingles.shingle_hashes_batch`), so numpy's per-call overhead is paid per block
of shingles rather than per document.

`optimal_bands(threshold, num_perm, fp_weight, fn_weight)` is datasketch's
optimal-parameter method: the (bands, rows) minimising the weighted integrals of
false-positive and false-negative probability. `band_keys` cuts a signature into
those bands and names each `band index + 8-byte digest of its rows`.
"""

__all__ = ["Permutations", "band_keys", "candidate_probability", "optimal_bands", "signature", "signatures"]

import functools
import hashlib

import numpy as np


_MAX32 = np.uint32(0xFFFFFFFF)
_BLOCK = 1 << 18  # uint32 values per block of permuted hashes: 1 MB stays in L2 cache
_CHUNK = 8192  # shingles per block at most: fewer, longer numpy inner loops than 256 × 1024 blocks (~2× faster)


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


class Permutations:
    """The `num_perm` affine permutations of datasketch's `MinHash(num_perm, seed)`."""

    def __init__(self, num_perm: int, seed: int) -> None:
        """Draws the permutation parameters.

        Raises:
            ValueError: num_perm < 1.
        """
        if num_perm < 1:
            raise ValueError("num_perm must be at least 1")
        gen = np.random.RandomState(seed)
        self.a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self.b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        self.num_perm = num_perm
        self._block = np.empty(_BLOCK, dtype=np.uint32)


def signature(hashes: np.ndarray, perms: Permutations) -> np.ndarray:
    """The MinHash signature (uint32, one value per permutation) of a set of 32-bit shingle hashes.

    Repeated hashes do not change it. An empty input gives all `2^32 − 1`.
    """
    return signatures(np.asarray(hashes, dtype=np.uint32), np.array([0, len(hashes)]), perms)[0]


def signatures(hashes: np.ndarray, offsets: np.ndarray, perms: Permutations) -> np.ndarray:
    """The `signature` of each document: rows of a (documents, num_perm) uint32 array.

    Document i's shingle hashes are `hashes[offsets[i] : offsets[i + 1]]` (as
    `shingles.shingle_hashes_batch` gives them). Repeats within a document are
    dropped first (one sort of the batch costs less than permuting them). Then the
    unique hashes of consecutive documents are permuted together, up to `_CHUNK`
    at a time and in blocks of (permutation, shingle) of at most `_BLOCK` values,
    so that each permutation's minimum over a document is a contiguous
    `minimum.reduceat`; a document spanning chunks takes the minimum of its parts.
    """
    sizes = np.diff(offsets)
    out = np.full((len(sizes), perms.num_perm), _MAX32, dtype=np.uint32)
    if not len(hashes):
        return out
    docs = np.repeat(np.arange(len(sizes), dtype=np.uint64), sizes)
    keys = np.sort((docs << np.uint64(32)) | hashes.astype(np.uint64))  # by document, then hash
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]]  # not np.unique: a hash table, many times slower here
    mixed = _fmix32(keys.astype(np.uint32))
    nonempty = sizes > 0
    starts = np.searchsorted(keys >> np.uint64(32), np.flatnonzero(nonempty).astype(np.uint64))
    chunks = np.arange(0, len(mixed), _CHUNK)
    cuts = np.union1d(starts, chunks)  # segments within one document and one chunk
    bounds = np.r_[np.searchsorted(cuts, chunks), len(cuts)]  # chunk j's segments: cuts[bounds[j] : bounds[j + 1]]
    parts = np.empty((perms.num_perm, len(cuts)), dtype=np.uint32)
    for j, start in enumerate(chunks):
        chunk = mixed[start : start + _CHUNK]
        segments, local = slice(bounds[j], bounds[j + 1]), cuts[bounds[j] : bounds[j + 1]] - start
        rows = max(1, _BLOCK // chunk.size)
        for p in range(0, perms.num_perm, rows):
            a, b = perms.a[p : p + rows, None], perms.b[p : p + rows, None]
            block = perms._block[: len(a) * chunk.size].reshape(len(a), chunk.size)
            np.multiply(a, chunk, out=block)
            np.add(block, b, out=block)
            parts[p : p + rows, segments] = np.minimum.reduceat(block, local, axis=1)
    out[nonempty] = np.minimum.reduceat(parts, np.searchsorted(cuts, starts), axis=1).T
    return out


def candidate_probability(similarity: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """P(two sets of this Jaccard similarity share at least one band) = 1 − (1 − s^r)^b."""
    return 1.0 - (1.0 - np.power(similarity, rows)) ** bands


def _gauss_legendre(lo: float, hi: float, steps: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights integrating smooth functions over [lo, hi] to ~1e-12."""
    x, w = np.polynomial.legendre.leggauss(steps)
    return (hi + lo) / 2 + (hi - lo) / 2 * x, (hi - lo) / 2 * w


@functools.cache
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising fp_weight·∫₀ᵗ P + fn_weight·∫ₜ¹ (1 − P), as datasketch's `_optimal_param`.

    The integrals use Gauss–Legendre quadrature (datasketch uses scipy's `quad`;
    a test checks both choose the same parameters), vectorised over all (b, r).

    Raises:
        ValueError: threshold outside (0, 1) or num_perm < 1.
    """
    if not 0.0 < threshold < 1.0 or num_perm < 1:
        raise ValueError("need 0 < threshold < 1 and num_perm >= 1")
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)], dtype=float)
    b, r = pairs[:, :1], pairs[:, 1:]
    xs, ws = _gauss_legendre(0.0, threshold)
    fp = (candidate_probability(xs[None, :], b, r) * ws).sum(axis=1)
    xs, ws = _gauss_legendre(threshold, 1.0)
    fn = ((1.0 - candidate_probability(xs[None, :], b, r)) * ws).sum(axis=1)
    best = int(np.argmin(fp_weight * fp + fn_weight * fn))  # first minimum, as datasketch's strict "<"
    return int(pairs[best, 0]), int(pairs[best, 1])


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[bytes]:
    """One key per band: the band's index (2 bytes) and an 8-byte digest of its rows."""
    raw = sig.astype("<u4", copy=False).tobytes()
    width = rows * 4
    return [
        i.to_bytes(2, "big") + hashlib.blake2b(raw[i * width : (i + 1) * width], digest_size=8).digest()
        for i in range(bands)
    ]
