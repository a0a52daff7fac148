"""Deterministic AST-guided mutations: plant one functional bug in correct code.

Pure functions over tree-sitter parses of the 8 target languages, for Functional
Correctness pairs (chosen = the correct code, rejected = a mutant). No Beam here;
`transforms.code.bugged.MutatePairs` maps `mutate` over pairs.

Input: a program's text and its language. Output: `Site`s (where and how a
mutation can be made) and `Mutant`s (the mutated code with its operator, 1-based
line, 0-based byte column and the replaced snippet before/after).

Operators (`OPERATORS`), each guided by the language's node types (`languages.SPECS`):
    relational_flip: `<`↔`>`, `<=`↔`>=`, `==`↔`!=` (`===`↔`!==`; Python `is`/`in`
        ↔ `is not`/`not in`) on the operator token of binary/comparison nodes
        only, so template and generic brackets, `<<`, `->` and `=>` are never touched.
    arithmetic_swap: `+`↔`-`, `*`↔`/`, `%`→`*` (Python `//`→`/`), and `+=`↔`-=`,
        `*=`↔`/=`; never when an operand is a string or collection literal (or a
        `+` chain holding one).
    boundary_off_by_one: `<`↔`<=`, `>`↔`>=` in any comparison; ±1 on index-like
        subscripts and slice bounds, on the bound of a counted `for` loop, on
        Python's `range` stop and on `slice`/`substring`-like arguments
        (`i + 1` becomes `i + 2` or `i`, never `i + 1 - 1`); Ruby `..`↔`...`.
    negate_condition: wrap an if/elif/while/do/ternary (Ruby also unless/until and
        modifiers) condition in `!(...)` / `not (...)` (no parentheses around a
        name or call), or drop a negation already there; literal conditions
        (`while (true)`) are left alone.
    logical_swap: `&&`↔`||`, `and`↔`or`.
    constant_change: decimal integer literal n → n+1 (0→1, 1→0, but `x ± 1` →
        `x ± 2`), `true`↔`false`.
    return_value_change: `return x` → flipped boolean, number ±1 (0→1, ±1→0),
        negated comparison/logical/predicate-named call, or null: in Python,
        JavaScript and Ruby when the function has another non-null return; in
        the typed languages only when the function already returns null
        somewhere (and with that spelling: `NULL`, `nullptr`, `nil`, `null`).
    delete_statement: drop one simple statement (≤ 3 lines, no body) from a
        function's block of ≥ 2; never a return, definition, still-used
        declaration or first assignment, docstring, Ruby body's last (value)
        statement, or logging/locking/freeing call; whole lines when alone on
        them (always in Python and Ruby, so indentation stays valid).
    swap_call_arguments: swap two adjacent, textually different positional
        arguments of one kind (both strings, both regexes, or neither); never
        lambdas, formatters, `min`/`max`, Go `make`/`new`/`append`, logging calls.

No operator looks inside strings, comments, imports, annotations/attributes/
decorators, type arguments, array sizes, case labels, preprocessor lines, ERROR
nodes or Python's `__name__ == "__main__"` guard, and none plants a comment or a
new identifier.

Reject reasons (`mutation_reject`, also used for LLM-planted bugs):
    unparseable: the mutant has syntax errors the original did not.
    no_difference: equal once whitespace and comments are ignored.
    adds_comment: a comment in the mutant that is not in the original.
    structure_changed: top-level node types or definitions changed.

Determinism: `find_sites` is a pure function of its inputs; `mutate` seeds a
`random.Random` from sha256(seed). Counters belong to the Beam adapter.
"""

from transforms.code.mutations.engine import apply_site, find_sites, mutants, mutate
from transforms.code.mutations.records import (
    OPERATORS,
    REJECT_ADDS_COMMENT,
    REJECT_NO_DIFFERENCE,
    REJECT_REASONS,
    REJECT_STRUCTURE_CHANGED,
    REJECT_UNPARSEABLE,
    Mutant,
    Site,
)
from transforms.code.mutations.reject import mutation_reject


__all__ = [
    "OPERATORS",
    "REJECT_ADDS_COMMENT",
    "REJECT_NO_DIFFERENCE",
    "REJECT_REASONS",
    "REJECT_STRUCTURE_CHANGED",
    "REJECT_UNPARSEABLE",
    "Mutant",
    "Site",
    "apply_site",
    "find_sites",
    "mutants",
    "mutate",
    "mutation_reject",
]
