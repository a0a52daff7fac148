import pytest

from schemas.labels import ASPECTS, label_name, normalize_aspect, normalize_language, pair_language


def test_pair_language_takes_aliases_and_prose():
    assert [pair_language(x) for x in ("cpp", " CSharp ", "nl", "NL", "Rust", None)] == [
        "C++",
        "C#",
        "NL",
        "NL",
        None,
        None,
    ]
    assert normalize_language("NL") is None


def test_label_name_decodes_ids_only():
    names = ("a", "b")
    assert [label_name(names, v) for v in (0, 1)] == ["a", "b"]
    assert [label_name(names, v) for v in (2, -1, True, False, 1.0, "a", None)] == [None] * 7


@pytest.mark.parametrize("name", ASPECTS)
def test_every_criterion_is_its_own_alias_in_any_case(name):
    assert normalize_aspect(name) == name
    assert normalize_aspect(f"  {name.upper()} ") == name
    assert normalize_aspect(name.replace(" ", "_")) == name


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        # CodeRewardBench (Themis) spellings
        ("Functional_Correctness", "Functional Correctness"),
        ("Runtime_Efficiency", "Runtime Efficiency"),
        ("Memory_Efficiency", "Memory Efficiency"),
        ("Security_Hardness", "Security Hardness"),
        ("Readability_Maintainability", "Readability and Maintainability"),
        ("Readability_and_Maintainability", "Readability and Maintainability"),
        # spellings the preference sources and the system prompts accepted before
        ("runtime_efficiency", "Runtime Efficiency"),
        ("readability maintainability", "Readability and Maintainability"),
        ("Readability  and\tMaintainability", "Readability and Maintainability"),
        ("readability & maintainability", "Readability and Maintainability"),
        ("security-hardness", "Security Hardness"),
        ("execution efficiency", "Runtime Efficiency"),
        ("Execution_Efficiency", "Runtime Efficiency"),
    ],
)
def test_normalize_aspect_takes_other_spellings(spelling, expected):
    assert normalize_aspect(spelling) == expected


@pytest.mark.parametrize(
    "value", ["speed", "Style", "Readability", "Helpfulness and Harmlessness", "", "and", None, 3, True]
)
def test_normalize_aspect_refuses_what_is_no_criterion(value):
    assert normalize_aspect(value) is None


def test_normalize_language_takes_the_codereward_bench_spellings():
    crb = ("Cpp", "CSharp", "JavaScript", "Python", "C", "Go", "Java", "Ruby")
    assert [normalize_language(x) for x in crb] == ["C++", "C#", "JavaScript", "Python", "C", "Go", "Java", "Ruby"]
    assert [normalize_language(x) for x in ("CPP", "csharp", "javascript")] == ["C++", "C#", "JavaScript"]
