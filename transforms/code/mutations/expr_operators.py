"""Expression-level operators: relational, arithmetic, boundary, logical and constant mutations.

Each `find_*` function takes a `SyntaxIndex` and returns `Site`s in source order.
"""

__all__ = [
    "find_arithmetic_swap",
    "find_boundary_off_by_one",
    "find_constant_change",
    "find_logical_swap",
    "find_relational_flip",
]

import itertools
import re
from typing import Any

from transforms.code.mutations.records import Site
from transforms.code.mutations.syntax import (
    ARITH_SWAP,
    LOGICAL_SWAP,
    SyntaxIndex,
    callee_name,
    int_value,
    is_stringy,
    make_site,
    node_text,
    operator_tokens,
    shifted,
)


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "!=", "!=": "==", "===": "!==", "!==": "==="}
_PYTHON_FLIP = {"is": "is not", "is not": "is", "in": "not in", "not in": "in"}
_BOUNDARY = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
_AUGMENTED_SWAP = {"+=": "-=", "-=": "+=", "*=": "/=", "/=": "*="}
_BOOL_SWAP = {"true": "false", "false": "true", "True": "False", "False": "True"}
_BOUND_METHODS = frozenset(
    {"slice", "substring", "substr", "subList", "Substring", "copyOfRange", "subSequence", "upto", "GetRange", "Take"}
)
_INDEX_NAME = re.compile(
    r"^_?(?:[ijkmn]\d?|idx|index|pos|position|offset|off|start|end|begin|stop|lo|low|hi|high|mid|middle|len|"
    r"length|size|count|cnt|num|last|first|head|tail|cursor|row|col|column|step|width|height|depth|level|page|"
    r"written|read|total|limit|capacity)$",
    re.IGNORECASE,
)
_INDEX_SUFFIX = re.compile(
    r""
    r"(?:_idx|Idx|_index|Index|_pos|Pos|_len|Len|_count|Count|_size|Size|_offset|Offset|_end|End)$"
)
_SIZE_CALLS = frozenset({"len", "size", "length", "Count", "Length", "count"})


def find_relational_flip(index: SyntaxIndex) -> list[Site]:
    """`<`↔`>`, `<=`↔`>=`, `==`↔`!=` (`===`↔`!==`; Python `is`/`in` ↔ `is not`/`not in`)."""
    sites = []
    for node in index.nodes(*index.spec.binary):
        table = {**_FLIP, **_PYTHON_FLIP} if node.type == "comparison_operator" else _FLIP
        for token in operator_tokens(node):
            if token.type in table:
                sites.append(make_site(index, "relational_flip", token.start_byte, token.end_byte, table[token.type]))
    return sites


def find_arithmetic_swap(index: SyntaxIndex) -> list[Site]:
    """`+`↔`-`, `*`↔`/`, `%`→`*` (Python `//`→`/`), and `+=`↔`-=`, `*=`↔`/=`, on non-string operands."""
    spec, sites = index.spec, []
    for node in index.nodes(*spec.binary, *spec.augmented):
        tokens = operator_tokens(node)
        if len(tokens) != 1:
            continue
        table = _AUGMENTED_SWAP if node.type in spec.augmented and node.type not in spec.binary else ARITH_SWAP
        new = table.get(tokens[0].type)
        if new is None or any(is_stringy(c, spec) for c in node.named_children):
            continue
        sites.append(make_site(index, "arithmetic_swap", tokens[0].start_byte, tokens[0].end_byte, new))
    return sites


def find_logical_swap(index: SyntaxIndex) -> list[Site]:
    """`&&`↔`||` and `and`↔`or`."""
    sites = []
    for node in index.nodes(*index.spec.binary):
        for token in operator_tokens(node):
            if token.type in LOGICAL_SWAP:
                new = LOGICAL_SWAP[token.type]
                sites.append(make_site(index, "logical_swap", token.start_byte, token.end_byte, new))
    return sites


def find_constant_change(index: SyntaxIndex) -> list[Site]:
    """Decimal integer literals n → n+1 (0→1, 1→0) and `true`↔`false`."""
    spec, sites = index.spec, []
    for node in index.nodes(*spec.int_literals):
        literal = int_value(node, spec)
        if literal is None:
            continue
        value, suffix = literal
        parent = node.parent
        negative = parent is not None and parent.child_count == 2 and parent.children[0].type == "-"
        tokens = operator_tokens(parent) if parent is not None and parent.type in spec.binary else []
        offset = len(tokens) == 1 and tokens[0].type in ("+", "-", "*", "/")
        new = value + 1 if negative or offset or value > 1 else 1 - value  # never `x + 0` / `x * 0`
        sites.append(make_site(index, "constant_change", node.start_byte, node.end_byte, f"{new}{suffix}"))
    for node in index.nodes(*spec.bool_literals):
        new = _BOOL_SWAP.get(node_text(node))
        if new is not None:
            sites.append(make_site(index, "constant_change", node.start_byte, node.end_byte, new))
    return sites


def _last_name(node: Any) -> str:
    if node.type in ("identifier", "field_identifier", "constant", "instance_variable"):
        return node_text(node)
    for field in ("field", "property", "attribute", "name", "method"):
        child = node.child_by_field_name(field)
        if child is not None and child.child_count == 0:
            return node_text(child)
    return ""


def _index_like(node: Any, index: SyntaxIndex) -> bool:
    spec = index.spec
    if int_value(node, spec) is not None:
        return True
    if node.type in spec.binary:
        tokens = operator_tokens(node)
        return len(tokens) == 1 and tokens[0].type in ARITH_SWAP and not is_stringy(node, spec)
    if node.type in spec.calls:
        return callee_name(node)[1] in _SIZE_CALLS
    name = _last_name(node)
    return bool(name) and bool(_INDEX_NAME.match(name) or _INDEX_SUFFIX.search(name))


def _shift_sites(index: SyntaxIndex, node: Any, min_value: int | None) -> list[Site]:
    sites = []
    for delta in (1, -1):
        text = shifted(node, delta, index.spec, min_value)
        if text is not None and text != node_text(node):
            sites.append(make_site(index, "boundary_off_by_one", node.start_byte, node.end_byte, text))
    return sites


def _positional(args: Any, index: SyntaxIndex) -> list[Any]:
    spec, out = index.spec, []
    for arg in args.named_children:
        if "comment" in arg.type or arg.type in spec.non_positional:
            continue
        if spec.arg_wrapper and arg.type == spec.arg_wrapper:
            if arg.child_by_field_name("name") is not None or arg.named_child_count != 1:
                continue
            arg = arg.named_children[0]
        out.append(arg)
    return out


def _index_nodes(index: SyntaxIndex) -> list[Any]:
    spec, found = index.spec, []
    for kind, field in spec.subscripts:
        for node in index.nodes(kind):
            if field:
                found.append(node.children_by_field_name(field))
            else:
                holder = node.child_by_field_name("object")
                found.append(_positional(node, index) if holder is None else node.named_children[1:])
    for kind, field in spec.slices:
        for node in index.nodes(kind):
            if field:
                found.extend([c] for c in node.children_by_field_name(field))
                continue
            colons = 0
            for child in node.children:
                colons += child.type == ":"
                if child.is_named and colons <= 1:
                    found.append([child])
    return [nodes[0] for nodes in found if len(nodes) == 1 and nodes[0].type != "slice"]


def find_boundary_off_by_one(index: SyntaxIndex) -> list[Site]:
    """`<`↔`<=`, `>`↔`>=`; ±1 on subscripts, slice bounds, counted-loop bounds and range stops."""
    spec, sites = index.spec, []
    for node in index.nodes(*spec.binary):
        for token in operator_tokens(node):
            if token.type in _BOUNDARY:
                sites.append(
                    make_site(index, "boundary_off_by_one", token.start_byte, token.end_byte, _BOUNDARY[token.type])
                )
    floor = None if spec.negative_index else 0
    for node in _index_nodes(index):
        if _index_like(node, index):
            sites.extend(_shift_sites(index, node, floor))
    for kind, field in spec.loop_conditions:
        for loop in index.nodes(kind):
            for cond in loop.children_by_field_name(field):
                tokens = operator_tokens(cond) if cond.type in spec.binary else []
                right = cond.child_by_field_name("right")
                if len(tokens) == 1 and tokens[0].type in _BOUNDARY and right is not None:
                    sites.extend(_shift_sites(index, right, None))
    for call in itertools.chain.from_iterable(index.nodes(kind) for kind in spec.calls):
        name = callee_name(call)[1]
        args_node = call.child_by_field_name(spec.calls[call.type])
        if args_node is None or (name not in spec.range_calls and name not in _BOUND_METHODS):
            continue
        args = _positional(args_node, index)
        if name in spec.range_calls:
            args = args[:1] if len(args) == 1 else args[1:2]
        for arg in args:
            if name in spec.range_calls or _index_like(arg, index):
                sites.extend(_shift_sites(index, arg, None))
    for node in index.nodes(*spec.ranges):
        for token in operator_tokens(node):
            new = {"..": "...", "...": ".."}.get(token.type)
            if new:
                sites.append(make_site(index, "boundary_off_by_one", token.start_byte, token.end_byte, new))
    return sites
