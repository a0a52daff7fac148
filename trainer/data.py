"""Streaming reader of codepref preference shards (pyarrow only; no torch).

Input: Parquet files with the pair schema of `schemas.arrow.pair_schema()` (only
`input`, `chosen` and `rejected` are required; `system`, `language`, `aspect`,
`source` and `idx` are used when present). Files are read batch by batch, so a
shard never has to fit in memory.

Output: `PairRecord`s with the class-label ids decoded to names and the system
prompt resolved: a non-null `system` value is kept (an empty string means "no
system prompt"); a null or absent one is assigned per paper-facts §1.4 by
`transforms.system_prompt.assign_system_prompt`, seeded by a hash of `idx`.

Training order is deterministic for a given seed and epoch: the file order is
permuted and rows pass a bounded shuffle buffer driven by a local, seeded
generator. `epoch_records(..., skip=n)` replays that order and drops the first
`n` rows without tokenising them, which is how `--resume` restores the data
position.
"""

__all__ = [
    "PairRecord",
    "count_rows",
    "epoch_records",
    "hash_seed",
    "iter_records",
    "resolve_data_files",
    "shuffle_buffer",
]

import dataclasses
import glob
import hashlib
import os
import random
from collections.abc import Iterable, Iterator, Sequence

import pyarrow.parquet as pq

from schemas.labels import ASPECTS, LANGUAGES, label_name, normalize_aspect
from schemas.pair_columns import THEMIS_COLUMNS
from schemas.principles import Principles
from transforms.hashing import stable_hash
from transforms.system_prompt import PromptMix, assign_system_prompt


_COLUMNS = THEMIS_COLUMNS
"""The columns read when present: Themis-CodePreference's, so its files train too."""
_REQUIRED = ("input", "chosen", "rejected")


@dataclasses.dataclass(frozen=True, slots=True)
class PairRecord:
    """One preference pair, ready to tokenise.

    Attributes:
        idx: Stable pair id (the `idx` column, or a content hash when absent).
        system: System prompt, or None for none.
        input: The user prompt.
        chosen: The preferred response.
        rejected: The dispreferred response.
        language: Language name (`schemas.labels.LANGUAGES`), or None.
        aspect: Criterion name (`schemas.labels.ASPECTS`), or None.
        source: Source tag, or None.
    """

    idx: str
    system: str | None
    input: str
    chosen: str
    rejected: str
    language: str | None = None
    aspect: str | None = None
    source: str | None = None


def resolve_data_files(data: str, split: str = "train") -> list[str]:
    """Lists the Parquet files of one split.

    Args:
        data: A run folder (`data/{split}-*.parquet` inside it), a folder that
            holds the shards directly, a glob pattern, or a single file.
        split: Split name used for folders (`train`, `validation`, ...).

    Returns:
        Sorted file paths; empty when a folder has no shard of that split.

    Raises:
        FileNotFoundError: If `data` is neither a folder, a file nor a matching glob.
    """
    if os.path.isdir(data):
        for folder in (os.path.join(data, "data"), data):
            files = sorted(glob.glob(os.path.join(folder, f"{split}-*.parquet")))
            if files:
                return files
        return []
    if os.path.isfile(data):
        return [data]
    files = sorted(glob.glob(data))
    if not files:
        raise FileNotFoundError(f"no Parquet file matches {data!r}")
    return files


def count_rows(files: Sequence[str]) -> int:
    """Returns the number of rows in `files`, from the Parquet footers alone."""
    return sum(pq.ParquetFile(path).metadata.num_rows for path in files)


def _label(value: object, names: tuple[str, ...]) -> str | None:
    """A label id's name; None for null, and anything else (a name, an unknown id) as text."""
    if value is None:
        return None
    name = label_name(names, value)
    return str(value) if name is None else name


def _content_id(row: dict) -> str:
    text = "\x1f".join(str(row.get(key) or "") for key in ("input", "chosen", "rejected"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _to_record(
    row: dict, mix: PromptMix, seed: int, use_system_column: bool, principles: Principles | None
) -> PairRecord:
    idx = row.get("idx")
    idx = str(idx) if idx not in (None, "") else _content_id(row)
    aspect = _label(row.get("aspect"), ASPECTS)
    system = row.get("system") if use_system_column else None
    if system is None:
        system = assign_system_prompt(idx, normalize_aspect(aspect), mix, seed, principles)
    elif system == "":
        system = None
    return PairRecord(
        idx=idx,
        system=system,
        input=row["input"],
        chosen=row["chosen"],
        rejected=row["rejected"],
        language=_label(row.get("language"), LANGUAGES),
        aspect=aspect,
        source=row.get("source"),
    )


def iter_records(
    files: Sequence[str],
    *,
    mix: PromptMix | None = None,
    seed: int = 0,
    use_system_column: bool = True,
    batch_rows: int = 1024,
    principles: Principles | None = None,
) -> Iterator[PairRecord]:
    """Streams the pairs of `files` in file order, one Arrow record batch at a time.

    Args:
        files: Parquet paths, read in the given order.
        mix: System-prompt mix for rows without a `system` value.
        seed: Salt of the system-prompt hash.
        use_system_column: When False, every row gets an assigned prompt.
        batch_rows: Rows per Arrow batch read.
        principles: The texts of assigned prompts (codepref's own when None).

    Yields:
        One `PairRecord` per row.

    Raises:
        ValueError: If a file lacks `input`, `chosen` or `rejected`.
    """
    mix = mix or PromptMix()
    for path in files:
        parquet = pq.ParquetFile(path)
        present = set(parquet.schema_arrow.names)
        missing = [name for name in _REQUIRED if name not in present]
        if missing:
            raise ValueError(f"{path} lacks required column(s) {missing}")
        columns = [name for name in _COLUMNS if name in present]
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
            for row in batch.to_pylist():
                yield _to_record(row, mix, seed, use_system_column, principles)


def shuffle_buffer(items: Iterable, size: int, seed: int) -> Iterator:
    """Yields `items` in a pseudo-random order using a bounded buffer.

    Args:
        items: Any iterable.
        size: Buffer capacity; 0 or 1 keeps the input order.
        seed: Seed of the local generator, so the order is reproducible.

    Yields:
        The same items, locally shuffled.
    """
    if size <= 1:
        yield from items
        return
    rng = random.Random(seed)
    buffer: list = []
    for item in items:
        if len(buffer) < size:
            buffer.append(item)
            continue
        pick = rng.randrange(size)
        yield buffer[pick]
        buffer[pick] = item
    rng.shuffle(buffer)
    yield from buffer


def epoch_records(
    files: Sequence[str],
    *,
    epoch: int,
    seed: int,
    shuffle: bool = True,
    buffer_size: int = 10_000,
    skip: int = 0,
    mix: PromptMix | None = None,
    use_system_column: bool = True,
    principles: Principles | None = None,
) -> Iterator[PairRecord]:
    """Streams one epoch of training pairs in a reproducible shuffled order.

    Args:
        files: Parquet paths.
        epoch: Epoch number; each epoch has its own order.
        seed: Run seed (orders and system prompts).
        shuffle: Permute files and use a shuffle buffer; False keeps file order.
        buffer_size: Shuffle buffer capacity in rows.
        skip: Number of leading rows of this order to drop (resume position).
        mix: System-prompt mix for rows without a `system` value.
        use_system_column: When False, every row gets an assigned prompt.
        principles: The texts of assigned prompts (codepref's own when None).

    Yields:
        `PairRecord`s, after the first `skip`.
    """
    ordered = list(files)
    if shuffle:
        random.Random(f"files:{seed}:{epoch}").shuffle(ordered)
    records = iter_records(ordered, mix=mix, seed=seed, use_system_column=use_system_column, principles=principles)
    if shuffle:
        records = shuffle_buffer(records, buffer_size, seed=hash_seed(seed, epoch))
    for position, record in enumerate(records):
        if position >= skip:
            yield record


def hash_seed(*parts: object) -> int:
    """Returns a stable 63-bit integer seed derived from `parts`."""
    return stable_hash("\x1f".join(str(part) for part in parts), "blake2b") >> 1
