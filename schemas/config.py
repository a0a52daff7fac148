"""Algorithm configuration: frozen, validated, hashable into a short `config_id`."""

__all__ = ["MineConfig", "config_id"]

import dataclasses
import hashlib
import json
from typing import Any


def config_id(config: Any) -> str:
    """Returns a 12-hex-digit id of a config dataclass's canonical JSON."""
    blob = json.dumps(dataclasses.asdict(config), sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclasses.dataclass(frozen=True)
class MineConfig:
    """What `codepref mine` keeps.

    Attributes:
        licenses: lowercase SPDX ids that pass; anything else is rejected.
        min_message_chars: a message must be longer than this (characters).
        max_message_chars: a message must be shorter than this (characters).
        max_file_bytes: old and new contents must each be at most this size.
        since: keep commits with committer time ≥ this unix time (None: no bound).
        until: keep commits with committer time < this unix time (None: no bound).
        allowlist: repositories (`owner/name` or folder name) that pass; None: all.
        batch_size: commits per unit of parallel work in git mining.
        target_shard_bytes: uncompressed bytes per output Parquet shard.
        terms_dir: folder with one term list per criterion; None: the shipped lists.
    """

    licenses: tuple[str, ...]
    min_message_chars: int = 10
    max_message_chars: int = 15000
    max_file_bytes: int = 1_000_000
    since: int | None = None
    until: int | None = None
    allowlist: frozenset[str] | None = None
    batch_size: int = 256
    target_shard_bytes: int = 256 * 1024 * 1024
    terms_dir: str | None = None

    def __post_init__(self) -> None:
        """Validates ranges.

        Raises:
            ValueError: a bound or size is out of range.
        """
        if not self.licenses:
            raise ValueError("licenses must name at least one licence")
        if self.min_message_chars < 0 or self.max_message_chars <= self.min_message_chars:
            raise ValueError("need 0 <= min_message_chars < max_message_chars")
        if self.max_file_bytes <= 0 or self.batch_size <= 0 or self.target_shard_bytes <= 0:
            raise ValueError("max_file_bytes, batch_size and target_shard_bytes must be positive")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")

    @property
    def id(self) -> str:
        """The short config id recorded in the manifest."""
        return config_id(self)
