"""System-prompt texts and their hash-seeded assignment (paper-facts §1.3, §1.4)."""

import collections

import pytest

from schemas.labels import ASPECTS, CODE_CRITERIA
from trainer.prompts import (
    BASE_PROMPT,
    CODE_PRINCIPLES,
    FULL_PROMPT_ORDER,
    PromptMix,
    all_criteria_prompt,
    aspect_prompt,
    assign_system_prompt,
    canonical_aspect,
    full_prompt,
    prompt_for_mode,
)


def _kind(prompt: str | None) -> str:
    if prompt is None:
        return "none"
    return "all" if prompt.count("\n\n") >= 6 else "single"


def test_principles_cover_code_criteria_and_base_has_general_ones():
    assert set(CODE_PRINCIPLES) == set(CODE_CRITERIA)
    assert "1. Helpfulness" in BASE_PROMPT and "2. Harmlessness" in BASE_PROMPT


def test_full_prompt_fixed_order():
    text = full_prompt()
    assert text.startswith(BASE_PROMPT)
    positions = [text.index(f"{n}. {name}") for n, name in enumerate(FULL_PROMPT_ORDER, start=3)]
    assert positions == sorted(positions)
    assert FULL_PROMPT_ORDER[0] == "Memory Efficiency" and FULL_PROMPT_ORDER[-1] == "Security Hardness"


def test_aspect_prompt_is_base_plus_item_three():
    text = aspect_prompt("Functional_Correctness")
    assert text == BASE_PROMPT + "\n\n3. " + CODE_PRINCIPLES["Functional Correctness"]
    assert aspect_prompt(3) == text
    assert aspect_prompt("Helpfulness") == BASE_PROMPT
    assert aspect_prompt(6) == BASE_PROMPT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Readability_Maintainability", "Readability and Maintainability"),
        ("Runtime Efficiency", "Runtime Efficiency"),
        ("execution efficiency", "Runtime Efficiency"),
        ("Security_Hardness", "Security Hardness"),
        (4, "Memory Efficiency"),
        (None, None),
    ],
)
def test_canonical_aspect(value, expected):
    assert canonical_aspect(value) == expected


def test_canonical_aspect_rejects_unknown():
    with pytest.raises(ValueError):
        canonical_aspect("Style")
    with pytest.raises(ValueError):
        canonical_aspect(7)


def test_all_criteria_prompt_needs_a_permutation():
    with pytest.raises(ValueError):
        all_criteria_prompt(["Memory Efficiency"])


def test_prompt_modes():
    assert prompt_for_mode("none", "Functional_Correctness") is None
    assert prompt_for_mode("full") == full_prompt()
    assert prompt_for_mode("aspect", "Memory_Efficiency") == aspect_prompt("Memory Efficiency")
    with pytest.raises(ValueError):
        prompt_for_mode("aspect", None)
    with pytest.raises(ValueError):
        prompt_for_mode("bogus")


def test_mix_validation():
    assert PromptMix() == PromptMix(0.15, 0.60, 0.25)
    with pytest.raises(ValueError):
        PromptMix(0.5, 0.5, 0.5)
    with pytest.raises(ValueError):
        PromptMix(-0.1, 0.6, 0.5)


def test_assignment_proportions_default_mix():
    counts = collections.Counter(_kind(assign_system_prompt(f"id-{i}", ASPECTS[i % 5])) for i in range(20_000))
    assert counts["none"] / 20_000 == pytest.approx(0.15, abs=0.01)
    assert counts["single"] / 20_000 == pytest.approx(0.60, abs=0.015)
    assert counts["all"] / 20_000 == pytest.approx(0.25, abs=0.012)


def test_assignment_proportions_paper_mix():
    mix = PromptMix(0.15, 0.65, 0.20)
    counts = collections.Counter(_kind(assign_system_prompt(f"x{i}", 1, mix)) for i in range(20_000))
    assert counts["single"] / 20_000 == pytest.approx(0.65, abs=0.015)
    assert counts["all"] / 20_000 == pytest.approx(0.20, abs=0.012)


def test_assignment_is_deterministic_and_seeded(monkeypatch):
    import random

    first = [assign_system_prompt(f"id-{i}", "Security Hardness", seed=3) for i in range(200)]
    random.seed(12345)  # the global state must not matter
    monkeypatch.setattr(random, "random", lambda: 0.0)
    second = [assign_system_prompt(f"id-{i}", "Security Hardness", seed=3) for i in range(200)]
    assert first == second
    other_seed = [assign_system_prompt(f"id-{i}", "Security Hardness", seed=4) for i in range(200)]
    assert first != other_seed


def test_single_bucket_uses_the_pairs_criterion_and_all_bucket_is_shuffled():
    singles = [p for i in range(400) if _kind(p := assign_system_prompt(f"s{i}", "Memory Efficiency")) == "single"]
    assert singles and all(p == aspect_prompt("Memory Efficiency") for p in singles)
    alls = {p for i in range(400) if _kind(p := assign_system_prompt(f"s{i}", 0)) == "all"}
    assert len(alls) > 5  # several orders
    for prompt in alls:
        assert all(CODE_PRINCIPLES[name] in prompt for name in CODE_CRITERIA)
