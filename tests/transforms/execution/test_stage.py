"""`transforms.execution.stage.VerifyByExecution` in a TestPipeline: main, rejected, attempts and the report."""

import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.config import ExecutionConfig
from tests.transforms.execution.helpers import mutated, only_mutant, seed
from tests.transforms.filters.helpers import assert_conserved, stage_counters
from transforms.execution.sandbox import probe_isolation
from transforms.execution.stage import STAGE, VerifyByExecution
from transforms.execution.verify import LLM_BUG, Attempt


SIGN = "def sign(x):\n    if x < 0:\n        return -1\n    return 1\n"
TESTS = "assert sign(5) == 1\nassert sign(-2) == -1\n"


def pairs():
    """A kept mutant, a kept LLM bug, a failing solution, an equivalent mutant and a row without tests."""
    killed = only_mutant(mutated(seed(SIGN, TESTS, name="killed")), "relational_flip", "<")
    llm = seed(SIGN, "assert sign(0) == 1\n", name="llm")._replace(rejected=SIGN.replace("x < 0", "x <= 0"))
    fails = mutated(seed(SIGN, "assert sign(0) == 0\n", name="fails"))
    equivalent = only_mutant(mutated(seed(SIGN, "assert True\n", name="equivalent")), "relational_flip", "<")
    bare = seed(SIGN, "", name="bare")
    return {"killed": killed, "llm": llm, "fails": fails, "equivalent": equivalent, "bare": bare}


def test_verify_by_execution_routes_pairs_and_reports_attempts():
    rows = pairs()
    ids = {name: pair.idx for name, pair in rows.items()}
    isolated = probe_isolation().namespaces
    cfg = ExecutionConfig(timeout_s=10, cpu_s=10, max_attempts=2)
    p = TestPipeline()
    out = p | beam.Create(list(rows.values())) | VerifyByExecution(cfg, batch_size=2)
    kept = out.main | "Kept" >> beam.Map(
        lambda r: (r.idx, r.tests, r.mutants, json.loads(r.label_details)["execution"]["killed_by"])
    )
    assert_that(
        kept,
        equal_to([(ids["killed"], "", (), "assertion"), (ids["llm"], "", (), "assertion")]),
        label="CheckMain",
    )
    rejected = out.rejected | "Reasons" >> beam.Map(lambda r: (r.stage, r.record_id, r.reason))
    want = [
        (STAGE, ids["fails"], "solution_fails_tests"),
        (STAGE, ids["equivalent"], "equivalent_mutant"),
        (STAGE, ids["bare"], "no_tests"),
    ]
    assert_that(rejected, equal_to(want), label="CheckRejected")
    attempts = [
        Attempt("Python", "relational_flip", "assertion", isolated),
        Attempt("Python", LLM_BUG, "assertion", isolated),
        Attempt("Python", "relational_flip", "passed", isolated),
    ]
    assert_that(out.attempts, equal_to(attempts), label="CheckAttempts")
    [report] = out.reports
    assert report.name == STAGE
    assert_that(report.scanned | beam.CombineGlobally(sum), equal_to([5]), label="CheckIn")
    assert_that(report.out | "CountOut" >> beam.combiners.Count.Globally(), equal_to([2]), label="CheckOut")
    assert_that(
        report.rejected | "CountRejected" >> beam.combiners.Count.Globally(), equal_to([3]), label="CheckRejects"
    )
    result = p.run()
    result.wait_until_finish()
    counters = stage_counters(result, STAGE)
    assert counters["in"] == 5 and counters["out"] == 2
    assert {k: v for k, v in counters.items() if k.startswith("rejected:")} == {
        "rejected:solution_fails_tests": 1,
        "rejected:equivalent_mutant": 1,
        "rejected:no_tests": 1,
    }
    assert_conserved(counters)
