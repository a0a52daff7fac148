"""A one-pass index of a parsed program and the small text helpers operators share."""

__all__ = [
    "ARITH_SWAP",
    "LOGICAL_SWAP",
    "RELATIONAL",
    "SyntaxIndex",
    "build_index",
    "callee_name",
    "int_value",
    "is_boolean_like",
    "is_nonfunctional_call",
    "is_string_type",
    "is_stringy",
    "make_site",
    "negated",
    "node_text",
    "operator_tokens",
    "shifted",
]

import bisect
import dataclasses
import functools
import re
from typing import Any

from transforms.code.mutations.languages import LangSpec, spec_for
from transforms.code.mutations.records import Site
from transforms.code.parsing import get_parser


RELATIONAL = frozenset({"<", ">", "<=", ">=", "==", "!=", "===", "!==", "is", "is not", "in", "not in"})
ARITH_SWAP = {"+": "-", "-": "+", "*": "/", "/": "*", "%": "*", "//": "/"}
LOGICAL_SWAP = {"&&": "||", "||": "&&", "and": "or", "or": "and"}

_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)([uUlL]*)$")
_STRING_TYPES = frozenset(
    {"char_literal", "character_literal", "rune_literal", "character", "text_block", "heredoc_body", "regex"}
)
_UNARY = frozenset({"unary_expression", "unary_operator", "unary", "prefix_unary_expression"})
_COLLECTIONS = frozenset(
    {
        "list",
        "tuple",
        "set",
        "dictionary",
        "list_comprehension",
        "array",
        "hash",
        "object",
        "composite_literal",
        "initializer_list",
        "array_creation_expression",
    }
)
_PREDICATE = re.compile(r"^(is|has|can|should|contains|equals|exists|allow|valid|empty|starts|ends|matches)|\?$", re.I)
_NONFUNCTIONAL_NAMES = frozenset(
    {
        "free",
        "delete",
        "close",
        "Close",
        "dispose",
        "Dispose",
        "release",
        "lock",
        "unlock",
        "Lock",
        "Unlock",
        "RLock",
        "RUnlock",
        "print",
        "println",
        "printf",
        "fprintf",
        "puts",
        "p",
        "pp",
        "warn",
        "warning",
        "debug",
        "info",
        "trace",
        "log",
        "WriteLine",
        "Println",
        "Printf",
        "Print",
        "Fprintf",
        "Fprintln",
    }
)
_NONFUNCTIONAL_RECEIVER = re.compile(r"(^|[.>:])(log|logger|logging|console|Console|System\.(out|err)|Debug|Trace)\b")


@dataclasses.dataclass
class SyntaxIndex:
    """What the operators need from one parse.

    Attributes:
        code: the program as UTF-8 bytes.
        spec: the language's node-type tables.
        root: the tree's root node.
        by_type: node type → nodes outside opaque subtrees, in source order.
        identifiers: `(start_byte, text)` of every identifier, opaque subtrees
            included, in source order.
        line_starts: the byte offset of each line's start.
    """

    code: bytes
    spec: LangSpec
    root: Any
    by_type: dict[str, list[Any]]
    identifiers: list[tuple[int, bytes]]
    line_starts: list[int]

    @functools.cached_property
    def identifier_starts(self) -> list[int]:
        """The start bytes of `identifiers`, for bisecting."""
        return [start for start, _ in self.identifiers]

    def nodes(self, *types: str) -> list[Any]:
        """Nodes of the given types, in source order (by start, then outermost first)."""
        if len(types) == 1:
            return self.by_type.get(types[0], [])
        found = [n for t in types for n in self.by_type.get(t, [])]
        found.sort(key=lambda n: (n.start_byte, -n.end_byte))
        return found


def build_index(code: str, language: str) -> SyntaxIndex:
    """Parses `code` and indexes its nodes by type (comments left out).

    Raises:
        ValueError: an unknown language.
    """
    spec = spec_for(language)
    data = code.encode("utf-8", "surrogatepass")
    tree = get_parser(language).parse(data)
    by_type: dict[str, list[Any]] = {}
    identifiers: list[tuple[int, bytes]] = []
    stack: list[tuple[Any, bool]] = [(tree.root_node, False)]
    while stack:
        node, opaque = stack.pop()
        kind = node.type
        if "comment" in kind:
            continue
        if kind == "identifier":
            identifiers.append((node.start_byte, node.text))
        opaque = opaque or kind in spec.opaque or node.is_error
        if spec.opaque_texts and kind in spec.binary and node.text in spec.opaque_texts:
            opaque = True
        if not opaque:
            by_type.setdefault(kind, []).append(node)
        children = node.children
        if not children:
            continue
        hidden: set[int] = set()
        for parent, field in spec.opaque_fields:
            if parent == kind:
                hidden.update(c.id for c in node.children_by_field_name(field))
        stack.extend((c, opaque or c.id in hidden) for c in reversed(children))
    line_starts = [0, *(m.end() for m in re.finditer(b"\n", data))]
    return SyntaxIndex(data, spec, tree.root_node, by_type, identifiers, line_starts)


def make_site(index: SyntaxIndex, operator: str, start: int, end: int, replacement: str) -> Site:
    """A `Site` replacing bytes `[start, end)`, with its 1-based line and 0-based byte column."""
    line = bisect.bisect_right(index.line_starts, start)
    return Site(operator, start, end, replacement, line, start - index.line_starts[line - 1])


def node_text(node: Any) -> str:
    """The source text of a node."""
    return node.text.decode("utf-8", "surrogatepass")


def operator_tokens(node: Any) -> list[Any]:
    """The operator token children of a binary/comparison node."""
    return node.children_by_field_name("operator") or node.children_by_field_name("operators")


def int_value(node: Any, spec: LangSpec) -> tuple[int, str] | None:
    """`(value, suffix)` of a decimal integer literal (`-k` included), else None."""
    sign = 1
    if node.type in _UNARY:
        if node.child_count != 2 or node.children[0].type != "-":
            return None
        node, sign = node.children[1], -1
    if node.type not in spec.int_literals:
        return None
    match = _DECIMAL.match(node_text(node))
    return (sign * int(match.group(1)), match.group(2)) if match else None


def _render_int(value: int, suffix: str) -> str:
    return f"{value}{suffix}"


def _is_tight(node: Any, spec: LangSpec) -> bool:
    if node.type not in spec.tight:
        return False
    if node.type == "call" and spec.last_is_value:  # Ruby: `f a, b` binds looser than `!`
        args = node.child_by_field_name("arguments")
        return args is None or args.text.startswith(b"(")
    return True


def is_string_type(kind: str) -> bool:
    """True for string, character, heredoc and regex literal node types."""
    return "string" in kind or kind in _STRING_TYPES


def is_stringy(node: Any, spec: LangSpec) -> bool:
    """True for a string or collection operand, or a `+` chain holding one."""
    stack = [node]
    while stack:
        kind = stack[-1].type
        if is_string_type(kind) or kind in _COLLECTIONS:
            return True
        current = stack.pop()
        if kind in spec.binary or kind.startswith("parenthesized"):
            stack.extend(current.named_children)
    return False


def callee_name(call: Any) -> tuple[str, str]:
    """`(whole callee text, last name segment)` of a call node."""
    callee = call.child_by_field_name("function") or call.child_by_field_name("name")
    if callee is None:
        callee = call.child_by_field_name("method") or call.child_by_field_name("type")
        receiver = call.child_by_field_name("receiver") or call.child_by_field_name("object")
        whole = (node_text(receiver) + "." if receiver is not None else "") + (node_text(callee) if callee else "")
        return whole, node_text(callee) if callee else ""
    named = callee.named_children
    last = named[-1] if named and callee.type not in ("identifier", "generic_name") else callee
    if last.type in ("type_arguments", "template_argument_list", "type_argument_list") and len(named) > 1:
        last = named[-2]
    return node_text(callee), node_text(last)


def is_nonfunctional_call(call: Any) -> bool:
    """Logging, printing, locking and freeing calls: changing them is not a functional bug."""
    whole, last = callee_name(call)
    return last in _NONFUNCTIONAL_NAMES or bool(_NONFUNCTIONAL_RECEIVER.search(whole))


def is_boolean_like(node: Any, spec: LangSpec) -> bool:
    """Comparisons, logical operators, negations and predicate-named calls."""
    kind = node.type
    if kind in ("comparison_operator", "boolean_operator", "not_operator"):
        return True
    if kind in spec.binary:
        ops = operator_tokens(node)
        return bool(ops) and (ops[0].type in RELATIONAL or ops[0].type in LOGICAL_SWAP)
    if kind in spec.negations:
        return bool(node.children) and node.children[0].type in ("!", "not")
    if kind.startswith("parenthesized") and node.named_child_count == 1:
        return is_boolean_like(node.named_children[0], spec)
    if kind in spec.calls:
        return bool(_PREDICATE.search(callee_name(node)[1]))
    return False


def negated(node: Any, spec: LangSpec, statement: bool) -> str:
    """The text of `node` negated: a negation is removed, anything else gets `!`/`not`.

    Args:
        node: the boolean expression.
        spec: the language's tables.
        statement: the expression is a statement's whole condition, so a
            parenthesised operand left after removing a negation may lose its
            parentheses.
    """
    if node.type in spec.negations and node.children and node.children[0].type in ("!", "not"):
        operand = node.named_children[-1]
        if statement and operand.type.startswith("parenthesized") and operand.named_child_count == 1:
            return node_text(operand.named_children[0])
        return node_text(operand)
    if _is_tight(node, spec):
        return spec.not_prefix + node_text(node)
    return f"{spec.not_prefix.rstrip()} ({node_text(node)})" if spec.not_prefix == "not " else f"!({node_text(node)})"


def shifted(node: Any, delta: int, spec: LangSpec, min_value: int | None = None) -> str | None:
    """The text of `node` plus `delta` (±1): literals are recomputed, `e ± k` adjusted, else `e + 1`.

    Returns None when the result would fall below `min_value` or the expression
    cannot take an offset cleanly.
    """
    literal = int_value(node, spec)
    if literal is not None:
        value = literal[0] + delta
        if min_value is not None and value < min_value:
            return None
        return _render_int(value, literal[1])
    if node.type in spec.binary:
        ops = operator_tokens(node)
        right = node.child_by_field_name("right")
        if right is None and node.named_child_count == 2:
            right = node.named_children[1]
        k = int_value(right, spec) if right is not None else None
        if ops and ops[0].type in ("+", "-") and k is not None and k[0] >= 0:
            value = k[0] + delta if ops[0].type == "+" else k[0] - delta
            left = node.text[: ops[0].start_byte - node.start_byte].decode("utf-8", "surrogatepass").rstrip()
            if value == 0:
                return left
            sign = ops[0].type if value > 0 else ("-" if ops[0].type == "+" else "+")
            return f"{left} {sign} {_render_int(abs(value), k[1])}"
    if is_stringy(node, spec):
        return None
    text = node_text(node)
    if "\n" in text:
        return None
    ops = operator_tokens(node) if node.type in spec.binary else []
    tight = _is_tight(node, spec) or (len(ops) == 1 and ops[0].type in ("+", "-"))
    base = text if tight else f"({text})"
    return f"{base} {'+' if delta > 0 else '-'} {abs(delta)}"
