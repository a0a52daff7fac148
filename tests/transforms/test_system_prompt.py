"""System-prompt texts and their hash-seeded assignment (paper-facts §1.3, §1.4)."""

import collections

import pytest

from schemas.labels import ASPECTS, CODE_CRITERIA
from transforms.system_prompt import (
    BASE_PROMPT,
    CODE_PRINCIPLES,
    PromptMix,
    all_criteria_prompt,
    aspect_prompt,
    assign_system_prompt,
    canonical_aspect,
)


def _kind(prompt: str | None) -> str:
    if prompt is None:
        return "none"
    return "all" if prompt.count("\n\n") >= 6 else "single"


def test_principles_cover_code_criteria_and_base_has_general_ones():
    assert set(CODE_PRINCIPLES) == set(CODE_CRITERIA)
    assert "1. Helpfulness" in BASE_PROMPT and "2. Harmlessness" in BASE_PROMPT


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
        ("Readability_and_Maintainability", "Readability and Maintainability"),
        ("readability & maintainability", "Readability and Maintainability"),
        ("Runtime Efficiency", "Runtime Efficiency"),
        ("functional-correctness", "Functional Correctness"),
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


def test_the_draw_of_known_ids_never_changes():
    # Releases and checkpoints record which pair got which prompt: the hash behind it is fixed.
    kinds = "".join(_kind(assign_system_prompt(f"id-{i}", "Runtime Efficiency"))[0] for i in range(24))
    assert kinds == "nssnnassasasssaassssasss"
    prompt = assign_system_prompt("id-1", None)
    order = sorted(CODE_CRITERIA, key=lambda name: prompt.index(CODE_PRINCIPLES[name]))
    assert order == [
        "Readability and Maintainability",
        "Runtime Efficiency",
        "Memory Efficiency",
        "Security Hardness",
        "Functional Correctness",
    ]
