"""The system prompts of reward-model training data, and which pair gets which (paper-facts §1.3, §1.4).

The reward model is conditioned on an optional system prompt that lists the
principles it should judge by (paper-facts §1.3). The texts are data
(`schemas.principles`: codepref's own in `schemas/principles.yaml`, or a user's
file); this module puts them together and holds `assign_system_prompt`, which picks the
training prompt of a pair from a stable hash of its `idx` (paper-facts §1.4): no
prompt, the base plus the pair's own criterion, or the base plus all five code
criteria in a hash-shuffled order. The mix is configurable (`PromptMix`); the
default is the reference code's 15% / 60% / 25%, and the paper's 15% / 65% / 20%
is one flag away (§7.1).

Two parts of codepref use it, so it sits outside both: `codepref build` writes the
`system` column with it (`pipelines.build`), and the trainer assigns prompts to
rows without one (`trainer.data`); the trainer's evaluation prompts
(`trainer.prompts`) are built from the same texts.

Nothing here draws from the global `random` state: the same `idx`, mix and seed
always give the same prompt, on every worker and every rank. The hash is
`transforms.hashing.stable_unit` over 8-byte BLAKE2b.
"""

__all__ = [
    "BASE_PROMPT",
    "CODE_PRINCIPLES",
    "PromptMix",
    "all_criteria_prompt",
    "aspect_prompt",
    "assign_system_prompt",
    "canonical_aspect",
]

import dataclasses
import random

from schemas.labels import ASPECTS, CODE_CRITERIA, label_name, normalize_aspect
from schemas.principles import Principles, default_principles
from transforms.hashing import stable_unit


BASE_PROMPT: str = default_principles().base
"""codepref's judge framing plus the two general principles (`schemas/principles.yaml`)."""

CODE_PRINCIPLES: dict[str, str] = dict(default_principles().criteria)
"""codepref's paragraph per code criterion, keyed by the `schemas.labels.ASPECTS` name."""


def canonical_aspect(aspect: str | int | None) -> str | None:
    """Returns the `ASPECTS` name of a class-label id, an ASPECTS name or an alias.

    Args:
        aspect: A ClassLabel id (0..6), or any spelling `schemas.labels.normalize_aspect`
            accepts (an `ASPECTS` name, a CodeRewardBench string such as
            `Functional_Correctness`), or None.

    Returns:
        The canonical name, or None when `aspect` is None.

    Raises:
        ValueError: If the aspect is unknown.
    """
    if aspect is None:
        return None
    if isinstance(aspect, int):
        name = label_name(ASPECTS, aspect)
        if name is None:
            raise ValueError(f"aspect id {aspect} is out of range 0..{len(ASPECTS) - 1}")
        return name
    name = normalize_aspect(aspect)
    if name is None:
        raise ValueError(f"unknown aspect {aspect!r}")
    return name


def aspect_prompt(aspect: str | int, principles: Principles | None = None) -> str:
    """Returns the base prompt plus the single principle of one criterion (item 3).

    Helpfulness and Harmlessness are already in the base, so for them the base is
    returned alone.

    Args:
        aspect: Any form accepted by `canonical_aspect`.
        principles: The texts (codepref's own when None).

    Returns:
        The system prompt text.
    """
    principles = principles or default_principles()
    name = canonical_aspect(aspect)
    return principles.prompt([name] if name in principles.criteria else [])


def all_criteria_prompt(order: tuple[str, ...] | list[str], principles: Principles | None = None) -> str:
    """Returns the base prompt plus all code principles, numbered from 3 in `order`.

    Args:
        order: A permutation of `CODE_CRITERIA`.
        principles: The texts (codepref's own when None).

    Returns:
        The system prompt text.

    Raises:
        ValueError: If `order` is not a permutation of the code criteria.
    """
    if sorted(order) != sorted(CODE_CRITERIA):
        raise ValueError(f"order must be a permutation of {CODE_CRITERIA}, got {order}")
    return (principles or default_principles()).prompt(list(order))


def _unit(*parts: object) -> float:
    """The `stable_unit` (BLAKE2b) of the `str` forms of `parts`, joined by U+001F."""
    return stable_unit("\x1f".join(str(part) for part in parts), "blake2b")


@dataclasses.dataclass(frozen=True)
class PromptMix:
    """Probabilities of the three training system-prompt kinds (paper-facts §1.4).

    Attributes:
        none: Share of pairs trained with no system prompt.
        single: Share trained with the base plus the pair's own criterion.
        all: Share trained with the base plus all code criteria, shuffled.
    """

    none: float = 0.15
    single: float = 0.60
    all: float = 0.25

    def __post_init__(self) -> None:
        """Checks that the shares are non-negative and sum to one."""
        shares = (self.none, self.single, self.all)
        if any(share < 0 for share in shares):
            raise ValueError(f"prompt shares must be >= 0, got {shares}")
        if abs(sum(shares) - 1.0) > 1e-6:
            raise ValueError(f"prompt shares must sum to 1, got {shares} (sum {sum(shares)})")


def assign_system_prompt(
    idx: str,
    aspect: str | int | None,
    mix: PromptMix | None = None,
    seed: int = 0,
    principles: Principles | None = None,
) -> str | None:
    """Chooses the training system prompt of one pair from a hash of its id.

    Args:
        idx: The pair's stable id (the `idx` column).
        aspect: The pair's criterion, in any form `canonical_aspect` accepts. A pair
            with no criterion gets the all-criteria prompt in the single bucket.
        mix: Bucket probabilities; `PromptMix()` when None.
        seed: Salt, so different runs can draw different assignments.
        principles: The texts (codepref's own when None); they change the words, never the draw.

    Returns:
        The system prompt, or None for the no-prompt bucket.
    """
    mix = mix or PromptMix()
    u = _unit("bucket", seed, idx)
    if u < mix.none:
        return None
    name = canonical_aspect(aspect)
    if u < mix.none + mix.single and name is not None:
        return aspect_prompt(name, principles)
    order = list(CODE_CRITERIA)
    # A local generator seeded from the hash: deterministic and independent of the
    # global `random` state.
    random.Random(int(_unit("order", seed, idx) * 2**53)).shuffle(order)
    return all_criteria_prompt(order, principles)
