"""`transforms.execution.report.execution_section`: sums, kill rates per (language, operator), isolation."""

from transforms.execution.report import execution_section
from transforms.execution.verify import LLM_BUG, Attempt


def zero_kills(**kills):
    return {"assertion": 0, "error": 0, "timeout": 0, **kills}


def test_kill_rates_per_language_and_operator_and_totals():
    counted = [
        (Attempt("Python", "relational_flip", "passed", True), 2),
        (Attempt("Python", "relational_flip", "assertion", True), 3),
        (Attempt("JavaScript", LLM_BUG, "timeout", True), 1),
        (Attempt("Python", "arithmetic_swap", "error", True), 1),
        (Attempt("Python", "relational_flip", "assertion", True), 4),  # the same attempt counted twice adds up
    ]
    section = execution_section(counted)
    assert section["verified"] is True and section["isolation"] == "namespaces"
    assert section["kill_rates"] == [
        {
            "language": "JavaScript",
            "operator": LLM_BUG,
            "tried": 1,
            "killed": 1,
            "survived": 0,
            "killed_by": zero_kills(timeout=1),
        },
        {
            "language": "Python",
            "operator": "arithmetic_swap",
            "tried": 1,
            "killed": 1,
            "survived": 0,
            "killed_by": zero_kills(error=1),
        },
        {
            "language": "Python",
            "operator": "relational_flip",
            "tried": 9,
            "killed": 7,
            "survived": 2,
            "killed_by": zero_kills(assertion=7),
        },
    ]
    assert section["totals"] == {
        "tried": 11,
        "killed": 9,
        "survived": 2,
        "killed_by": zero_kills(assertion=7, error=1, timeout=1),
    }


def test_every_row_adds_up():
    counted = [
        (("C", op, outcome, False), n)
        for n, (op, outcome) in enumerate(
            [("a", "passed"), ("a", "timeout"), ("b", "error"), ("b", "passed"), ("c", "assertion")], start=1
        )
    ]
    section = execution_section(counted)
    for row in [*section["kill_rates"], section["totals"]]:
        assert row["tried"] == row["killed"] + row["survived"]
        assert row["killed"] == sum(row["killed_by"].values())
    assert section["totals"]["tried"] == sum(n for _, n in counted) == 15


def test_isolation_words():
    def isolation(*flags):
        return execution_section([(("Go", "x", "passed", flag), 1) for flag in flags])["isolation"]

    assert isolation(True, True) == "namespaces"
    assert isolation(False) == "guards only"
    assert isolation(True, False) == "mixed"
    empty = execution_section([])
    assert empty["isolation"] == "none ran" and empty["kill_rates"] == []
    assert empty["totals"] == {"tried": 0, "killed": 0, "survived": 0, "killed_by": zero_kills()}
