"""Planting a bug in a reference solution, pair by pair, without Beam.

`mutant_pair` makes a Functional Correctness pair from a deterministic AST
mutation of `pair.chosen`; `bug_reject` is the validation that mutants and the
LLM's planted bugs share. Beam stages live in `transforms.code.bugged`; these
functions run in its child process (`transforms.isolation`), which then
imports no Beam.
"""

__all__ = ["MUTATE_STAGE", "NO_VALID_MUTANT", "bug_reject", "mutant_pair", "mutation_details", "with_mutant"]

from collections.abc import Sequence

from schemas.records import PairRecord, RejectRecord
from transforms.code.mutations.records import Mutant
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


def mutation_details(mutant: Mutant) -> dict:
    """What `label_details.mutation` records of a mutant."""
    return {
        "operator": mutant.operator,
        "line": mutant.line,
        "column": mutant.column,
        "before": mutant.before,
        "after": mutant.after,
    }


def with_mutant(pair: PairRecord, mutant: Mutant) -> PairRecord:
    """`pair` with `mutant` as its rejected side and in `label_details.mutation`."""
    details = merge_details(pair.label_details, "mutation", mutation_details(mutant))
    return pair._replace(rejected=mutant.code, label_details=details)


def mutant_pair(pair: PairRecord, operators: Sequence[str], seed: int, pool: int = 1) -> PairRecord | RejectRecord:
    """Plants one deterministic AST mutation in `pair.chosen` as the rejected side.

    With `pool` > 1 and tests on the pair, up to `pool` acceptable mutants are kept in
    `pair.mutants` (the first is the rejected side), for the execution stage to try
    in turn until one breaks the tests.
    """
    from transforms.code.mutations import mutants

    limit = pool if pair.tests else 1
    found = [
        m
        for m in mutants(pair.chosen, pair.language, f"{seed}:{pair.idx}", tuple(operators), limit=limit)
        if not bug_reject(pair.chosen, m.code, pair.language)
    ]
    if not found:
        return RejectRecord.make(MUTATE_STAGE, NO_VALID_MUTANT, pair.idx, f"operators {','.join(operators)}")
    return with_mutant(pair, found[0])._replace(mutants=tuple(found) if limit > 1 else ())
