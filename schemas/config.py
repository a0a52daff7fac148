"""Algorithm configuration: frozen, validated, hashable into a short `config_id`."""

__all__ = ["CodeConfig", "MineConfig", "config_id"]

import dataclasses
import hashlib
import json
from typing import Any

from schemas.labels import MUTATION_OPERATORS


def config_id(config: Any) -> str:
    """Returns a 12-hex-digit id of a config's canonical JSON (a dataclass or a pydantic model)."""
    data = config.model_dump(mode="json") if hasattr(config, "model_dump") else dataclasses.asdict(config)
    blob = json.dumps(data, sort_keys=True, default=list)
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
        content_dedup: remove exact and near duplicates of file contents (`schemas.dedup.CONTENT_DEDUP`).
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
    content_dedup: bool = True

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


@dataclasses.dataclass(frozen=True)
class CodeConfig:
    """How code is parsed, focused and mutated.

    Attributes:
        function_level: one pair per changed function (True) or whole files.
        allow_syntax_errors: keep pairs whose chosen code has syntax errors.
        min_depth: the least syntax-tree depth (root = 1) of chosen code.
        max_old_error_nodes: the most error nodes allowed in rejected code.
        operators: the AST mutation operators for bugged-instruct pairs.
        llm_bugs: plant bugs with the LLM (`bug_introduction`) instead of AST mutations.
        seed: mixed into each mutation's seed.
    """

    function_level: bool = True
    allow_syntax_errors: bool = False
    min_depth: int = 3
    max_old_error_nodes: int = 5
    operators: tuple[str, ...] = MUTATION_OPERATORS
    llm_bugs: bool = False
    seed: int = 77

    def __post_init__(self) -> None:
        """Validates ranges.

        Raises:
            ValueError: min_depth < 1, negative error budget, or no operator.
        """
        if self.min_depth < 1 or self.max_old_error_nodes < 0 or not self.operators:
            raise ValueError("need min_depth >= 1, max_old_error_nodes >= 0 and at least one operator")

    def syntax(self):  # noqa: ANN201 - transforms.code.syntax.SyntaxConfig, imported lazily
        """The syntax filter's config."""
        from transforms.code.syntax import SyntaxConfig

        return SyntaxConfig(
            allow_syntax_errors=self.allow_syntax_errors,
            min_depth=self.min_depth,
            max_old_error_nodes=self.max_old_error_nodes,
        )
