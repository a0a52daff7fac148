"""`transforms.execution.verify.verify_pair`: the keep rule, its reasons and its attempts (real Python runs)."""

import hashlib
import json
import os

import pytest

from schemas.records import PairRecord, RejectRecord
from tests.transforms.execution.helpers import FAST, mutated, only_mutant, seed
from transforms.execution import verify
from transforms.execution.languages import RUNNERS, Runner
from transforms.execution.run import run_tests
from transforms.execution.sandbox import Limits, probe_isolation
from transforms.execution.verify import (
    EQUIVALENT_MUTANT,
    LLM_BUG,
    NO_TESTS,
    SOLUTION_FAILS_TESTS,
    Attempt,
    Settings,
    verify_pair,
)


LIMITS = Limits(timeout_s=30, cpu_s=30)

SIGN = """def sign(x):
    if x < 0:
        return -1
    return 1


def unused(a, b):
    total = a * b
    return total + 3
"""
SIGN_TESTS = "assert sign(5) == 1\nassert sign(-2) == -1\n"
UNCOVERED = {8, 9}  # the body of `unused`, which the tests never call

COUNT_DOWN = """def count_down(n):
    steps = 0
    while n > 0:
        n -= 1
        steps += 1
    return steps
"""
FIRST_WORD = """def first_word(text):
    words = text.split()
    if not words:
        return ""
    return words[0]
"""


def settings(limits: Limits = LIMITS, **kwargs) -> Settings:
    return Settings(limits, probe_isolation(), **kwargs)


def execution(pair: PairRecord) -> dict:
    return json.loads(pair.label_details)["execution"]


def seed_whose_first_mutant_is_uncovered(pair: PairRecord) -> PairRecord:
    """The sign pair mutated with the first seed whose first (seeded) mutant is in `unused`."""
    for value in range(64):
        candidate = mutated(pair, value)
        if candidate.mutants[0].line in UNCOVERED and any(m.line not in UNCOVERED for m in candidate.mutants):
            return candidate
    raise AssertionError("no seed puts an uncovered mutant first")


def assert_cleared(pair: PairRecord) -> None:
    assert (pair.tests, pair.entry_point, pair.mutants) == ("", "", ())


def test_no_tests_is_rejected_without_running():
    verified = verify_pair(seed(SIGN, "  \n"), settings())
    assert isinstance(verified.result, RejectRecord)
    assert (verified.result.stage, verified.result.reason) == ("verify_by_execution", NO_TESTS)
    assert verified.attempts == ()


def test_a_missing_toolchain_is_its_own_reason(monkeypatch):
    python = RUNNERS["Python"]
    monkeypatch.setitem(RUNNERS, "C#", Runner(("codepref-no-such-mcs",), python.layout, python.steps))
    verified = verify_pair(seed("class A {}\n", "class T {}\n", language="C#"), settings())
    assert verified.result.reason == "no_toolchain_csharp"
    assert "codepref-no-such-mcs" in verified.result.detail
    assert verified.attempts == ()


def test_no_toolchain_for_an_installed_language_or_one_without_a_runner(monkeypatch):
    monkeypatch.setattr(verify, "missing_toolchain", lambda language: "python3")
    verified = verify_pair(seed(SIGN, SIGN_TESTS), settings())
    assert verified.result.reason == "no_toolchain_python" and "python3" in verified.result.detail
    unknown = verify_pair(seed("x = 1\n", "assert x == 1\n")._replace(language="Rust"), settings())
    assert unknown.result.reason == "no_toolchain_rust"


def test_a_solution_that_fails_its_tests_is_rejected_with_the_verdict():
    pair = mutated(seed(SIGN, "assert sign(0) == 0\n"))
    verified = verify_pair(pair, settings())
    assert verified.result.reason == SOLUTION_FAILS_TESTS
    assert verified.result.detail.startswith("assertion (test):")
    assert json.loads(verified.result.payload) == {"outcome": "assertion"}
    assert verified.attempts == ()
    raising = verify_pair(seed(SIGN, "sign()\n"), settings())
    assert raising.result.reason == SOLUTION_FAILS_TESTS and raising.result.detail.startswith("error (test):")


def test_every_surviving_mutant_is_an_equivalent_mutant():
    pair = mutated(seed(SIGN, "assert True\n"))
    verified = verify_pair(pair, settings(max_attempts=3))
    assert verified.result.reason == EQUIVALENT_MUTANT
    assert verified.result.detail.startswith("3 candidate bug(s)")
    tried = json.loads(verified.result.payload)["tried"]
    assert [t["operator"] for t in tried] == [a.operator for a in verified.attempts]
    assert all({"operator", "line", "column", "before", "after"} <= set(t) for t in tried)
    assert [a.outcome for a in verified.attempts] == ["passed"] * 3
    assert all(a == Attempt("Python", a.operator, "passed", probe_isolation().namespaces) for a in verified.attempts)


def test_a_later_mutant_is_kept_when_the_first_survives():
    pair = seed_whose_first_mutant_is_uncovered(seed(SIGN, SIGN_TESTS))
    verified = verify_pair(pair, settings(prefer_covered=False))
    kept = verified.result
    assert isinstance(kept, PairRecord)
    details = execution(kept)
    assert details["attempts"] == len(verified.attempts) > 1
    assert [a.outcome for a in verified.attempts][:-1] == ["passed"] * (len(verified.attempts) - 1)
    assert verified.attempts[-1].outcome != "passed"
    assert [a.operator for a in verified.attempts] == [m.operator for m in pair.mutants[: len(verified.attempts)]]
    killer = pair.mutants[len(verified.attempts) - 1]
    assert kept.rejected == killer.code and kept.chosen == SIGN
    assert json.loads(kept.label_details)["mutation"]["line"] == killer.line
    assert "mutated_line_covered" not in details  # nothing was traced without the preference
    assert details["tests_sha256"] == hashlib.sha256(SIGN_TESTS.encode()).hexdigest()[:16]
    assert_cleared(kept)


def test_covered_mutants_go_first_when_preferred():
    pair = seed_whose_first_mutant_is_uncovered(seed(SIGN, SIGN_TESTS))
    covered = set(run_tests("Python", SIGN, SIGN_TESTS, "", LIMITS, probe_isolation(), trace=True).lines)
    assert not UNCOVERED & covered
    order = [m for m in pair.mutants if m.line in covered] + [m for m in pair.mutants if m.line not in covered]
    assert order[0] != pair.mutants[0]
    verified = verify_pair(pair, settings(prefer_covered=True))
    kept = verified.result
    assert isinstance(kept, PairRecord), kept
    tried = order[: len(verified.attempts)]
    assert [a.operator for a in verified.attempts] == [m.operator for m in tried]
    assert all(m.line in covered for m in tried)
    assert kept.rejected == tried[-1].code
    assert json.loads(kept.label_details)["mutation"]["line"] == tried[-1].line
    assert execution(kept)["mutated_line_covered"] is True
    assert_cleared(kept)


def test_killed_by_records_how_the_bug_broke_the_tests():
    assertion = only_mutant(mutated(seed(SIGN, SIGN_TESTS)), "relational_flip", "<")
    words = mutated(seed(FIRST_WORD, "assert first_word('') == ''\nassert first_word('a b') == 'a'\n"))
    error = only_mutant(words, "negate_condition", "not words")
    timeout = only_mutant(mutated(seed(COUNT_DOWN, "assert count_down(3) == 3\n")), "delete_statement", "n -= 1")
    for pair, killed_by in ((assertion, "assertion"), (error, "error"), (timeout, "timeout")):
        verified = verify_pair(pair, settings(FAST))
        assert isinstance(verified.result, PairRecord), (killed_by, verified.result)
        assert execution(verified.result)["killed_by"] == killed_by
        assert [a.outcome for a in verified.attempts] == [killed_by]
        assert verified.result.rejected == pair.mutants[0].code


def test_an_llm_bug_is_run_as_it_is():
    buggy = SIGN.replace("x < 0", "x <= 0")
    pair = seed(SIGN, "assert sign(0) == 1\n")._replace(rejected=buggy)
    verified = verify_pair(pair, settings())
    kept = verified.result
    assert isinstance(kept, PairRecord)
    assert kept.rejected == buggy and kept.chosen == SIGN
    assert verified.attempts == (Attempt("Python", LLM_BUG, "assertion", probe_isolation().namespaces),)
    details = json.loads(kept.label_details)
    assert "mutation" not in details and "mutated_line_covered" not in details["execution"]
    assert details["execution"]["attempts"] == 1
    assert_cleared(kept)
    weak = verify_pair(pair._replace(tests="assert sign(5) == 1\n"), settings())
    assert weak.result.reason == EQUIVALENT_MUTANT
    assert json.loads(weak.result.payload) == {"tried": [{"operator": LLM_BUG}]}


def test_earlier_label_details_are_kept():
    pair = only_mutant(mutated(seed(SIGN, SIGN_TESTS)), "relational_flip", "<")
    pair = pair._replace(label_details=json.dumps({"function": {"name": "sign"}}))
    kept = verify_pair(pair, settings()).result
    details = json.loads(kept.label_details)
    assert details["function"] == {"name": "sign"} and details["mutation"]["operator"] == "relational_flip"
    assert details["execution"]["killed_by"] == "assertion"


@pytest.mark.parametrize("prefer_covered", [True, False])
def test_the_same_pair_gives_the_same_result(prefer_covered):
    pair = seed_whose_first_mutant_is_uncovered(seed(SIGN, SIGN_TESTS))
    first = verify_pair(pair, settings(prefer_covered=prefer_covered))
    assert verify_pair(pair, settings(prefer_covered=prefer_covered)) == first


def test_a_mutant_that_does_not_build_is_killed_in_the_build_phase():
    from transforms.code.mutations import Mutant

    if verify.missing_toolchain("C"):
        pytest.skip("gcc is not installed: the C toolchain is missing on this machine")
    code = "int twice(int x) { return 2 * x; }\n"
    tests = "int main(void) { return twice(3) == 6 ? 0 : 1; }\n"
    broken = Mutant("int twice(int x) { return 2 * ; }\n", "arithmetic_swap", 1, 26, "x", "")
    pair = seed(code, tests, language="C")._replace(rejected=broken.code, mutants=(broken,))
    kept = verify_pair(pair, settings()).result
    assert isinstance(kept, PairRecord)
    assert json.loads(kept.label_details)["execution"] | {"tests_sha256": ""} == {
        "killed_by": "error",
        "phase": "build",
        "attempts": 1,
        "tests_sha256": "",
    }


def test_a_sandbox_failure_rejects_the_pair_instead_of_killing_its_bug(monkeypatch):
    from transforms.execution import sandbox

    monkeypatch.setattr(sandbox, "_RETRIES", (0.0,))
    monkeypatch.setattr(sandbox, "_GUARDS_ONLY_START", "exit 1")
    guards = Settings(LIMITS, sandbox.Isolation(False, os.geteuid() == 0))
    verified = verify_pair(mutated(seed(SIGN, SIGN_TESTS)), guards)
    assert verified.result.reason == verify.SANDBOX_FAILED and "could not start" in verified.result.detail
    assert verified.attempts == ()
