"""Evaluation system prompts for reward-model inference (paper-facts §1.3).

`prompt_for_mode` picks the evaluation prompt of a row: none, the full prompt
(all principles in the texts' `full_order`, by default the fixed order of §1.3)
or the base plus the row's criterion. The texts are `schemas.principles`
(codepref's own, or a `--principles` file); the training prompts' assignment
(`assign_system_prompt`, `PromptMix`) is in `transforms.system_prompt`, which the
pipelines share.
"""

__all__ = [
    "FULL_PROMPT_ORDER",
    "PROMPT_MODES",
    "full_prompt",
    "prompt_for_mode",
]

from schemas.principles import Principles, default_principles
from transforms.system_prompt import aspect_prompt


FULL_PROMPT_ORDER: tuple[str, ...] = default_principles().full_order
"""Order of the code principles (items 3..7) in codepref's full inference prompt (§1.3)."""

PROMPT_MODES: tuple[str, ...] = ("none", "full", "aspect")
"""Evaluation prompt modes accepted by `prompt_for_mode`."""


def full_prompt(principles: Principles | None = None) -> str:
    """Returns the full inference prompt: all principles in the texts' `full_order`."""
    principles = principles or default_principles()
    return principles.prompt(principles.full_order)


def prompt_for_mode(mode: str, aspect: str | int | None = None, principles: Principles | None = None) -> str | None:
    """Returns the evaluation system prompt for a prompt mode.

    Args:
        mode: `none` (no system prompt), `full` (all principles, fixed order) or
            `aspect` (base plus the row's criterion).
        aspect: The row's criterion; required for `aspect` mode.
        principles: The texts (codepref's own when None).

    Returns:
        The system prompt, or None in `none` mode.

    Raises:
        ValueError: If the mode is unknown or `aspect` mode has no aspect.
    """
    if mode == "none":
        return None
    if mode == "full":
        return full_prompt(principles)
    if mode == "aspect":
        if aspect is None:
            raise ValueError("prompt mode 'aspect' needs an aspect for every row")
        return aspect_prompt(aspect, principles)
    raise ValueError(f"unknown prompt mode {mode!r}; expected one of {PROMPT_MODES}")
