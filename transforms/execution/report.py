"""The manifest's `execution` section: how often planted bugs broke the tests; no Beam here.

    "execution": {
      "verified": true,
      "isolation": "namespaces" | "guards only" | "mixed",
      "kill_rates": [{"language", "operator", "tried", "killed", "survived",
                      "killed_by": {"assertion", "error", "timeout"}}, ...],
      "totals": {"tried", "killed", "survived", "killed_by": {...}}
    }

`kill_rates` has one row per (language, operator) that was tried, sorted; an
operator's `survived` share is how often its bugs were too weak for the tests.
"""

__all__ = ["execution_section"]

from collections.abc import Iterable

from transforms.execution.run import OUTCOMES


_KILLS = OUTCOMES[1:]


def _empty() -> dict:
    return {"tried": 0, "killed": 0, "survived": 0, "killed_by": dict.fromkeys(_KILLS, 0)}


def _add(row: dict, outcome: str, n: int) -> None:
    row["tried"] += n
    if outcome == "passed":
        row["survived"] += n
    else:
        row["killed"] += n
        row["killed_by"][outcome] += n


def execution_section(counted: Iterable[tuple[tuple, int]]) -> dict:
    """The section from `(attempt, count)` pairs (`transforms.execution.verify.Attempt` as a tuple)."""
    rows: dict[tuple[str, str], dict] = {}
    totals = _empty()
    isolated = set()
    for (language, operator, outcome, was_isolated), n in counted:
        _add(rows.setdefault((language, operator), _empty()), outcome, n)
        _add(totals, outcome, n)
        isolated.add(bool(was_isolated))
    words = {frozenset(): "none ran", frozenset({True}): "namespaces", frozenset({False}): "guards only"}
    return {
        "verified": True,
        "isolation": words.get(frozenset(isolated), "mixed"),
        "kill_rates": [{"language": lang, "operator": op, **rows[(lang, op)]} for lang, op in sorted(rows)],
        "totals": totals,
    }
