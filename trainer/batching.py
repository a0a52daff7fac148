"""Rank-aware micro-batching of tokenised pairs (no torch).

Every rank reads the same record stream and tokenises it, so every rank agrees
on which pairs were skipped and on how many micro-batches an epoch has; FSDP and
DDP need every rank to run the same number of forward passes. A *global* batch
of `batch_size * world_size` encoded pairs is then split by stride, so rank `r`
trains on items `r, r + world, ...`.

Each micro-batch carries the number of stream rows consumed up to its last pair
(`MicroBatch.position`), which the trainer saves as the resume position.
"""

__all__ = ["MicroBatch", "micro_batches"]

import collections
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from trainer.data import PairRecord
from trainer.tokenization import EncodedPair, encode_pair


class MicroBatch(NamedTuple):
    """This rank's share of one global micro-batch.

    Attributes:
        pairs: Encoded pairs for this rank (at least one).
        position: Stream rows consumed once this global batch is done.
        valid: How many leading `pairs` count (the rest repeat earlier pairs to
            keep ranks in step at the end of an evaluation stream).
    """

    pairs: list[EncodedPair]
    position: int
    valid: int


def micro_batches(
    records: Iterable[PairRecord],
    tokenizer: Any,
    *,
    batch_size: int,
    max_length: int,
    rank: int = 0,
    world_size: int = 1,
    start_position: int = 0,
    truncate_response: bool = True,
    pad_last: bool = False,
    skipped: collections.Counter | None = None,
) -> Iterator[MicroBatch]:
    """Tokenises records and yields this rank's micro-batches.

    Args:
        records: Pair records (already positioned at `start_position`).
        tokenizer: A `transformers` tokenizer with a chat template.
        batch_size: Pairs per rank per micro-batch.
        max_length: Maximum tokens per sequence.
        rank: This process's rank.
        world_size: Number of processes.
        start_position: Rows of the stream consumed before `records` starts.
        truncate_response: Cut over-long responses instead of skipping the pair.
        pad_last: Fill the final partial global batch by repeating pairs (marked
            invalid) so every rank gets `batch_size` pairs; when False a final
            batch with fewer than `world_size` pairs is dropped.
        skipped: Counter updated with skip reasons.

    Yields:
        `MicroBatch`es.
    """
    global_size = batch_size * world_size
    buffer: list[EncodedPair] = []
    position = start_position
    for record in records:
        position += 1
        encoded = encode_pair(tokenizer, record, max_length, truncate_response=truncate_response)
        if isinstance(encoded, str):
            if skipped is not None:
                skipped[encoded] += 1
            continue
        buffer.append(encoded)
        if len(buffer) == global_size:
            yield MicroBatch(buffer[rank::world_size], position, batch_size)
            buffer = []
    if not buffer:
        return
    if pad_last:
        real = len(buffer)
        filled = [buffer[i % real] for i in range(global_size)]
        mine = list(range(rank, global_size, world_size))
        valid = sum(1 for i in mine if i < real)
        # Strided positions below `real` come first in `mine`, so the valid pairs
        # of this rank are a prefix of its share.
        yield MicroBatch([filled[i] for i in mine], position, valid)
    elif len(buffer) >= world_size:
        share = buffer[rank::world_size]
        yield MicroBatch(share, position, len(share))
