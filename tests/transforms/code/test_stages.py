import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import PairRecord
from transforms.code.stages import FilterSyntax, FocusChangedFunctions, function_pairs, isolated_stage
from transforms.code.syntax import SyntaxConfig


SIZE = "\n    def size(self):\n        return len(self.d)\n"
OLD = "class Cache:\n    def get(self, k):\n        return self.d[k]\n" + SIZE
NEW = "class Cache:\n    def get(self, k):\n        return self.d.get(k)\n" + SIZE


def pair(idx, chosen, rejected, language="Python"):
    return PairRecord(idx=idx, input="", chosen=chosen, rejected=rejected, language=language,
                      aspect="Functional Correctness", source="commits")  # fmt: skip


def test_function_pairs_focus_on_the_changed_method():
    [focused] = function_pairs(pair("a" * 16, NEW, OLD))
    assert "def get" in focused.chosen and "def size" not in focused.chosen
    assert focused.chosen.startswith("class Cache:") and "self.d.get(k)" in focused.chosen
    assert json.loads(focused.label_details)["function"]["name"].endswith("get")
    assert focused.idx != "a" * 16
    assert function_pairs(pair("b" * 16, OLD + "\n# note\n", OLD)) == []


def test_filter_and_focus_pipelines():
    pairs = [pair("1" * 16, NEW, OLD), pair("2" * 16, "def f(:\n", OLD), pair("3" * 16, "pass\n", OLD)]
    with TestPipeline() as p:
        checked = p | "Pairs" >> beam.Create(pairs) | FilterSyntax(SyntaxConfig())
        assert_that(checked.main | beam.Map(lambda r: r.idx), equal_to(["1" * 16]), label="CheckKept")
        want = [("2" * 16, "syntax_error"), ("3" * 16, "too_shallow")]
        got = checked.rejected | beam.Map(lambda r: (r.record_id, r.reason))
        assert_that(got, equal_to(want), label="CheckRejected")
        focused = p | "Whole" >> beam.Create([pairs[0], pair("4" * 16, OLD + "\n", OLD)]) | FocusChangedFunctions()
        assert_that(focused.kept, equal_to(["1" * 16]), label="CheckFocusKept")
        assert_that(focused.rejected | beam.Map(lambda r: r.reason), equal_to(["no_function_changed"]),
                    label="CheckFocusRejected")  # fmt: skip
        assert_that(focused.main | beam.combiners.Count.Globally(), equal_to([1]), label="CheckFocusPairs")


def crash_on_empty(pair):
    """Kills its process on a pair with no chosen code, as a segfaulting parser would."""
    import os

    if not pair.chosen:
        os.abort()
    return pair


def test_a_crash_in_the_child_process_is_one_parse_failed_reject():
    pairs = [pair(str(n) * 16, NEW, OLD) for n in range(1, 4)] + [pair("9" * 16, "", OLD)]
    with TestPipeline() as p:
        out = isolated_stage(p | beam.Create(pairs), crash_on_empty, "crashy", timeout_s=30, threshold=0.5)
        assert_that(out.main | beam.Map(lambda r: r.idx), equal_to([str(n) * 16 for n in range(1, 4)]))
        got = out.rejected | beam.Map(lambda r: (r.stage, r.reason, r.record_id, "died" in r.detail))
        assert_that(got, equal_to([("crashy", "parse_failed", "9" * 16, True)]), label="CheckRejected")


def test_bug_task_validates_the_llm_answer():
    from schemas.llm import EndpointConfig, LLMResult
    from transforms.code.bugged import BugTask

    task = BugTask(EndpointConfig(name="e", base_url="http://x/v1", model="m", output_mode="json_object_schema"))
    solution = "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    return min(x, hi)\n"
    seed = pair("6" * 16, solution, "")._replace(input="Clamp x into [lo, hi].")
    request = task.plan(seed).requests[0][1]
    assert request.template == "bug_introduction" and "Clamp x" in request.messages[1][1]

    def answer(code):
        return [LLMResult("k", json.dumps({"buggy_code": code, "bug_explanation": "flipped"}))]

    ok = task.finish(seed, answer(solution.replace("x < lo", "x > lo")))
    assert ok.rejected == solution.replace("x < lo", "x > lo")
    assert json.loads(ok.label_details)["bug_introduction"]["explanation"] == "flipped"
    assert task.finish(seed, answer(solution)).reason == "bug_no_difference"
    assert task.finish(seed, answer("def clamp(:\n")).reason == "bug_unparseable_code"
    flipped = solution.replace("x < lo", "x > lo")
    assert task.finish(seed, answer(flipped + "# BUG: flipped\n")).reason == "bug_adds_comment"
    assert task.finish(seed, [LLMResult("k", "sure! here is the code")]).reason == "bug_unparseable"
