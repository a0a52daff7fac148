"""`mutation_reject`: is a mutant (or any planted bug) an acceptable rejected side?"""

__all__ = ["fingerprint_tree", "mutation_reject", "reject_against"]

import collections
import functools
from typing import Any, NamedTuple

from transforms.code.mutations.languages import spec_for
from transforms.code.mutations.records import (
    REJECT_ADDS_COMMENT,
    REJECT_NO_DIFFERENCE,
    REJECT_STRUCTURE_CHANGED,
    REJECT_UNPARSEABLE,
)
from transforms.code.mutations.syntax import is_string_type
from transforms.code.parsing import get_parser


class _Fingerprint(NamedTuple):
    has_error: bool
    errors: int
    tokens: tuple[tuple[str, bytes, int], ...]
    comments: collections.Counter
    structure: tuple[tuple[str, bytes], ...]


def _definition_name(node: Any) -> bytes:
    name = node.child_by_field_name("name")
    if name is not None:
        return name.text
    declarator = node.child_by_field_name("declarator")
    while declarator is not None and declarator.child_by_field_name("declarator") is not None:
        declarator = declarator.child_by_field_name("declarator")
    return declarator.text if declarator is not None else b""


def fingerprint_tree(root: Any, language: str) -> _Fingerprint:
    """Tokens (leaf type, text, named depth; whole strings as one token), comments and definitions of a tree."""
    definitions = spec_for(language).definitions
    tokens: list[tuple[str, bytes, int]] = []
    comments: collections.Counter = collections.Counter()
    structure: list[tuple[str, bytes]] = [
        (c.type, b"") for c in root.named_children if "comment" not in c.type and not c.is_error
    ]
    errors = 0
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        kind = node.type
        if node.is_error or node.is_missing:
            errors += 1
        if "comment" in kind:
            comments[node.text.strip()] += 1
            continue
        if kind in definitions and (not kind.endswith("_specifier") or node.child_by_field_name("body")):
            structure.append((kind, _definition_name(node)))
        children = node.children
        if not children or is_string_type(kind):
            tokens.append((kind, node.text, depth))
            continue
        depth += node.is_named
        stack.extend([(c, depth) for c in reversed(children)])
    return _Fingerprint(root.has_error, errors, tuple(tokens), comments, tuple(structure))


def _fingerprint(code: str, language: str) -> _Fingerprint:
    root = get_parser(language).parse(code.encode("utf-8", "surrogatepass")).root_node
    return fingerprint_tree(root, language)


_cached_fingerprint = functools.lru_cache(maxsize=16)(_fingerprint)


def mutation_reject(original: str, mutated: str, language: str) -> str | None:
    """Why `mutated` is not an acceptable bug planted in `original`, or None when it is.

    Reasons, checked in this order:
        `unparseable`: the mutant has syntax errors (ERROR/MISSING nodes) the
            original did not;
        `no_difference`: the two are equal once whitespace and comments are
            ignored (same leaf tokens, excluding comments);
        `adds_comment`: a comment in the mutant is not in the original;
        `structure_changed`: the top-level node types or the sequence of
            definitions (functions, methods, classes, with their names) changed.

    Args:
        original: the reference code.
        mutated: the code with the planted bug.
        language: one of the 8 target languages.

    Returns:
        A reason from `REJECT_REASONS`, or None.

    Raises:
        ValueError: an unknown language.
    """
    return reject_against(_cached_fingerprint(original, language), mutated, language)


def reject_against(before: _Fingerprint, mutated: str, language: str) -> str | None:
    """`mutation_reject` with the original's fingerprint already computed (see `fingerprint_tree`)."""
    after = _fingerprint(mutated, language)
    if after.errors > before.errors or (after.has_error and not before.has_error):
        return REJECT_UNPARSEABLE
    if after.tokens == before.tokens:
        return REJECT_NO_DIFFERENCE
    if after.comments - before.comments:
        return REJECT_ADDS_COMMENT
    if after.structure != before.structure:
        return REJECT_STRUCTURE_CHANGED
    return None
