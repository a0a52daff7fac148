"""`find_sites`, `apply_site` and `mutate`: the deterministic mutation driver."""

__all__ = ["apply_site", "find_sites", "mutants", "mutate"]

import random
from collections.abc import Callable, Sequence

from transforms.code.mutations.expr_operators import (
    find_arithmetic_swap,
    find_boundary_off_by_one,
    find_constant_change,
    find_logical_swap,
    find_relational_flip,
)
from transforms.code.mutations.records import OPERATORS, Mutant, Site
from transforms.code.mutations.reject import fingerprint_tree, reject_against
from transforms.code.mutations.stmt_operators import (
    find_delete_statement,
    find_negate_condition,
    find_return_value_change,
    find_swap_call_arguments,
)
from transforms.code.mutations.syntax import SyntaxIndex, build_index
from transforms.hashing import stable_hash


_FINDERS: dict[str, Callable[[SyntaxIndex], list[Site]]] = {
    "relational_flip": find_relational_flip,
    "arithmetic_swap": find_arithmetic_swap,
    "boundary_off_by_one": find_boundary_off_by_one,
    "negate_condition": find_negate_condition,
    "logical_swap": find_logical_swap,
    "constant_change": find_constant_change,
    "return_value_change": find_return_value_change,
    "delete_statement": find_delete_statement,
    "swap_call_arguments": find_swap_call_arguments,
}


def _check_operators(operators: Sequence[str]) -> None:
    unknown = [op for op in operators if op not in _FINDERS]
    if unknown:
        raise ValueError(f"unknown mutation operators {unknown}; known: {', '.join(OPERATORS)}")


def find_sites(code: str, language: str, operators: Sequence[str] = OPERATORS) -> list[Site]:
    """Every place the given operators can mutate `code`.

    Args:
        code: the program.
        language: one of the 8 target languages.
        operators: which operators to look for (default all of `OPERATORS`).

    Returns:
        Distinct sites in source order (ties: operator order, then replacement);
        the same input always gives the same list.

    Raises:
        ValueError: an unknown language or operator.
    """
    _check_operators(operators)
    return _sites(build_index(code, language), operators)


def _sites(index: SyntaxIndex, operators: Sequence[str]) -> list[Site]:
    sites: dict[Site, None] = {}
    for operator in dict.fromkeys(operators):
        for site in _FINDERS[operator](index):
            if index.code[site.start_byte : site.end_byte] != site.replacement.encode("utf-8", "surrogatepass"):
                sites[site] = None
    return sorted(sites, key=lambda s: (s.start_byte, s.end_byte, OPERATORS.index(s.operator), s.replacement))


def apply_site(code: str, site: Site) -> str:
    """The code with the site's byte range replaced by its replacement.

    Raises:
        ValueError: the site lies outside the code.
    """
    data = code.encode("utf-8", "surrogatepass")
    if not 0 <= site.start_byte <= site.end_byte <= len(data):
        raise ValueError(f"site [{site.start_byte}, {site.end_byte}) outside {len(data)} bytes")
    new = data[: site.start_byte] + site.replacement.encode("utf-8", "surrogatepass") + data[site.end_byte :]
    return new.decode("utf-8", "surrogatepass")


def _rng(seed: str) -> random.Random:
    return random.Random(stable_hash(seed))


def _candidate_order(sites: list[Site], rng: random.Random) -> list[Site]:
    """Round-robin over the operators in a shuffled order, each operator's sites shuffled.

    The first candidate is a uniformly drawn operator's random site, so operators
    with many sites (constants, arguments) do not crowd out the rest.
    """
    groups: dict[str, list[Site]] = {}
    for site in sites:
        groups.setdefault(site.operator, []).append(site)
    operators = sorted(groups, key=OPERATORS.index)
    rng.shuffle(operators)
    for operator in operators:
        rng.shuffle(groups[operator])
    order = []
    for rank in range(max((len(g) for g in groups.values()), default=0)):
        order.extend(groups[op][rank] for op in operators if rank < len(groups[op]))
    return order


def mutate(code: str, language: str, seed: str, operators: Sequence[str] = OPERATORS) -> Mutant | None:
    """Plants one bug in `code`, chosen deterministically from `seed`.

    Candidates are drawn with a `random.Random` seeded from sha256(`seed`) (never
    the global RNG); the first whose mutant passes `mutation_reject` wins.

    Args:
        code: the correct program.
        language: one of the 8 target languages.
        seed: any string; the same seed, code and operators give the same mutant.
        operators: the operators to draw from (default all of `OPERATORS`).

    Returns:
        The mutant with its operator, location and replaced snippet, or None when
        no site yields an acceptable mutant.

    Raises:
        ValueError: an unknown language or operator.
    """
    found = mutants(code, language, seed, operators, limit=1)
    return found[0] if found else None


def mutants(code: str, language: str, seed: str, operators: Sequence[str] = OPERATORS, limit: int = 1) -> list[Mutant]:
    """Up to `limit` acceptable mutants of `code`, in the order `mutate` tries them.

    The first is `mutate`'s answer; the rest are the next candidates (other sites
    and operators), for a caller that tries mutants until one breaks the tests.

    Raises:
        ValueError: an unknown language or operator, or `limit` < 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    _check_operators(operators)
    index = build_index(code, language)
    original, found = None, []
    for site in _candidate_order(_sites(index, operators), _rng(seed)):
        mutated = apply_site(code, site)
        if original is None:  # computed once, from the tree already parsed
            original = fingerprint_tree(index.root, language)
        if reject_against(original, mutated, language) is None:
            before = index.code[site.start_byte : site.end_byte].decode("utf-8", "surrogatepass")
            found.append(Mutant(mutated, site.operator, site.line, site.column, before, site.replacement))
            if len(found) == limit:
                break
    return found
