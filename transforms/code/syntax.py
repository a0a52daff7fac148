"""Syntax filters for code pairs: parseable, deep enough, not empty, not too broken.

`syntax_reject(chosen, rejected, language, cfg)` takes the two sides of a code
pair (the chosen/new code and the rejected/old code, as `str`) and returns None
to keep the pair or `(reason, detail)` to reject it. The checks run in this
order and the first that fails wins:

    too_large_to_parse    either side is over `cfg.max_bytes` UTF-8 bytes;
    empty_after_comments  either side is only whitespace once comments are gone;
    syntax_error          the chosen side has ERROR or MISSING nodes (unless
                          `cfg.allow_syntax_errors`);
    too_shallow           the chosen side's tree is shallower than `cfg.min_depth`
                          (the "AST depth < 3" rule of the Themis cards; depth as
                          in `transforms.code.parsing`: named nodes, root = 1);
    old_too_broken        the rejected side has more than `cfg.max_old_error_nodes`
                          ERROR/MISSING nodes.

Only the chosen side must be clean: for Functional Correctness pairs the
rejected side is buggy on purpose, and an old version of a file may not parse,
so it is held to a budget rather than to zero.

`strip_comments(code, language)` removes the language's comment nodes (line,
block and doc comments) and keeps every other byte; strings that contain
comment markers are strings in the tree, so they stay. Python docstrings are
string statements, not comments, and are kept (removing one can leave an empty
block that no longer parses).

These are pure functions for the tree-sitter stage (house-style rules 2, 10 and
19): rejects are decisions returned to the caller, never exceptions; an unknown
language is a programming error and raises `ValueError`.
"""

__all__ = [
    "COMMENT_TYPES",
    "EMPTY_CODE",
    "OLD_TOO_BROKEN",
    "REASONS",
    "SYNTAX_ERROR",
    "TOO_LARGE_TO_PARSE",
    "TOO_SHALLOW",
    "SyntaxConfig",
    "comment_ranges",
    "remove_ranges",
    "strip_comments",
    "syntax_checked",
    "syntax_reject",
]

import functools
from typing import Any

from schemas.config import SyntaxConfig  # re-exported: the filter's thresholds are a config
from schemas.records import PairRecord, RejectRecord
from transforms.code.parsing import get_language, parse_code


SYNTAX_ERROR = "syntax_error"
TOO_SHALLOW = "too_shallow"
OLD_TOO_BROKEN = "old_too_broken"
EMPTY_CODE = "empty_after_comments"
TOO_LARGE_TO_PARSE = "too_large_to_parse"
REASONS: tuple[str, ...] = (TOO_LARGE_TO_PARSE, EMPTY_CODE, SYNTAX_ERROR, TOO_SHALLOW, OLD_TOO_BROKEN)
"""Every reject reason, in the order the checks run."""

COMMENT_TYPES: dict[str, frozenset[str]] = {
    "C": frozenset({"comment"}),
    "C#": frozenset({"comment"}),
    "C++": frozenset({"comment"}),
    "Go": frozenset({"comment"}),
    "Java": frozenset({"line_comment", "block_comment"}),
    "JavaScript": frozenset({"comment", "html_comment"}),
    "Python": frozenset({"comment"}),
    "Ruby": frozenset({"comment"}),
}
"""Tree-sitter node types that are comments, per language (doc comments included)."""


@functools.cache
def _comment_query(language: str) -> Any:
    import tree_sitter

    types = " ".join(f"({t})" for t in sorted(COMMENT_TYPES[language]))
    return tree_sitter.Query(get_language(language), f"[{types}] @comment")


def comment_ranges(root: Any, language: str) -> list[tuple[int, int]]:
    """Returns the byte ranges of the comment nodes under a tree-sitter node.

    Args:
        root: a `tree_sitter.Node` (usually `tree.root_node`).
        language: one of the 8 target languages.

    Returns:
        Sorted, non-overlapping `(start_byte, end_byte)` pairs.
    """
    import tree_sitter

    found = tree_sitter.QueryCursor(_comment_query(language)).captures(root).get("comment", [])
    ranges: list[tuple[int, int]] = []
    for start, end in sorted((n.start_byte, n.end_byte) for n in found):
        if ranges and start < ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(end, ranges[-1][1]))
        else:
            ranges.append((start, end))
    return ranges


def remove_ranges(data: bytes, ranges: list[tuple[int, int]]) -> bytes:
    """Cuts byte ranges out of `data`, leaving one space where a cut would glue two tokens."""
    out = bytearray()
    pos = 0
    for start, end in ranges:
        out += data[pos:start]
        before = data[start - 1 : start]
        after = data[end : end + 1]
        if before and after and not before.isspace() and not after.isspace():
            out += b" "
        pos = end
    out += data[pos:]
    return bytes(out)


def strip_comments(code: str, language: str) -> str:
    """Removes the comments of `code` and keeps everything else byte for byte.

    A removed comment leaves nothing behind, except one space where it sat
    between two non-space characters (`a/*x*/b` becomes `a b`, not `ab`).
    Trailing spaces and the line break after a line comment stay.

    Args:
        code: source text.
        language: one of the 8 target languages.

    Returns:
        The code without comment nodes.

    Raises:
        ValueError: the language is not one of the 8 targets.
    """
    data = code.encode("utf-8", "surrogatepass")
    tree, _ = parse_code(code, language, max_bytes=max(len(data), 1))
    return remove_ranges(data, comment_ranges(tree.root_node, language)).decode("utf-8", "surrogatepass")


def syntax_reject(chosen: str, rejected: str, language: str, cfg: SyntaxConfig) -> tuple[str, str] | None:
    """Decides whether a code pair passes the syntax filter.

    Args:
        chosen: the preferred (new) code; held to the strict checks.
        rejected: the dispreferred (old) code; may be broken within budget.
        language: one of the 8 target languages.
        cfg: the thresholds.

    Returns:
        None to keep the pair, else `(reason, detail)` with reason one of
        `REASONS` (see the module docstring for the order).

    Raises:
        ValueError: the language is not one of the 8 targets.
    """
    get_language(language)
    sides = (("chosen", chosen), ("rejected", rejected))
    encoded = {side: code.encode("utf-8", "surrogatepass") for side, code in sides}
    for side, data in encoded.items():
        if len(data) > cfg.max_bytes:
            return TOO_LARGE_TO_PARSE, f"{side}: {len(data)} bytes > {cfg.max_bytes}"
    stats = {}
    for side, code in sides:
        tree, stats[side] = parse_code(code, language, cfg.max_bytes)
        if not remove_ranges(encoded[side], comment_ranges(tree.root_node, language)).strip():
            return EMPTY_CODE, f"{side}: no code besides comments and whitespace"
    new, old = stats["chosen"], stats["rejected"]
    if new.has_error and not cfg.allow_syntax_errors:
        return SYNTAX_ERROR, f"chosen: {new.error_nodes} error nodes"
    if new.depth < cfg.min_depth:
        return TOO_SHALLOW, f"chosen: depth {new.depth} < {cfg.min_depth}"
    if old.error_nodes > cfg.max_old_error_nodes:
        return OLD_TOO_BROKEN, f"rejected: {old.error_nodes} error nodes > {cfg.max_old_error_nodes}"
    return None


def syntax_checked(pair: PairRecord, cfg: SyntaxConfig, stage: str) -> PairRecord | RejectRecord:
    """Returns the pair, or its reject in `stage` when its code fails `syntax_reject`."""
    problem = syntax_reject(pair.chosen, pair.rejected, pair.language, cfg)
    return RejectRecord.make(stage, problem[0], pair.idx, problem[1]) if problem else pair
