"""Hashes of text that are the same in every process, run and machine (no Beam import).

Everything codepref draws "at random" is drawn from these instead: `stable_hash` for
ranks, seeds and buckets (audit ranks, mix caps, shard order, mutation generators,
the trainer's shuffles), `stable_unit` for a point in [0, 1) compared with a share
(the validation split, commit sampling, the system-prompt mix). The same text gives
the same value on every worker, whatever `PYTHONHASHSEED` is.

Two digests are in use, each kept by the outputs it fixes: SHA-256 (the pipelines)
and 8-byte BLAKE2b (the system-prompt mix and the trainer's seeds). Text is UTF-8
with lone surrogates passed through, so text decoded with `surrogateescape` hashes
rather than raising.
"""

__all__ = ["DIGESTS", "stable_hash", "stable_unit"]

import hashlib


DIGESTS: tuple[str, ...] = ("sha256", "blake2b")
"""The digests `stable_hash` knows."""


def stable_hash(text: str, digest: str = "sha256") -> int:
    """A 64-bit hash of the text, as an unsigned integer.

    Args:
        text: what to hash.
        digest: `sha256` (the first 64 bits of its SHA-256) or `blake2b` (its
            8-byte BLAKE2b digest).

    Raises:
        ValueError: `digest` is not one of `DIGESTS`.
    """
    data = text.encode("utf-8", "surrogatepass")
    if digest == "sha256":
        raw = hashlib.sha256(data).digest()[:8]
    elif digest == "blake2b":
        raw = hashlib.blake2b(data, digest_size=8).digest()
    else:
        raise ValueError(f"unknown digest {digest!r}; expected one of {DIGESTS}")
    return int.from_bytes(raw, "big")


def stable_unit(text: str, digest: str = "sha256", bits: int = 64) -> float:
    """The text's hash as a point of the unit interval: its top `bits` bits over 2**bits.

    `stable_unit(text) < share` holds for about `share` of all texts, and for the
    same ones every time. With `bits` ≤ 53 the point is exact; with 64 it is
    `hash / 2.0**64`, rounded to a float64, which makes the top 2**-54 of all
    hashes 1.0 (kept so, since splits and prompts were drawn with it).

    Args:
        text: what to hash.
        digest: as for `stable_hash`.
        bits: how many leading bits of the 64-bit hash to use, 1 to 64.

    Raises:
        ValueError: `bits` is outside 1..64, or `digest` is unknown.
    """
    if not 1 <= bits <= 64:
        raise ValueError(f"bits must be in 1..64, got {bits}")
    return (stable_hash(text, digest) >> (64 - bits)) / 2.0**bits
