"""MinHash signatures compatible with datasketch, and LSH band parameters and keys.

`Permutations(num_perm, seed)` draws the same permutations as datasketch's default
`MinHash(num_perm, seed)` (scheme `affine32`): odd `a` and any `b` from
`numpy.random.RandomState(seed)`; a shingle hash `h` is pre-mixed with the
MurmurHash3 32-bit finaliser and permuted to `a·h + b mod 2^32`. Given the same
32-bit shingle hashes, `signature` equals datasketch's `hashvalues` bit for bit
(a test checks it); it is faster because the shingle hashes come from numpy
(`shingles.shingle_hashes`) and the permutation runs in cache-sized blocks.

`optimal_bands(threshold, num_perm, fp_weight, fn_weight)` is datasketch's
optimal-parameter method: the (bands, rows) minimising the weighted integrals of
false-positive and false-negative probability. `band_keys` cuts a signature into
those bands and names each `band index + 8-byte digest of its rows`.
"""

__all__ = ["Permutations", "band_keys", "candidate_probability", "optimal_bands", "signature"]

import functools
import hashlib

import numpy as np


_MAX32 = np.uint32(0xFFFFFFFF)
_BLOCK = 1024  # shingles per block: a block of 1024 × 256 uint32 stays in L2 cache


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
        self._block = np.empty((_BLOCK, num_perm), dtype=np.uint32)


def signature(hashes: np.ndarray, perms: Permutations) -> np.ndarray:
    """The MinHash signature (uint32, one value per permutation) of a set of 32-bit shingle hashes.

    Repeated hashes do not change it. An empty input gives all `2^32 − 1`.
    """
    out = np.full(perms.num_perm, _MAX32, dtype=np.uint32)
    mixed = _fmix32(np.asarray(hashes, dtype=np.uint32))
    for start in range(0, mixed.size, _BLOCK):
        chunk = mixed[start : start + _BLOCK]
        block = perms._block[: chunk.size]
        np.multiply(chunk[:, None], perms.a, out=block)
        np.add(block, perms.b, out=block)
        np.minimum(out, block.min(axis=0), out=out)
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
