import functools
import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import PairRecord
from tests.transforms.filters.helpers import assert_conserved, stage_counters
from transforms.code.stages import (
    FUNCTION_STAGE,
    FilterSyntax,
    FocusChangedFunctions,
    function_pairs,
    isolated_stage,
)
from transforms.code.syntax import SyntaxConfig


SIZE = "\n    def size(self):\n        return len(self.d)\n"
OLD = "class Cache:\n    def get(self, k):\n        return self.d[k]\n" + SIZE
NEW = "class Cache:\n    def get(self, k):\n        return self.d.get(k)\n" + SIZE


def pair(idx, chosen, rejected, language="Python"):
    return PairRecord(
        idx=idx,
        input="",
        chosen=chosen,
        rejected=rejected,
        language=language,
        aspect="Functional Correctness",
        source="commits",
    )


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
        assert_that(focused.reports[0].out, equal_to(["1" * 16]), label="CheckFocusKept")
        assert_that(
            focused.rejected | beam.Map(lambda r: r.reason),
            equal_to(["no_function_changed"]),
            label="CheckFocusRejected",
        )
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


def test_a_pair_whose_function_parse_raises_is_one_parse_failed_reject():
    one, other = pair("1" * 16, NEW, OLD), pair("5" * 16, NEW.replace("len(self.d)", "len(self.d) + 0"), OLD)
    assert len(function_pairs(other)) == 2, "one input, two pairs: `out` counts inputs, `main` holds pairs"
    unparsable = pair("7" * 16, NEW, OLD, language="Cobol")  # no grammar: the parse raises in the child
    whole = [one, other, pair("4" * 16, OLD + "\n", OLD), unparsable]
    p = TestPipeline()
    focused = p | beam.Create(whole) | FocusChangedFunctions(threshold=0.5)
    assert_that(focused.main, equal_to(function_pairs(one) + function_pairs(other)), label="CheckPairs")
    assert_that(focused.reports[0].out, equal_to(["1" * 16, "5" * 16]), label="CheckKept")
    got = focused.rejected | beam.Map(lambda r: (r.stage, r.reason, r.record_id, "no grammar for 'Cobol'" in r.detail))
    want = [(FUNCTION_STAGE, "no_function_changed", "4" * 16, False), (FUNCTION_STAGE, "parse_failed", "7" * 16, True)]
    assert_that(got, equal_to(want), label="CheckRejected")
    result = p.run()
    result.wait_until_finish()
    counters = stage_counters(result, FUNCTION_STAGE)
    assert counters == {"in": 4, "out": 2, "rejected:no_function_changed": 1, "rejected:parse_failed": 1}
    assert_conserved(counters)


def focus_or_crash(pair, stage):
    """`focused_pairs`, but kills its process on code that says ABORT, as a segfaulting parser would."""
    import os

    from transforms.code.functions import focused_pairs

    if "ABORT" in pair.chosen:
        os.abort()
    return focused_pairs(pair, stage)


def test_a_crash_while_focusing_functions_costs_only_its_pair():
    pairs = [pair("1" * 16, NEW, OLD), pair("4" * 16, OLD + "\n", OLD), pair("9" * 16, NEW + "# ABORT\n", OLD)]
    pairs.append(pair("5" * 16, NEW.replace("len(self.d)", "len(self.d) + 0"), OLD))
    focus = functools.partial(focus_or_crash, stage="crashy")
    with TestPipeline() as p:
        out = isolated_stage(p | beam.Create(pairs), focus, "crashy", timeout_s=30, threshold=0.5, expands=True)
        assert_that(out.main, equal_to(function_pairs(pairs[0]) + function_pairs(pairs[3])), label="CheckPairs")
        assert_that(out.reports[0].out, equal_to(["1" * 16, "5" * 16]), label="CheckKept")
        got = out.rejected | beam.Map(lambda r: (r.stage, r.reason, r.record_id, "died" in r.detail))
        want = [("crashy", "no_function_changed", "4" * 16, False), ("crashy", "parse_failed", "9" * 16, True)]
        assert_that(got, equal_to(want), label="CheckRejected")


def test_parse_failures_over_the_threshold_fail_the_job():
    pairs = [pair(str(n) * 16, NEW, OLD) for n in range(1, 3)] + [pair(str(n) * 16, "", OLD) for n in range(7, 10)]
    with pytest.raises(Exception, match=r"3 of 5 inputs failed in the child process"), TestPipeline() as p:
        isolated_stage(p | beam.Create(pairs), crash_on_empty, "crashy", timeout_s=30, threshold=0.5)


def test_results_keep_their_pairs_window():
    pairs = [pair(str(n) * 16, NEW, OLD) for n in range(1, 6)]
    with TestPipeline() as p:
        stamped = p | beam.Create(pairs) | beam.Map(lambda r: beam.window.TimestampedValue(r, int(r.idx[0]) * 100))
        windowed = stamped | beam.WindowInto(beam.window.FixedWindows(100))
        out = isolated_stage(windowed, crash_on_empty, "crashy", timeout_s=30, threshold=0.5)
        got = out.main | beam.Map(lambda r, w=beam.DoFn.WindowParam: (r.idx[0], int(w.start)))
        assert_that(got, equal_to([(str(n), n * 100) for n in range(1, 6)]))


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
