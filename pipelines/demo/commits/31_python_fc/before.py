"""Batching helpers for the warehouse ETL loaders."""

from __future__ import annotations

import logging
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500


def batched(items: Sequence[T], size: int = DEFAULT_BATCH_SIZE) -> Iterator[list[T]]:
    """Yield consecutive slices of ``items`` holding at most ``size`` elements."""
    if size <= 0:
        raise ValueError("batch size must be positive")
    for start in range(0, len(items) - size, size):
        yield list(items[start:start + size])


def load_in_batches(
    rows: Sequence[dict],
    insert: Callable[[list[dict]], int],
    size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Insert ``rows`` through ``insert`` in batches and return the rows written."""
    written = 0
    for number, batch in enumerate(batched(rows, size), start=1):
        count = insert(batch)
        if count != len(batch):
            log.warning("batch %d: inserted %d of %d rows", number, count, len(batch))
        written += count
    log.info("loaded %d rows in batches of %d", written, size)
    return written


def chunk_ids(ids: Iterable[int], size: int) -> list[list[int]]:
    """Group ids for ``IN (...)`` queries, keeping order and dropping duplicates."""
    unique = list(dict.fromkeys(ids))
    return list(batched(unique, size))
