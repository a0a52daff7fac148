"""Principle texts are data: codepref's own load from YAML, a user's file replaces them, bad files are refused."""

import pytest
import yaml

from schemas.labels import CODE_CRITERIA
from schemas.principles import (
    DEFAULT_PRINCIPLES_PATH,
    Principles,
    default_principles,
    load_principles,
    write_principles,
)
from trainer.prompts import full_prompt, prompt_for_mode
from transforms.system_prompt import all_criteria_prompt, aspect_prompt


THEMIS_LIKE = {
    "base": "You judge one response.\n\n1. Helpful.\n\n2. Harmless.",
    "criteria": {
        "Functional_Correctness": "FC text.",
        "Memory_Efficiency": "ME text.",
        "Readability_Maintainability": "RM text.",
        "Runtime_Efficiency": "RT text.",
        "Security_Hardness": "SH text.",
    },
    "suffix": "\n\n",
}


def write(tmp_path, data, name="principles.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def test_codepref_texts_come_from_the_shipped_file():
    texts = default_principles()
    assert load_principles(DEFAULT_PRINCIPLES_PATH) == texts
    assert list(texts.criteria) == list(CODE_CRITERIA)
    assert texts.base.startswith("You are a careful reviewer.") and "\n\n2. Harmlessness:" in texts.base
    assert texts.criteria["Functional Correctness"].startswith("Functional Correctness: when the response")
    assert texts.full_order[0] == "Memory Efficiency"


def test_a_users_file_changes_every_prompt_and_keeps_its_layout(tmp_path):
    texts = load_principles(write(tmp_path, THEMIS_LIKE))
    assert list(texts.criteria) == list(CODE_CRITERIA)  # aliases read, canonical order
    assert aspect_prompt("Functional Correctness", texts) == THEMIS_LIKE["base"] + "\n\n3. FC text.\n\n"
    assert aspect_prompt("Helpfulness", texts) == THEMIS_LIKE["base"]
    order = ["Security Hardness", "Runtime Efficiency", "Memory Efficiency", "Functional Correctness"]
    order.append("Readability and Maintainability")
    assert all_criteria_prompt(order, texts).endswith(
        "3. SH text.\n\n4. RT text.\n\n5. ME text.\n\n6. FC text.\n\n7. RM text.\n\n"
    )
    assert full_prompt(texts) == prompt_for_mode("full", None, texts)
    assert full_prompt(texts).index("ME text.") < full_prompt(texts).index("FC text.")  # §1.3 order
    assert prompt_for_mode("aspect", "Memory_Efficiency", texts) == THEMIS_LIKE["base"] + "\n\n3. ME text.\n\n"
    assert "FC text." not in full_prompt()  # the default is untouched


def test_item_format_numbering_and_separator_are_the_files(tmp_path):
    data = {**THEMIS_LIKE, "item_format": "({number}) {text}", "first_number": 1, "separator": "\n", "suffix": ""}
    data["full_order"] = ["Functional Correctness", "Memory Efficiency", "Readability and Maintainability"]
    data["full_order"] += ["Runtime Efficiency", "Security Hardness"]
    texts = load_principles(write(tmp_path, data))
    assert (
        full_prompt(texts)
        == THEMIS_LIKE["base"] + "\n(1) FC text.\n(2) ME text.\n(3) RM text.\n(4) RT text.\n(5) SH text."
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"criteria": {k: v for k, v in THEMIS_LIKE["criteria"].items() if k != "Security_Hardness"}},
            "no text for Security Hardness",
        ),
        (
            {"criteria": {**THEMIS_LIKE["criteria"], "Functional Correctness": "again"}},
            "Functional Correctness is given twice",
        ),
        ({"criteria": {**THEMIS_LIKE["criteria"], "Helpfulness": "h"}}, "'Helpfulness' is not a code criterion"),
        (
            {"criteria": {**THEMIS_LIKE["criteria"], "Memory_Efficiency": "  "}},
            "the text of Memory Efficiency is empty",
        ),
        ({"full_order": ["Memory Efficiency"]}, "full_order: Value error, must name each of"),
        ({"item_format": "{number}."}, "must contain {text}"),
        ({"item_format": "{name}: {text}"}, "takes only {number} and {text}"),
        ({"typo": 1}, "typo: Extra inputs are not permitted"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_field(tmp_path, change, problem):
    path = write(tmp_path, {**THEMIS_LIKE, **change})
    with pytest.raises(ValueError, match="--principles") as refused:
        load_principles(path)
    assert path in str(refused.value) and problem in str(refused.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_principles(str(tmp_path / "absent.yaml"))


def test_written_texts_read_back_the_same_and_the_digest_follows_the_words(tmp_path):
    texts = load_principles(write(tmp_path, THEMIS_LIKE))
    path = str(tmp_path / "copy.yaml")
    write_principles(texts, path)
    assert load_principles(path) == texts and load_principles(path).sha256 == texts.sha256
    other = Principles.model_validate({**THEMIS_LIKE, "suffix": ""})
    assert other.sha256 != texts.sha256 and default_principles().sha256 not in (texts.sha256, other.sha256)
