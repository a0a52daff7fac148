"""Planting a bug in a reference solution, pair by pair, without Beam.

`mutant_pair` makes a Functional Correctness pair from a deterministic AST
mutation of `pair.chosen`; `bug_reject` is the validation that mutants and the
LLM's planted bugs share. Beam stages live in `transforms.code.bugged`; these
functions run in its child process (`transforms.isolation`), which then
imports no Beam.
"""

__all__ = ["MUTATE_STAGE", "NO_VALID_MUTANT", "bug_reject", "mutant_pair"]

from collections.abc import Sequence

from schemas.records import PairRecord, RejectRecord
from transforms.llm.requests import merge_details


MUTATE_STAGE = "mutate"
NO_VALID_MUTANT = "no_valid_mutant"


def bug_reject(original: str, buggy: str, language: str) -> str | None:
    """Returns why a planted bug is not acceptable, or None."""
    from transforms.code.functions import extract_functions
    from transforms.code.mutations import mutation_reject

    reason = mutation_reject(original, buggy, language)
    if reason:
        return reason
    before = [f.qualified_name for f in extract_functions(original, language)]
    after = [f.qualified_name for f in extract_functions(buggy, language)]
    return "structure_changed" if before != after else None


def mutant_pair(pair: PairRecord, operators: Sequence[str], seed: int) -> PairRecord | RejectRecord:
    """Plants one deterministic AST mutation in `pair.chosen` as the rejected side."""
    from transforms.code.mutations import mutate

    mutant = mutate(pair.chosen, pair.language, f"{seed}:{pair.idx}", tuple(operators))
    if mutant is None or bug_reject(pair.chosen, mutant.code, pair.language):
        return RejectRecord.make(MUTATE_STAGE, NO_VALID_MUTANT, pair.idx, f"operators {','.join(operators)}")
    details = {
        "operator": mutant.operator,
        "line": mutant.line,
        "column": mutant.column,
        "before": mutant.before,
        "after": mutant.after,
    }
    return pair._replace(rejected=mutant.code, label_details=merge_details(pair.label_details, "mutation", details))
