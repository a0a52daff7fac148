r"""The principle texts of the reward model's system prompt, read from YAML (paper-facts §1.3).

A system prompt is the `base` text (the judge's framing and the general
principles) followed by numbered code principles: one (a pair's own criterion),
all five in a drawn order (training), or all five in `full_order` (the `full`
evaluation prompt). codepref's own texts are `schemas/principles.yaml`; a user
can plug in the exact texts their reward model was trained with:

    base: |
      You are a judge ... 1. Helpfulness: ... 2. Harmlessness: ...
    criteria:                       # one paragraph per code criterion (any spelling
      Functional_Correctness: ...   # `schemas.labels.normalize_aspect` reads)
      Memory Efficiency: ...
      ...
    full_order: [Memory Efficiency, Functional Correctness, Readability and Maintainability,
                 Runtime Efficiency, Security Hardness]
    item_format: "{number}. {text}" # how one principle is written
    first_number: 3                 # the number of the first code principle
    separator: "\n\n"             # between the base and each principle
    suffix: ""                      # after the last one (Themis's own code ends with "\n\n")

`--principles FILE` (train, eval, build) and `system.principles` (build configs)
read such a file; the texts, not the path, go into config ids.
"""

__all__ = ["DEFAULT_PRINCIPLES_PATH", "Principles", "default_principles", "load_principles", "write_principles"]

import functools
import hashlib
import os
from collections.abc import Sequence

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.config_files import field_errors, read_yaml
from schemas.labels import CODE_CRITERIA, normalize_aspect


DEFAULT_PRINCIPLES_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "principles.yaml")
"""codepref's own principle texts."""


def _criterion(name: object) -> str:
    canonical = normalize_aspect(name)
    if canonical not in CODE_CRITERIA:
        raise ValueError(f"{name!r} is not a code criterion; one of {', '.join(CODE_CRITERIA)}")
    return canonical


class Principles(BaseModel):
    """The texts system prompts are made of, and how they are put together.

    Attributes:
        base: the framing and general principles, present in every system prompt.
        criteria: one paragraph per code criterion, keyed by its `schemas.labels.ASPECTS` name.
        full_order: the order of the code principles in the `full` evaluation prompt.
        item_format: a `str.format` template of one principle, over `number` and `text`.
        first_number: the number of the first code principle (the base holds the ones before).
        separator: what joins the base and the principles.
        suffix: what ends a prompt that has principles.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: str = Field(min_length=1)
    criteria: dict[str, str]
    full_order: tuple[str, ...] = (
        "Memory Efficiency",
        "Functional Correctness",
        "Readability and Maintainability",
        "Runtime Efficiency",
        "Security Hardness",
    )
    item_format: str = "{number}. {text}"
    first_number: int = 3
    separator: str = "\n\n"
    suffix: str = ""

    @field_validator("criteria")
    @classmethod
    def _every_criterion(cls, criteria: dict[str, str]) -> dict[str, str]:
        named: dict[str, str] = {}
        for name, text in criteria.items():
            canonical = _criterion(name)
            if canonical in named:
                raise ValueError(f"{canonical} is given twice")
            if not text.strip():
                raise ValueError(f"the text of {canonical} is empty")
            named[canonical] = text
        missing = [name for name in CODE_CRITERIA if name not in named]
        if missing:
            raise ValueError(f"no text for {', '.join(missing)}")
        return {name: named[name] for name in CODE_CRITERIA}

    @field_validator("full_order")
    @classmethod
    def _a_permutation(cls, order: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(_criterion(name) for name in order)
        if sorted(names) != sorted(CODE_CRITERIA):
            raise ValueError(f"must name each of {', '.join(CODE_CRITERIA)} once")
        return names

    @model_validator(mode="after")
    def _formats(self) -> "Principles":
        try:
            written = self.item_format.format(number=1, text="\x00")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"item_format {self.item_format!r} takes only {{number}} and {{text}} ({exc})") from exc
        if "\x00" not in written:
            raise ValueError(f"item_format {self.item_format!r} must contain {{text}}")
        return self

    def prompt(self, criteria: Sequence[str]) -> str:
        """The base followed by the principles of `criteria` (`ASPECTS` names), numbered in that order."""
        if not criteria:
            return self.base
        items = [
            self.item_format.format(number=number, text=self.criteria[name])
            for number, name in enumerate(criteria, start=self.first_number)
        ]
        return self.separator.join([self.base, *items]) + self.suffix

    @functools.cached_property
    def sha256(self) -> str:
        """A digest of every field: two sets of texts with the same digest write the same prompts."""
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()


def load_principles(path: str, what: str = "--principles") -> Principles:
    """Reads a principles YAML file.

    Raises:
        ValueError: the file is missing, not YAML or a field is wrong; the message names `what`, the
            file and the field.
    """
    data = read_yaml(path, what)
    try:
        return Principles.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValueError(f"{what} {path}: {field_errors(exc)}") from exc


@functools.cache
def default_principles() -> Principles:
    """Codepref's own texts (`DEFAULT_PRINCIPLES_PATH`)."""
    return load_principles(DEFAULT_PRINCIPLES_PATH, "the default principles")


def write_principles(principles: Principles, path: str) -> None:
    """Writes `principles` as YAML that `load_principles` reads back to the same texts."""
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(principles.model_dump(mode="json"), handle, sort_keys=False, allow_unicode=True, width=100)
