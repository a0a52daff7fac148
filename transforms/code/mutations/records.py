"""Records and constants shared by the mutation modules."""

__all__ = [
    "OPERATORS",
    "REJECT_ADDS_COMMENT",
    "REJECT_NO_DIFFERENCE",
    "REJECT_REASONS",
    "REJECT_STRUCTURE_CHANGED",
    "REJECT_UNPARSEABLE",
    "Mutant",
    "Site",
]

from typing import NamedTuple

from schemas.labels import MUTATION_OPERATORS


OPERATORS: tuple[str, ...] = MUTATION_OPERATORS
"""The mutation operators, in the order `find_sites` breaks ties."""

REJECT_UNPARSEABLE = "unparseable"
REJECT_NO_DIFFERENCE = "no_difference"
REJECT_ADDS_COMMENT = "adds_comment"
REJECT_STRUCTURE_CHANGED = "structure_changed"
REJECT_REASONS: tuple[str, ...] = (
    REJECT_UNPARSEABLE,
    REJECT_NO_DIFFERENCE,
    REJECT_ADDS_COMMENT,
    REJECT_STRUCTURE_CHANGED,
)
"""What `mutation_reject` can answer, in the order it checks them."""


class Site(NamedTuple):
    """One place a mutation can be made: replace `[start_byte, end_byte)` with `replacement`.

    Offsets are UTF-8 byte offsets into the code; `line` is 1-based and `column`
    the 0-based byte column of `start_byte`, as tree-sitter counts them.
    """

    operator: str
    start_byte: int
    end_byte: int
    replacement: str
    line: int
    column: int


class Mutant(NamedTuple):
    """A mutated program and where it was changed; `before`/`after` are the replaced snippet."""

    code: str
    operator: str
    line: int
    column: int
    before: str
    after: str
