"""Tests for transforms.llm.parsing: well-formed and hostile answers, in every output mode."""

import json

import pytest
from pydantic import BaseModel

from schemas.llm import BugAnswer, InstructionAnswer, JudgeAnswer, ProblemAnswer, RatingAnswer
from transforms.llm.parsing import (
    AMBIGUOUS,
    EMPTY,
    FAILURE_REASONS,
    INVALID_JSON,
    INVALID_VALUE,
    MISSING_TAG,
    NO_JSON,
    SCHEMA_MISMATCH,
    ParseFailure,
    field_tags,
    normalize_rating,
    normalize_verdict,
    parse_answer,
)
from transforms.llm.templates import TEMPLATE_NAMES, answer_model


JSON_MODES = ("json_schema", "json_object_schema")
ALL_MODES = ("tags", *JSON_MODES)

GOOD = {
    "commit_review": {"summary": "Replaces the linear scan with a dict lookup.", "rating": 4},
    "instruction": {"description": "Both versions count words.", "instruction": "Write a word counter."},
    "problem_recovery": {"description": "Sums a list.", "problem_statement": "Given n integers, print their sum."},
    "bug_introduction": {"buggy_code": "def f(x):\n    return x - 1", "bug_explanation": "Subtracts instead of adds."},
    "pairwise_judge": {"evaluation": "A uses a set; B rescans the list.", "verdict": "A"},
}


def as_tags(fields):
    return "\n".join(f"[{field_tags(k)[0]}]\n{v}\n[/{field_tags(k)[0]}]" for k, v in fields.items())


def judge_tags(verdict, evaluation="A is faster."):
    return f"[EVALUATION]\n{evaluation}\n[/EVALUATION]\n[JUDGEMENT]{verdict}[/JUDGEMENT]"


def review_tags(rating, summary="Caches the parsed config."):
    return f"[SUMMARY]{summary}[/SUMMARY]\n[RATING]{rating}[/RATING]"


def failure(result, reason):
    assert isinstance(result, ParseFailure), result
    assert result.reason == reason, result
    assert result.reason in FAILURE_REASONS
    assert result.detail
    return result


# --- well-formed answers round-trip ---


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
@pytest.mark.parametrize("mode", ALL_MODES)
def test_well_formed_answers_parse(name, mode):
    fields = GOOD[name]
    text = as_tags(fields) if mode == "tags" else json.dumps(fields)
    result = parse_answer(text, name, mode)
    assert result == answer_model(name)(**fields)
    assert parse_answer(text, answer_model(name), mode) == result


def test_reasons_are_stable_snake_case():
    assert FAILURE_REASONS == (
        "empty",
        "no_json",
        "invalid_json",
        "schema_mismatch",
        "missing_tag",
        "ambiguous",
        "invalid_value",
    )


def test_caller_bugs_raise():
    with pytest.raises(ValueError):
        parse_answer("x", "pairwise_judge", "xml")
    with pytest.raises(ValueError):
        parse_answer("x", "no_such_template", "tags")
    with pytest.raises(TypeError):
        parse_answer("x", dict, "tags")


# --- empty ---


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("text", [None, "", "   \n\t ", "<think>all reasoning</think>\n  "])
def test_empty_answers(mode, text):
    failure(parse_answer(text, "pairwise_judge", mode), EMPTY)


# --- verdicts ---


@pytest.mark.parametrize(
    ("raw", "verdict"),
    [
        ("A", "A"),
        ("a", "A"),
        (" b\n", "B"),
        ("**A**", "A"),
        ("`B`", "B"),
        ('"TIE"', "TIE"),
        ("tie", "TIE"),
        ("Tie.", "TIE"),
        ("*__b__*", "B"),
        ("Completion A", "A"),
        ("completion b", "B"),
    ],
)
def test_verdict_normalisation(raw, verdict):
    assert normalize_verdict(raw) == verdict
    assert parse_answer(judge_tags(raw), "pairwise_judge", "tags").verdict == verdict
    answer = json.dumps({"evaluation": "e", "verdict": raw})
    assert parse_answer(answer, "pairwise_judge", "json_schema").verdict == verdict


@pytest.mark.parametrize(
    "raw",
    ["A or B", "Both", "Neither", "A/B", "Response A", "A is better", "AB", "", "C", "Draw", "equal", "A, B", "1"],
)
def test_verdicts_never_guessed(raw):
    assert normalize_verdict(raw) is None
    failure(parse_answer(judge_tags(raw), "pairwise_judge", "tags"), INVALID_VALUE)
    answer = json.dumps({"evaluation": "e", "verdict": raw})
    failure(parse_answer(answer, "pairwise_judge", "json_object_schema"), INVALID_VALUE)


@pytest.mark.parametrize("raw", [None, 1, True, ["A"], {"side": "A"}])
def test_non_string_verdicts_are_invalid(raw):
    assert normalize_verdict(raw) is None
    failure(
        parse_answer(json.dumps({"evaluation": "e", "verdict": raw}), "pairwise_judge", "json_schema"), INVALID_VALUE
    )


def test_two_different_verdicts_are_ambiguous():
    text = judge_tags("A") + "\nOn reflection:\n[JUDGEMENT]B[/JUDGEMENT]"
    result = failure(parse_answer(text, "pairwise_judge", "tags"), AMBIGUOUS)
    assert "'A'" in result.detail and "'B'" in result.detail


def test_repeated_identical_verdicts_are_accepted():
    text = judge_tags("A") + "\n[JUDGEMENT] **a** [/JUDGEMENT]"
    assert parse_answer(text, "pairwise_judge", "tags").verdict == "A"


def test_a_repeated_verdict_with_one_invalid_value_is_ambiguous():
    text = "[JUDGEMENT]A or B[/JUDGEMENT]\n" + judge_tags("B")
    failure(parse_answer(text, "pairwise_judge", "tags"), AMBIGUOUS)


def test_verdict_tags_quoted_inside_the_evaluation_are_ignored():
    evaluation = "I must answer with [JUDGEMENT]A|B|TIE[/JUDGEMENT]; B leaks memory but that is not the criterion."
    result = parse_answer(judge_tags("A", evaluation), "pairwise_judge", "tags")
    assert result == JudgeAnswer(evaluation=evaluation, verdict="A")


def test_a_verdict_only_inside_the_evaluation_is_missing():
    text = "[EVALUATION]So [JUDGEMENT]B[/JUDGEMENT][/EVALUATION]"
    failure(parse_answer(text, "pairwise_judge", "tags"), MISSING_TAG)


def test_tag_names_are_case_insensitive_and_accept_judgment_spelling():
    text = "[evaluation]fine[/evaluation]\n[Judgment] tie [/Judgment]"
    assert parse_answer(text, "pairwise_judge", "tags") == JudgeAnswer(evaluation="fine", verdict="TIE")


def test_markdown_around_tags_is_tolerated():
    text = "**[EVALUATION]**\nB is simpler.\n**[/EVALUATION]**\n\n**[JUDGEMENT]** **B** **[/JUDGEMENT]**"
    assert parse_answer(text, "pairwise_judge", "tags").verdict == "B"


# --- ratings ---


@pytest.mark.parametrize(
    ("raw", "rating"),
    [("4", 4), (" 5 ", 5), ("4/5", 4), ("3 / 5", 3), ("**2**", 2), ("1.", 1), ("`5/5`", 5)],
)
def test_rating_normalisation(raw, rating):
    assert normalize_rating(raw) == rating
    assert parse_answer(review_tags(raw), "commit_review", "tags").rating == rating
    assert parse_answer(json.dumps({"summary": "s", "rating": raw}), "commit_review", "json_schema").rating == rating


@pytest.mark.parametrize("raw", [4, 4.0, "4"])
def test_json_rating_types(raw):
    assert parse_answer(json.dumps({"summary": "s", "rating": raw}), "commit_review", "json_schema").rating == 4


@pytest.mark.parametrize(
    "raw",
    ["0", "6", "10", "-1", "4.5", "3 out of 5", "4/10", "four", "3-4", "3 or 4", "", "04", "4\n5", "Rating: 4"],
)
def test_ratings_never_guessed(raw):
    assert normalize_rating(raw) is None
    failure(parse_answer(review_tags(raw), "commit_review", "tags"), INVALID_VALUE)
    failure(parse_answer(json.dumps({"summary": "s", "rating": raw}), "commit_review", "json_schema"), INVALID_VALUE)


@pytest.mark.parametrize("raw", [0, 6, 4.5, True, None, [4]])
def test_json_ratings_out_of_range_or_wrong_type(raw):
    assert normalize_rating(raw) is None
    failure(parse_answer(json.dumps({"summary": "s", "rating": raw}), "commit_review", "json_schema"), INVALID_VALUE)


def test_two_different_ratings_are_ambiguous():
    text = review_tags("3") + "\n[RATING]4[/RATING]"
    failure(parse_answer(text, "commit_review", "tags"), AMBIGUOUS)
    assert parse_answer(review_tags("4") + "[RATING]4/5[/RATING]", "commit_review", "tags").rating == 4


# --- missing and truncated tags ---


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_each_missing_tag_is_reported(name):
    for field in GOOD[name]:
        fields = {k: v for k, v in GOOD[name].items() if k != field}
        result = failure(parse_answer(as_tags(fields), name, "tags"), MISSING_TAG)
        assert field_tags(field)[0] in result.detail


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_truncated_tag_answers_are_missing_tags(name):
    text = as_tags(GOOD[name])
    last_close = text.rindex("[/")
    for cut in (last_close, last_close + 2, len(text) // 2):
        result = failure(parse_answer(text[:cut], name, "tags"), MISSING_TAG)
        assert "missing" in result.detail or "never closed" in result.detail


def test_truncated_verdict_after_a_complete_one_is_missing_tag():
    failure(parse_answer(judge_tags("A") + "\n[JUDGEMENT]B", "pairwise_judge", "tags"), MISSING_TAG)


def test_a_json_answer_in_tags_mode_is_not_converted():
    failure(parse_answer(json.dumps(GOOD["pairwise_judge"]), "pairwise_judge", "tags"), MISSING_TAG)


def test_empty_text_fields_are_invalid():
    failure(parse_answer(review_tags("4", summary="  \n "), "commit_review", "tags"), INVALID_VALUE)
    failure(parse_answer(json.dumps({"summary": "", "rating": 4}), "commit_review", "json_schema"), INVALID_VALUE)


def test_text_fields_are_stripped_and_keep_inner_layout():
    text = (
        "[DESCRIPTION]\n  Both sum a list.\n\n[/DESCRIPTION]\n"
        "[PROBLEM_STATEMENT]\nLine 1\n\n  Line 2\n[/PROBLEM_STATEMENT]"
    )
    result = parse_answer(text, "problem_recovery", "tags")
    assert result == ProblemAnswer(description="Both sum a list.", problem_statement="Line 1\n\n  Line 2")


def test_first_complete_text_block_wins_and_quoted_tags_do_not_confuse_the_next_field():
    text = (
        "[DESCRIPTION]Write it under [INSTRUCTION] later.[/DESCRIPTION]\n"
        "[INSTRUCTION]Count the words in a file.[/INSTRUCTION]\n"
        "[INSTRUCTION]Second try.[/INSTRUCTION]"
    )
    result = parse_answer(text, "instruction", "tags")
    assert result == InstructionAnswer(
        description="Write it under [INSTRUCTION] later.", instruction="Count the words in a file."
    )


@pytest.mark.parametrize("mode", ALL_MODES)
def test_buggy_code_loses_one_wrapping_fence(mode):
    code = "int add(int a, int b) {\n    return a - b;\n}"
    fenced = f"```cpp\n{code}\n```"
    fields = {"buggy_code": fenced, "bug_explanation": "Subtracts."}
    text = as_tags(fields) if mode == "tags" else json.dumps(fields)
    assert parse_answer(text, "bug_introduction", mode) == BugAnswer(buggy_code=code, bug_explanation="Subtracts.")


def test_buggy_code_with_text_around_its_fence_is_kept_as_is():
    raw = "Here:\n```cpp\nint x;\n```"
    text = as_tags({"buggy_code": raw, "bug_explanation": "e"})
    assert parse_answer(text, "bug_introduction", "tags").buggy_code == raw


# --- JSON ---


@pytest.mark.parametrize("mode", JSON_MODES)
def test_json_with_raw_newlines_inside_strings(mode):
    text = '{"evaluation": "Point 1: A is O(n).\nPoint 2:\tB is O(n^2).", "verdict": "A"}'
    result = parse_answer(text, "pairwise_judge", mode)
    assert result == JudgeAnswer(evaluation="Point 1: A is O(n).\nPoint 2:\tB is O(n^2).", verdict="A")


@pytest.mark.parametrize("mode", JSON_MODES)
def test_json_in_fences_with_prose_around(mode):
    text = (
        "Sure! Here is my review of the {two} completions.\n\n```json\n"
        '{\n  "evaluation": "B closes the file in a `finally` block {and} A does not.",\n  "verdict": "b"\n}\n'
        "```\nLet me know if you need anything else {like more detail}."
    )
    result = parse_answer(text, "pairwise_judge", mode)
    assert result == JudgeAnswer(evaluation="B closes the file in a `finally` block {and} A does not.", verdict="B")


def test_json_braces_inside_strings_do_not_end_the_object():
    fields = {"buggy_code": 'int main() { if (x) { puts("}"); } }', "bug_explanation": "Inverts the test."}
    assert parse_answer(json.dumps(fields), "bug_introduction", "json_schema") == BugAnswer(**fields)


def test_reasoning_block_before_json_is_dropped():
    text = '<think>Maybe {"evaluation": "x", "verdict": "B"}? No.</think>\n{"evaluation": "A wins.", "verdict": "A"}'
    assert parse_answer(text, "pairwise_judge", "json_schema").verdict == "A"
    text = 'template put <think> in the prompt; B...</think>{"evaluation": "A wins.", "verdict": "A"}'
    assert parse_answer(text, "pairwise_judge", "json_schema").verdict == "A"


def test_reasoning_block_before_tags_is_dropped():
    text = "<think>\n[JUDGEMENT]B[/JUDGEMENT] maybe?\n</think>\n" + judge_tags("A")
    assert parse_answer(text, "pairwise_judge", "tags").verdict == "A"


@pytest.mark.parametrize(("mode", "reason"), [("tags", MISSING_TAG), ("json_schema", NO_JSON)])
def test_answer_ending_inside_reasoning_is_truncated(mode, reason):
    text = "<think>Let me compare {the two} [JUDGEMENT]A"
    failure(parse_answer(text, "pairwise_judge", mode), reason)


@pytest.mark.parametrize("mode", JSON_MODES)
def test_no_json(mode):
    failure(parse_answer("I think A is better.", "pairwise_judge", mode), NO_JSON)
    failure(parse_answer(judge_tags("A"), "pairwise_judge", mode), NO_JSON)


@pytest.mark.parametrize("mode", JSON_MODES)
def test_truncated_json_is_invalid_json(mode):
    full = json.dumps({"evaluation": "A uses a heap {with} care; B sorts twice.", "verdict": "A"})
    for cut in (len(full) - 1, len(full) - 8, full.index("care"), 1):
        failure(parse_answer(full[:cut], "pairwise_judge", mode), INVALID_JSON)


def test_malformed_json_is_invalid_json():
    failure(parse_answer("{'evaluation': 'x', 'verdict': 'A'}", "pairwise_judge", "json_schema"), INVALID_JSON)
    failure(parse_answer('{"evaluation": "x", "verdict": "A",}', "pairwise_judge", "json_schema"), INVALID_JSON)


def test_extra_json_keys_are_ignored():
    text = json.dumps({"evaluation": "e", "verdict": "TIE", "confidence": 0.4, "notes": ["x"]})
    assert parse_answer(text, "pairwise_judge", "json_schema") == JudgeAnswer(evaluation="e", verdict="TIE")


@pytest.mark.parametrize(
    "obj",
    [{"evaluation": "e"}, {"verdict": "A"}, {"answer": "A"}, {}],
)
def test_missing_json_fields_are_schema_mismatch(obj):
    failure(parse_answer(json.dumps(obj), "pairwise_judge", "json_schema"), SCHEMA_MISMATCH)


def test_wrong_json_types_are_schema_mismatch():
    failure(parse_answer('{"evaluation": 5, "verdict": "A"}', "pairwise_judge", "json_schema"), SCHEMA_MISMATCH)
    text = '{"description": ["a"], "instruction": "x"}'
    failure(parse_answer(text, "instruction", "json_object_schema"), SCHEMA_MISMATCH)


def test_conflicting_duplicate_json_keys_are_ambiguous():
    failure(
        parse_answer('{"evaluation": "e", "verdict": "A", "verdict": "B"}', "pairwise_judge", "json_schema"), AMBIGUOUS
    )
    same = '{"evaluation": "e", "verdict": "A", "verdict": "A"}'
    assert parse_answer(same, "pairwise_judge", "json_schema").verdict == "A"


def test_two_json_answers_must_agree():
    one = json.dumps({"evaluation": "e", "verdict": "A"})
    two = json.dumps({"evaluation": "e", "verdict": "B"})
    failure(parse_answer(f"{one}\nActually:\n{two}", "pairwise_judge", "json_schema"), AMBIGUOUS)
    same = json.dumps({"evaluation": "e", "verdict": "a"})
    assert parse_answer(f"```json\n{one}\n```\nso: {same}", "pairwise_judge", "json_schema").verdict == "A"


def test_a_json_answer_inside_an_array_is_found():
    text = json.dumps([GOOD["problem_recovery"]])
    assert parse_answer(text, "problem_recovery", "json_schema") == ProblemAnswer(**GOOD["problem_recovery"])


def test_any_answer_model_can_be_parsed():
    class Custom(BaseModel):
        verdict: str
        reason: str

    result = parse_answer("[REASON]r[/REASON][JUDGEMENT]b[/JUDGEMENT]", Custom, "tags")
    assert result == Custom(verdict="B", reason="r")
    assert parse_answer('{"verdict": "tie", "reason": "r"}', Custom, "json_schema") == Custom(verdict="TIE", reason="r")


def test_rating_answer_round_trip_from_schema_example():
    assert parse_answer(review_tags("5"), RatingAnswer, "tags") == RatingAnswer(
        summary="Caches the parsed config.", rating=5
    )
