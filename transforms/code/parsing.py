"""Parse code in the 8 target languages with the per-language tree-sitter wheels.

`parse_code` returns the tree and `ParseStats`:
    has_error: the tree holds ERROR or MISSING nodes;
    error_nodes: how many ERROR and MISSING nodes;
    depth: the longest root-to-leaf path counted in nodes, the root being depth 1
        (so `x = 1` in Python — module → expression_statement → assignment →
        identifier — has depth 4); only named nodes count, so punctuation and
        keywords do not deepen a tree;
    node_count: named nodes.

Parsers are cached per process (build them in `DoFn.setup()` through
`get_parser`, or all at once with `load_parsers`). The budget of a parse is a
size limit here (`max_bytes`) plus the per-pair timeout of the Beam stages,
which parse in a child process (`transforms.isolation`) that also survives a
crashing parser.
"""

__all__ = [
    "GRAMMARS",
    "ParseStats",
    "get_language",
    "get_parser",
    "load_parsers",
    "parse_code",
    "tree_stats",
]

import functools
import importlib
from typing import Any, NamedTuple


GRAMMARS: dict[str, tuple[str, str]] = {
    "C": ("tree_sitter_c", "language"),
    "C#": ("tree_sitter_c_sharp", "language"),
    "C++": ("tree_sitter_cpp", "language"),
    "Go": ("tree_sitter_go", "language"),
    "Java": ("tree_sitter_java", "language"),
    "JavaScript": ("tree_sitter_javascript", "language"),
    "Python": ("tree_sitter_python", "language"),
    "Ruby": ("tree_sitter_ruby", "language"),
}
"""Target language → (grammar wheel module, function returning the language)."""


class ParseStats(NamedTuple):
    """Facts about one parse; see the module docstring."""

    has_error: bool
    error_nodes: int
    depth: int
    node_count: int


@functools.cache
def get_language(language: str) -> Any:
    """Returns the `tree_sitter.Language` of a target language.

    Raises:
        ValueError: not one of the 8 target languages.
    """
    import tree_sitter

    if language not in GRAMMARS:
        raise ValueError(f"no grammar for {language!r}; known: {', '.join(GRAMMARS)}")
    module, attr = GRAMMARS[language]
    return tree_sitter.Language(getattr(importlib.import_module(module), attr)())


@functools.cache
def get_parser(language: str) -> Any:
    """Returns a cached `tree_sitter.Parser` for a target language."""
    import tree_sitter

    return tree_sitter.Parser(get_language(language))


def load_parsers() -> None:
    """Builds the parsers of all 8 languages (in `DoFn.setup()` or a child process)."""
    for language in GRAMMARS:
        get_parser(language)


def tree_stats(root: Any) -> ParseStats:
    """Computes `ParseStats` of a tree iteratively (no recursion limit)."""
    errors = nodes = deepest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if node.is_error or node.is_missing:
            errors += 1
        if node.is_named:
            nodes += 1
            deepest = max(deepest, depth)
        child_depth = depth + 1 if node.is_named else depth
        stack.extend((child, child_depth) for child in node.children)
    return ParseStats(root.has_error, errors, deepest, nodes)


def parse_code(code: str, language: str, max_bytes: int = 1_000_000) -> tuple[Any, ParseStats]:
    """Parses code; returns the tree and its stats.

    Raises:
        ValueError: the code is larger than `max_bytes`, or the language unknown.
    """
    data = code.encode("utf-8", "surrogatepass")
    if len(data) > max_bytes:
        raise ValueError(f"{len(data)} bytes > the parse budget of {max_bytes}")
    tree = get_parser(language).parse(data)
    return tree, tree_stats(tree.root_node)
