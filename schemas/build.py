"""The `codepref build` config: every source and stage of one release, in one YAML file.

    sources:
      repos: [path/to/repo]              # git repositories: mined, rated, instructed, judged
      commit_files: [commits/*.parquet]  # commit rows (the mine schema)
      instructions:                      # an instruction set: bugged-instruct pairs
        files: [tasks.jsonl]
        test_column: test                # optional: tests that every planted bug must break
        execution: {max_attempts: 8}     # ExecutionConfig fields (schemas.config)
      preference:                        # external preference datasets
        - name: cybernative              # the pairs' `source`
          preset: cybernative-dpo        # a layout of transforms.sources.preference.PRESETS
          files: [data/cybernative/*.parquet]
    mine: {licenses: [mit, apache-2.0]}  # MineConfig fields (schemas.config); the shard size is target_shard_mb
    code: {function_level: true}         # CodeConfig fields (schemas.config)
    llm: llm.yaml                        # LabelConfig: a file or the fields inline
    filters: {split: {validation_fraction: 0.02}}   # FinalConfig: a file or the fields inline
    mix: {caps: {cybernative: 1000}, targets: {Security Hardness: {Python: 500}}}
    system: {none: 0.15, single: 0.60, all: 0.25, seed: 0, principles: my-principles.yaml}
    target_shard_mb: 256

`system.principles` (a file or the fields inline; `schemas.principles`) gives the texts of the system
prompts; the config's dump and id hold the texts themselves. Relative paths (the LLM cache's too)
are taken from the config file's folder. Every model forbids unknown fields, so a typo is an error
that names the field. `mine` and `code` are read as
`codepref mine` and `codepref label` read their flags (licence presets, dates, operator names);
they serialise as the fields the file sets, so a config's dump and id say what it says.
"""

__all__ = [
    "BuildConfig",
    "ColumnMap",
    "EfficiencyPairing",
    "InstructionSource",
    "MixConfig",
    "PreferenceSource",
    "Sources",
    "SystemConfig",
    "load_build_config",
]

import os
from typing import Any

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)

from schemas.config import CodeConfig, ExecutionConfig, MineConfig, config_problems
from schemas.config_files import read_yaml
from schemas.final import FinalConfig, _resolve, _resolve_paths
from schemas.labels import ASPECTS, normalize_aspect, pair_language
from schemas.llm import LabelConfig
from schemas.principles import Principles, default_principles


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _aspect(value: str | None) -> str | None:
    """A criterion in any spelling `schemas.labels.normalize_aspect` reads, as its `ASPECTS` name."""
    if value is None:
        return None
    name = normalize_aspect(value)
    if name is None:
        raise ValueError(f"{value!r} is not a criterion; one of {', '.join(ASPECTS)}")
    return name


def _language(value: str | None) -> str | None:
    if value is not None and pair_language(value) is None:
        raise ValueError(f"{value!r} is not one of C, C#, C++, Go, Java, JavaScript, Python, Ruby, NL")
    return pair_language(value) if value is not None else None


class InstructionSource(_Frozen):
    """An instruction dataset whose solutions get a planted bug (bugged-instruct pairs).

    Attributes:
        files: JSONL/Parquet globs (local or gs://).
        instruction_column: the column of the instruction.
        solution_column: the column of the reference solution.
        language_column: the column of the language (None: code fence tag, or detected).
        language: the language of every row (overrides the column).
        test_column: the column of each solution's tests (None: no tests, the pairs are not
            execution-verified); see `transforms.execution.languages` for their shape.
        entry_point_column: the column naming the function the tests' `check(candidate)` is given.
        execution: how the pairs are verified against the tests (with `test_column` only).

    The execution fields are left out of the dump while no test column is set, so a
    config without tests keeps the id it had before they existed.
    """

    files: tuple[str, ...] = Field(min_length=1)
    instruction_column: str = "instruction"
    solution_column: str = "solution"
    language_column: str | None = "language"
    language: str | None = None
    test_column: str | None = None
    entry_point_column: str | None = None
    execution: ExecutionConfig = ExecutionConfig()

    _check_language = field_validator("language")(_language)

    @model_validator(mode="after")
    def _tests_named(self) -> "InstructionSource":
        if self.entry_point_column and not self.test_column:
            raise ValueError("entry_point_column needs test_column (the tests that call the entry point)")
        return self

    @model_serializer(mode="wrap")
    def _without_unused_execution(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if self.test_column is None:
            for name in ("test_column", "entry_point_column", "execution"):
                data.pop(name, None)
        return data


class ColumnMap(_Frozen):
    """Where a pair dataset keeps each field; a language or criterion may be a constant instead.

    Attributes:
        prompt: the prompt column (None: the source's `prompt_template`).
        chosen: the preferred response column.
        rejected: the other response column.
        language: the language column (values like `python`, `cpp`, `C#`), or None.
        aspect: the criterion column (criterion names), or None.
    """

    prompt: str | None = "prompt"
    chosen: str = "chosen"
    rejected: str = "rejected"
    language: str | None = "language"
    aspect: str | None = None


class EfficiencyPairing(_Frozen):
    """Pairs of solutions to one problem where one is much faster or smaller (Venus, CodeNet, ECCO).

    A row is one solution, or (with `solutions`) a problem whose columns hold lists
    of solutions, each a mapping with the `code` and measurement keys. Solutions
    of a problem (and of one submitter, where `submitter` is set) are ranked by a
    measurement; the best and the worst make a pair when the worse one
    costs at least `min_ratio` times as much, then the next best and next worst,
    up to `max_pairs` per group. Runtime pairs are Runtime Efficiency, memory
    pairs Memory Efficiency.

    Attributes:
        problem: the column identifying the problem.
        prompt: the column holding the problem statement (None: the source's `prompt_template`).
        code: the column (or solution key) holding a solution's code.
        runtime: the runtime column or key (any unit), or None.
        memory: the memory column or key (any unit), or None.
        submitter: the column identifying the submitter, or None.
        solutions: columns holding lists of solutions (empty: a row is one solution).
        min_ratio: how many times faster or smaller the chosen solution must be.
        max_pairs: most pairs per group and measurement.
    """

    problem: str
    prompt: str | None = None
    code: str = "code"
    runtime: str | None = None
    memory: str | None = None
    submitter: str | None = None
    solutions: tuple[str, ...] = ()
    min_ratio: float = Field(5.0, gt=1.0)
    max_pairs: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _a_measurement(self) -> "EfficiencyPairing":
        if self.runtime is None and self.memory is None:
            raise ValueError("give runtime, memory or both")
        return self


class PreferenceSource(_Frozen):
    """An external preference dataset read as pairs.

    A `preset` fills `columns`, `efficiency`, `language`, `aspect` and `license`
    from a known public layout (`transforms.sources.preference.PRESETS`); fields
    set here override it. Without a preset, `license` is required.

    Attributes:
        name: the pairs' `source` value, and the key of `mix.caps`.
        preset: a known layout.
        files: JSONL/Parquet globs (local or gs://).
        hub: a Hugging Face dataset id, read through `datasets` (needs the network), instead of files.
        split: the Hub split.
        columns: where the pair's fields are (pair datasets).
        efficiency: how pairs are made from measured solutions (solution datasets).
        language: the language of every row (overrides the column).
        aspect: the criterion of every row (overrides the column).
        prompt_template: the prompt when no column holds one: a `str.format` template
            over the row's columns, e.g. "Solve problem {problem_id} in {language}."
        keep: column → the value a row needs to be read (e.g. `status: Accepted`);
            other rows are rejected `not_kept`.
        license: the dataset's SPDX licence id, from its card; it must be permissive.
    """

    name: str = Field(min_length=1)
    preset: str | None = None
    files: tuple[str, ...] = ()
    hub: str | None = None
    split: str = "train"
    columns: ColumnMap | None = None
    efficiency: EfficiencyPairing | None = None
    language: str | None = None
    aspect: str | None = None
    prompt_template: str | None = None
    keep: dict[str, Any] = {}
    license: str | None = None

    _check_language = field_validator("language")(_language)
    _check_aspect = field_validator("aspect")(_aspect)

    @model_validator(mode="after")
    def _one_input(self) -> "PreferenceSource":
        if bool(self.files) == bool(self.hub):
            raise ValueError("give files or hub, not both")
        return self


class Sources(_Frozen):
    """Everything a release is built from."""

    repos: tuple[str, ...] = ()
    commit_files: tuple[str, ...] = ()
    instructions: InstructionSource | None = None
    preference: tuple[PreferenceSource, ...] = ()

    @model_validator(mode="after")
    def _something(self) -> "Sources":
        if not (self.repos or self.commit_files or self.instructions or self.preference):
            raise ValueError("name at least one source")
        names = [s.name for s in self.preference]
        if len(set(names)) != len(names):
            raise ValueError(f"preference source names must differ: {names}")
        return self


class MixConfig(_Frozen):
    """How many pairs of each kind the release keeps (chosen by a hash of the pair id).

    Attributes:
        caps: source → the most pairs kept from it.
        targets: criterion → language → the most pairs kept of that cell.
    """

    caps: dict[str, int] = {}
    targets: dict[str, dict[str, int]] = {}

    @field_validator("caps")
    @classmethod
    def _positive(cls, caps: dict[str, int]) -> dict[str, int]:
        bad = [k for k, v in caps.items() if v < 0]
        if bad:
            raise ValueError(f"caps must be >= 0: {bad}")
        return caps

    @field_validator("targets")
    @classmethod
    def _cells(cls, targets: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        out = {}
        for aspect, cells in targets.items():
            name = _aspect(aspect)
            if name in out:
                raise ValueError(f"targets name {name} twice")
            out[name] = {_language(language): n for language, n in cells.items()}
            if any(n < 0 for n in cells.values()):
                raise ValueError(f"targets of {aspect} must be >= 0")
        return out


class SystemConfig(_Frozen):
    """The `system` column (paper-facts §1.4), drawn from a hash of the pair id.

    Attributes:
        enabled: fill the column (False: leave it empty).
        none: share of pairs with no system prompt.
        single: share with the base prompt and the pair's criterion.
        all: share with the base prompt and every code criterion, shuffled.
        seed: salt of the draw.
        principles: the texts the prompts are made of (`schemas.principles`; a YAML file or the
            fields inline); None: codepref's own (a copy of them reads as None). Left out of the
            dump when None, so a config without it keeps its id.
    """

    enabled: bool = True
    none: float = Field(0.15, ge=0)
    single: float = Field(0.60, ge=0)
    all: float = Field(0.25, ge=0)
    seed: int = 0
    principles: Principles | None = None

    @field_validator("principles")
    @classmethod
    def _none_for_codepref_texts(cls, texts: Principles | None) -> Principles | None:
        """The default texts, given as a file, are no texts: the same release, the same id."""
        return None if texts == default_principles() else texts

    @model_serializer(mode="wrap")
    def _without_default_texts(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if self.principles is None:
            data.pop("principles", None)
        return data

    @model_validator(mode="after")
    def _shares(self) -> "SystemConfig":
        if abs(self.none + self.single + self.all - 1.0) > 1e-6:
            raise ValueError("none + single + all must be 1")
        return self


class BuildConfig(_Frozen):
    """One release: its sources, the stages' settings and the output.

    Attributes:
        mine: the mining settings (licences default to `permissive`); its `target_shard_bytes`
            is always `target_shard_mb`, so it is left out of the dump.
        code: the tree-sitter and mutation settings.
    """

    sources: Sources
    mine: MineConfig = MineConfig()
    code: CodeConfig = CodeConfig()
    llm: LabelConfig | None = None
    filters: FinalConfig = FinalConfig()
    mix: MixConfig = MixConfig()
    system: SystemConfig = SystemConfig()
    target_shard_mb: int = Field(256, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _mine_shard_size(cls, data: Any) -> Any:
        """Gives the mine settings the release's shard size (a bad `target_shard_mb` is left to its field)."""
        if not isinstance(data, dict):
            return data
        mb = data.get("target_shard_mb", 256)
        mine = data.get("mine", {})
        if isinstance(mine, MineConfig):
            mine = mine.model_dump(exclude_unset=True)
        if not isinstance(mb, int) or isinstance(mb, bool) or mb < 1 or not isinstance(mine, dict):
            return data
        return {**data, "mine": {**mine, "target_shard_bytes": mb << 20}}

    @field_serializer("mine", "code")
    def _as_written(self, section: MineConfig | CodeConfig) -> dict[str, Any]:
        """The fields the config sets (a section it leaves out dumps as {}); the shard size is `target_shard_mb`."""
        return section.model_dump(mode="json", exclude_unset=True, exclude={"target_shard_bytes"})

    @model_validator(mode="after")
    def _llm_when_needed(self) -> "BuildConfig":
        labelled = self.sources.repos or self.sources.commit_files or self.code.llm_bugs
        if labelled and self.llm is None:
            raise ValueError("llm: commit sources (and llm_bugs) need an LLM config")
        return self


def _problems(exc: pydantic.ValidationError) -> str:
    """`field.path: message; ...`; a problem of the mine or code settings reads `mine: field: message`.

    The mine and code settings are worded as their flags' are (`schemas.config.config_problems`).
    """
    problems = []
    for error in exc.errors():
        section = error["loc"][0] if error["loc"] else None
        if section in ("mine", "code"):
            problems.append(f"{section}: {config_problems([{**error, 'loc': error['loc'][1:]}])}")
        else:
            problems.append(f"{'.'.join(map(str, error['loc']))}: {error['msg']}")
    return "; ".join(problems)


def _resolve_sources(sources: dict, base: str) -> dict:
    sources = dict(sources)
    for key in ("repos", "commit_files"):
        sources[key] = [_resolve(p, base) for p in sources.get(key) or ()]
    for item in [sources.get("instructions"), *(sources.get("preference") or ())]:
        if isinstance(item, dict) and isinstance(item.get("files"), list):
            item["files"] = [_resolve(p, base) for p in item["files"]]
    return sources


def load_build_config(path: str) -> BuildConfig:
    """Reads and validates a build config; `llm` and `filters` may name their own YAML files.

    Raises:
        ValueError: a file is missing or not YAML, or a field is wrong (named in the message).
    """
    data = read_yaml(path, "--config")
    base = os.path.dirname(os.path.abspath(path))
    if not isinstance(data, dict):
        raise ValueError(f"--config {path}: the top level must be a mapping")
    if isinstance(data.get("sources"), dict):
        data["sources"] = _resolve_sources(data["sources"], base)
    system = data.get("system")
    if isinstance(system, dict) and isinstance(system.get("principles"), str):
        system["principles"] = read_yaml(_resolve(system["principles"], base), "system.principles:")
    if isinstance(data.get("llm"), str):
        data["llm"] = read_yaml(_resolve(data["llm"], base), "llm:")
    if isinstance(data.get("llm"), dict):
        data["llm"]["cache"] = _resolve(data["llm"].get("cache", "llm-cache.sqlite"), base)
    filters_base = base
    if isinstance(data.get("filters"), str):
        filters_path = _resolve(data["filters"], base)
        data["filters"] = read_yaml(filters_path, "filters:")
        filters_base = os.path.dirname(os.path.abspath(filters_path))
    try:
        cfg = BuildConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValueError(f"--config {path}: {_problems(exc)}") from exc
    return cfg.model_copy(update={"filters": _resolve_paths(cfg.filters, filters_base)})
