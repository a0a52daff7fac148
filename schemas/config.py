"""Algorithm configuration: frozen pydantic models, validated where they are declared, hashed into a `config_id`.

`MineConfig` (what `codepref mine` keeps), `CodeConfig` (how code is parsed,
focused and mutated), `SyntaxConfig` (what the syntax filter keeps) and
`ExecutionConfig` (how planted bugs are verified against tests) accept
what a flag or a YAML key gives and normalise it: licences as a preset name
(`permissive`, `themis`), a comma string or a list; `since`/`until` as a unix
time, a date or an ISO time (UTC unless it says otherwise); mutation operators
checked against `schemas.labels.MUTATION_OPERATORS`. Every model forbids unknown
fields. `config_problems` words a validation error with the caller's own names
for the fields (its flags), and `config_id` is the one short id of any config.
"""

__all__ = [
    "LICENSE_PRESETS",
    "PERMISSIVE_LICENSES",
    "THEMIS_LICENSES",
    "CodeConfig",
    "ExecutionConfig",
    "MineConfig",
    "SyntaxConfig",
    "config_id",
    "config_problems",
]

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator
from pydantic_core import ErrorDetails

from schemas.labels import MUTATION_OPERATORS


PERMISSIVE_LICENSES: tuple[str, ...] = (
    "mit",
    "apache-2.0",
    "bsd-2-clause",
    "bsd-3-clause",
    "isc",
    "unlicense",
    "cc0-1.0",
    "artistic-2.0",
    "mpl-2.0",
    "epl-1.0",
    "0bsd",
    "zlib",
)
"""Licences codepref passes by default: permissive ones only."""

THEMIS_LICENSES: tuple[str, ...] = (
    "mit",
    "artistic-2.0",
    "isc",
    "cc0-1.0",
    "epl-1.0",
    "mpl-2.0",
    "unlicense",
    "apache-2.0",
    "bsd-3-clause",
    "agpl-3.0",
    "lgpl-2.1",
    "bsd-2-clause",
)
"""The 12 licences of the Themis mining query; it includes two copyleft ones."""

LICENSE_PRESETS: dict[str, tuple[str, ...]] = {"permissive": PERMISSIVE_LICENSES, "themis": THEMIS_LICENSES}
"""The licence lists a name stands for (`--licenses themis`)."""


def config_id(config: BaseModel | Mapping[str, Any]) -> str:
    """Returns a 12-hex-digit id of a config's canonical JSON: a pydantic model's JSON dump, or JSON-ready data.

    Keys are sorted; a set (never expected in JSON data) is hashed sorted, so an id never depends on hash order.
    """
    data = config.model_dump(mode="json") if isinstance(config, BaseModel) else config
    blob = json.dumps(data, sort_keys=True, default=sorted)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def config_problems(
    errors: pydantic.ValidationError | Iterable[ErrorDetails], names: Mapping[str, str] | None = None
) -> str:
    """`where: message; ...` for each error of a config's validation, worded for the caller.

    `where` is the field's name in `names` (the caller's flag, e.g. `licenses` → `--licenses`)
    or its dotted path; an error of the whole config is its message alone. Pydantic's
    `Value error, ` prefix is dropped, so a validator's message reads as written.
    """
    if isinstance(errors, pydantic.ValidationError):
        errors = errors.errors()
    names = names or {}
    problems = []
    for error in errors:
        message = error["msg"].removeprefix("Value error, ")
        path = ".".join(map(str, error["loc"]))
        where = names.get(path, path)
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _license_list(spec: object) -> tuple[str, ...]:
    """Lowercase licence ids from a preset name (`permissive`, `themis`), a comma string or a list."""
    if isinstance(spec, str):
        spec = LICENSE_PRESETS.get(spec) or spec.split(",")
    if not isinstance(spec, list | tuple | set | frozenset):
        raise ValueError(f"{spec!r}: give a preset (permissive, themis), a comma list or a list of SPDX ids")
    return tuple(str(x).strip().lower() for x in spec if str(x).strip())


def _unix_time(value: object) -> int | None:
    """A unix time as it is, or a date or ISO time (UTC unless it says otherwise) as one; None or '' is None.

    Raises:
        ValueError: not a date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD or 2019-03-01T00:00:00") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp())


class MineConfig(_Frozen):
    """What `codepref mine` keeps.

    Attributes:
        licenses: lowercase SPDX ids that pass; anything else is rejected. Given as
            a preset (`permissive`, the default; `themis`), a comma string or a list.
        min_message_chars: a message must be longer than this (characters).
        max_message_chars: a message must be shorter than this (characters).
        max_file_bytes: old and new contents must each be at most this size.
        since: keep commits with committer time ≥ this unix time (None: no bound);
            given as a unix time, a date or an ISO time (UTC unless it says otherwise).
        until: keep commits with committer time < this unix time (None: no bound); as `since`.
        allowlist: repositories (`owner/name` or folder name) that pass; None: all.
        batch_size: commits per unit of parallel work in git mining.
        target_shard_bytes: uncompressed bytes per output Parquet shard.
        terms_dir: folder with one term list per criterion; None: the shipped lists.
        content_dedup: remove exact and near duplicates of file contents (`schemas.dedup.CONTENT_DEDUP`).
    """

    licenses: tuple[str, ...] = PERMISSIVE_LICENSES
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

    @field_validator("licenses", mode="before")
    @classmethod
    def _licenses(cls, value: object) -> tuple[str, ...]:
        licenses = _license_list(value)
        if not licenses:
            raise ValueError("must name at least one licence")
        return licenses

    @field_validator("since", "until", mode="before")
    @classmethod
    def _since_until(cls, value: object) -> int | None:
        return _unix_time(value)

    @field_serializer("allowlist")
    def _sorted(self, allowlist: frozenset[str] | None) -> list[str] | None:
        return None if allowlist is None else sorted(allowlist)

    @model_validator(mode="after")
    def _ranges(self) -> "MineConfig":
        if self.min_message_chars < 0 or self.max_message_chars <= self.min_message_chars:
            raise ValueError("need 0 <= min_message_chars < max_message_chars")
        if self.max_file_bytes <= 0 or self.batch_size <= 0 or self.target_shard_bytes <= 0:
            raise ValueError("max_file_bytes, batch_size and target_shard_bytes must be positive")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")
        return self

    @property
    def id(self) -> str:
        """The short config id recorded in the manifest."""
        return config_id(self)


class SyntaxConfig(_Frozen):
    """What the syntax filter (`transforms.code.syntax`) keeps.

    Attributes:
        allow_syntax_errors: keep pairs whose chosen code has syntax errors.
        min_depth: the least tree depth (named nodes, root = 1) of chosen code.
        max_old_error_nodes: the most ERROR/MISSING nodes allowed in rejected code.
        max_bytes: the parse budget per side, in UTF-8 bytes.
    """

    allow_syntax_errors: bool = False
    min_depth: int = 3
    max_old_error_nodes: int = 5
    max_bytes: int = 1_000_000

    @model_validator(mode="after")
    def _ranges(self) -> "SyntaxConfig":
        if self.min_depth < 1 or self.max_old_error_nodes < 0 or self.max_bytes <= 0:
            raise ValueError("need min_depth >= 1, max_old_error_nodes >= 0 and max_bytes > 0")
        return self

    @property
    def id(self) -> str:
        """The short config id recorded in the manifest."""
        return config_id(self)


class CodeConfig(_Frozen):
    """How code is parsed, focused and mutated.

    Attributes:
        function_level: one pair per changed function (True) or whole files.
        allow_syntax_errors: keep pairs whose chosen code has syntax errors.
        min_depth: the least syntax-tree depth (root = 1) of chosen code.
        max_old_error_nodes: the most error nodes allowed in rejected code.
        operators: the AST mutation operators for bugged-instruct pairs (`schemas.labels.MUTATION_OPERATORS`).
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

    @field_validator("operators")
    @classmethod
    def _known_operators(cls, operators: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [o for o in operators if o not in MUTATION_OPERATORS]
        if unknown:
            raise ValueError(f"unknown {', '.join(unknown)}; known: {', '.join(MUTATION_OPERATORS)}")
        return operators

    @model_validator(mode="after")
    def _ranges(self) -> "CodeConfig":
        if self.min_depth < 1 or self.max_old_error_nodes < 0 or not self.operators:
            raise ValueError("need min_depth >= 1, max_old_error_nodes >= 0 and at least one operator")
        return self

    def syntax(self) -> SyntaxConfig:
        """The syntax filter's config."""
        return SyntaxConfig(
            allow_syntax_errors=self.allow_syntax_errors,
            min_depth=self.min_depth,
            max_old_error_nodes=self.max_old_error_nodes,
        )


class ExecutionConfig(_Frozen):
    """How bugged-instruct pairs are verified against their tests (`transforms.execution`).

    Attributes:
        max_attempts: the most mutants tried per solution before it is rejected `equivalent_mutant`.
        timeout_s: wall-clock seconds one test run may take.
        cpu_s: CPU seconds one test run may use.
        memory_mb: address space per process of a test run, in MiB.
        output_kb: KiB of stdout and stderr kept per run.
        prefer_covered: try mutants on lines the tests execute first (where the language can trace them).
    """

    max_attempts: int = Field(8, ge=1, le=64)
    timeout_s: float = Field(10.0, gt=0, le=600)
    cpu_s: int = Field(10, ge=1, le=600)
    memory_mb: int = Field(2048, ge=64)
    output_kb: int = Field(64, ge=1)
    prefer_covered: bool = True

    @property
    def candidate_pool(self) -> int:
        """How many mutants the mutation stage offers per solution: room to prefer the covered ones."""
        return 4 * self.max_attempts
