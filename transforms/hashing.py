"""A hash of text that is the same in every process, run and machine (no Beam import)."""

__all__ = ["stable_hash"]

import hashlib


def stable_hash(text: str) -> int:
    """The first 64 bits of the text's SHA-256, as an unsigned integer."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "big")
