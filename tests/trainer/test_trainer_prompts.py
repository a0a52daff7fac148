"""Evaluation system prompts: the full prompt and the prompt modes (paper-facts §1.3)."""

import pytest

from trainer.prompts import FULL_PROMPT_ORDER, full_prompt, prompt_for_mode
from transforms.system_prompt import BASE_PROMPT, aspect_prompt


def test_full_prompt_fixed_order():
    text = full_prompt()
    assert text.startswith(BASE_PROMPT)
    positions = [text.index(f"{n}. {name}") for n, name in enumerate(FULL_PROMPT_ORDER, start=3)]
    assert positions == sorted(positions)
    assert FULL_PROMPT_ORDER[0] == "Memory Efficiency" and FULL_PROMPT_ORDER[-1] == "Security Hardness"


def test_prompt_modes():
    assert prompt_for_mode("none", "Functional_Correctness") is None
    assert prompt_for_mode("full") == full_prompt()
    assert prompt_for_mode("aspect", "Memory_Efficiency") == aspect_prompt("Memory Efficiency")
    with pytest.raises(ValueError):
        prompt_for_mode("aspect", None)
    with pytest.raises(ValueError):
        prompt_for_mode("bogus")
