"""Statement-level operators: negated conditions, changed returns, deleted statements, swapped arguments.

Each `find_*` function takes a `SyntaxIndex` and returns `Site`s in source order.
"""

__all__ = [
    "find_delete_statement",
    "find_negate_condition",
    "find_return_value_change",
    "find_swap_call_arguments",
]

import bisect
import itertools
from typing import Any

from transforms.code.mutations.records import Site
from transforms.code.mutations.syntax import (
    SyntaxIndex,
    callee_name,
    int_value,
    is_boolean_like,
    is_nonfunctional_call,
    is_string_type,
    is_stringy,
    make_site,
    negated,
    node_text,
)


_BOOL_SWAP = {"true": "false", "false": "true", "True": "False", "False": "True"}
# Builtins whose arguments are of different kinds, commutative ones, and formatters
# (a swapped format argument is a cosmetic bug, not a functional one).
_NO_SWAP_CALLS = frozenset(
    {"make", "new", "append", "cap", "len", "min", "max"}
    | {"Errorf", "Sprintf", "sprintf", "snprintf", "format", "Format"}
)
_LAMBDAS = frozenset({"lambda", "lambda_expression", "arrow_function", "function_expression", "func_literal"})
_MAX_DELETED_LINES = 3


def _unwrap(node: Any, index: SyntaxIndex) -> Any:
    for _ in range(4):
        fields = [f for kind, f in index.spec.unwrap if kind == node.type]
        if not fields:
            break
        inner = node.child_by_field_name(fields[0]) if fields[0] else None
        if not fields[0] and node.named_child_count == 1:
            inner = node.named_children[0]
        if inner is None:
            break
        node = inner
    return node


def _is_literal(node: Any, index: SyntaxIndex) -> bool:
    spec = index.spec
    return node.type in spec.bool_literals or node.type in spec.null_literals or int_value(node, spec) is not None


def find_negate_condition(index: SyntaxIndex) -> list[Site]:
    """Negates the condition of an if/elif/while/do/ternary (or removes its negation)."""
    spec, sites = index.spec, []
    for kind, field in spec.conditions:
        for node in index.nodes(kind):
            if field:
                cond = node.child_by_field_name(field)
            else:
                named = [c for c in node.named_children if "comment" not in c.type]
                cond = named[1] if len(named) == 3 else None
            if cond is None:
                continue
            cond = _unwrap(cond, index)
            if (
                cond.type in spec.declarations
                or cond.type in ("declaration", *spec.opaque)
                or cond.text in spec.opaque_texts
                or _is_literal(cond, index)
            ):
                continue
            text = negated(cond, spec, statement=kind not in spec.ternaries)
            sites.append(make_site(index, "negate_condition", cond.start_byte, cond.end_byte, text))
    sites.sort(key=lambda s: (s.start_byte, s.end_byte))
    return sites


def _enclosing(node: Any, types: frozenset[str]) -> Any:
    node = node.parent
    while node is not None and node.type not in types:
        node = node.parent
    return node


def _return_values(ret: Any) -> list[Any]:
    values = [c for c in ret.named_children if "comment" not in c.type]
    if len(values) == 1 and values[0].type in ("expression_list", "argument_list"):
        values = [c for c in values[0].named_children if "comment" not in c.type]
    return values


def find_return_value_change(index: SyntaxIndex) -> list[Site]:
    """`return x` → another value of the same kind: bool flipped, number ±1, predicate negated, or null.

    Null is planted only where the function has other returns: in dynamically
    typed languages another non-null return, in typed ones another return of null
    (whose spelling is reused), so that null is a value of the return type.
    """
    spec, sites = index.spec, []
    by_function: dict[int, list[list[Any]]] = {}
    owners = []
    for ret in index.nodes(*spec.returns):
        owner = _enclosing(ret, spec.functions)
        values = _return_values(ret)
        owners.append((owner, values))
        by_function.setdefault(owner.id if owner is not None else 0, []).append(values)
    for owner, values in owners:
        if not values or values[0].type in spec.opaque:
            continue
        value = values[0]
        text = node_text(value)
        literal = int_value(value, spec)
        new = None
        if value.type in spec.bool_literals and text in _BOOL_SWAP:
            new = _BOOL_SWAP[text]
        elif literal is not None:
            number, suffix = literal
            new = f"{1 if number == 0 else 0 if number in (1, -1) else number + 1}{suffix}"
        elif is_boolean_like(value, spec):
            new = negated(value, spec, statement=False)
        elif len(values) == 1 and value.type not in spec.null_literals and not is_stringy(value, spec):
            others = [v for v in by_function[owner.id if owner is not None else 0] if v is not values and v]
            if spec.dynamic and any(v[0].type not in spec.null_literals for v in others):
                new = spec.null_text
            elif not spec.dynamic:
                nulls = [v[0] for v in others if len(v) == 1 and v[0].type in spec.null_literals]
                new = node_text(nulls[0]) if nulls else None
        if new is not None and new != text:
            sites.append(make_site(index, "return_value_change", value.start_byte, value.end_byte, new))
    return sites


_DECLARATOR_CHILDREN = frozenset({"variable_declarator", "variable_declaration", "var_spec", "const_spec"})
_PATTERNS = frozenset({"pattern_list", "tuple_pattern", "list_pattern", "left_assignment_list", "array_pattern"})


def _bound_names(stmt: Any, index: SyntaxIndex) -> tuple[list[bytes], bool]:
    """Names a statement binds and whether it is a declaration (always a fresh binding)."""
    spec = index.spec
    if stmt.type in spec.declarations:
        names, stack = [], [stmt]
        while stack:
            node = stack.pop()
            if node.type == "identifier":
                names.append(node.text)
                continue
            for field in ("declarator", "name", "left"):
                stack.extend(node.children_by_field_name(field))
            for i, child in enumerate(node.children):
                if node.field_name_for_child(i) is None and (
                    child.type in _DECLARATOR_CHILDREN or (node.type == "expression_list" and child.is_named)
                ):
                    stack.append(child)
        return names, True
    expr = stmt.named_children[0] if stmt.type == "expression_statement" and stmt.named_child_count else stmt
    left = expr.child_by_field_name("left") if expr.type in spec.assignments else None
    if left is None:
        return [], False
    if left.type == "identifier":
        return [left.text], False
    if left.type in _PATTERNS:
        return [c.text for c in left.named_children if c.type == "identifier"], False
    return [], False


def _deletable(stmt: Any, position: int, count: int, scope: Any, index: SyntaxIndex) -> bool:
    spec = index.spec
    kind = stmt.type
    if (
        kind in spec.returns
        or kind in spec.definitions
        or kind in spec.functions
        or kind in spec.no_delete
        or kind.startswith("preproc")
        or (spec.last_is_value and position == count - 1)
        or stmt.end_point[0] - stmt.start_point[0] >= _MAX_DELETED_LINES
    ):
        return False
    if not kind.endswith("_modifier") and any(
        stmt.child_by_field_name(f) is not None for f in ("body", "consequence", "block")
    ):
        return False
    top = stmt.named_children[0] if kind == "expression_statement" and stmt.named_child_count else stmt
    if kind == "expression_statement" and stmt.named_child_count == 0:
        return False
    if is_string_type(top.type) or (top.type in spec.calls and is_nonfunctional_call(top)):
        return False
    names, declared = _bound_names(stmt, index)
    if not names:
        return True
    lo, hi = (scope.start_byte, scope.end_byte) if scope is not None else (0, len(index.code))
    starts = index.identifier_starts  # identifiers are in source order
    first, here = bisect.bisect_left(starts, lo), bisect.bisect_left(starts, stmt.start_byte)
    after, last = bisect.bisect_left(starts, stmt.end_byte), bisect.bisect_left(starts, hi)
    seen_before = {text for _, text in index.identifiers[first:here]}
    used_after = {text for _, text in index.identifiers[after:last]}
    return not any(n in used_after for n in names if declared or n not in seen_before)


def _deletion_span(stmt: Any, index: SyntaxIndex) -> tuple[int, int] | None:
    code = index.code
    line_start = code.rfind(b"\n", 0, stmt.start_byte) + 1
    line_end = code.find(b"\n", stmt.end_byte)
    line_end = len(code) if line_end < 0 else line_end
    rest = code[stmt.end_byte : line_end].strip()
    trailing_comment = rest.startswith((b"//", b"#")) or (
        rest.startswith(b"/*") and rest.find(b"*/") == len(rest) - 2  # one block comment up to the line end
    )
    if not code[line_start : stmt.start_byte].strip() and (not rest or trailing_comment):
        return (line_start, line_end + 1) if line_end < len(code) else (max(line_start - 1, 0), line_end)
    if index.spec.line_delete:
        return None
    end = stmt.end_byte
    while end < len(code) and code[end : end + 1] in (b" ", b"\t"):
        end += 1
    return stmt.start_byte, end


def find_delete_statement(index: SyntaxIndex) -> list[Site]:
    """Deletes one simple statement from a function's block of ≥ 2 statements.

    Never a return, a definition, a compound statement (one with a body), a
    declaration (or first assignment) whose name is used later, a docstring, or a
    logging/locking/freeing call; Python and Ruby statements go as whole lines.
    """
    spec, sites = index.spec, []
    for block in index.nodes(*spec.blocks):
        scope = _enclosing(block, spec.functions)
        if scope is None and block.type not in spec.functions:
            continue
        stmts = [c for c in block.named_children if "comment" not in c.type and c.type not in spec.no_delete]
        if len(stmts) < 2:
            continue
        for position, stmt in enumerate(stmts):
            if not _deletable(stmt, position, len(stmts), scope, index):
                continue
            span = _deletion_span(stmt, index)
            if span is not None:
                sites.append(make_site(index, "delete_statement", span[0], span[1], ""))
    sites.sort(key=lambda s: (s.start_byte, s.end_byte))
    return sites


def find_swap_call_arguments(index: SyntaxIndex) -> list[Site]:
    """Swaps two adjacent, textually different positional arguments of one kind (string, regex, other).

    Lambdas are never swapped, nor the arguments of formatters, of commutative
    builtins (`min`, `max`) or of builtins whose arguments differ in kind (Go
    `make`, `append`), nor of logging calls.
    """
    spec, sites = index.spec, []
    for call in index.nodes(*spec.calls):
        args_node = call.child_by_field_name(spec.calls[call.type])
        if args_node is None or args_node.type not in ("argument_list", "arguments"):
            continue
        if is_nonfunctional_call(call) or callee_name(call)[1] in _NO_SWAP_CALLS:
            continue
        args = [c for c in args_node.named_children if "comment" not in c.type]
        for first, second in itertools.pairwise(args):
            if not (_positional(first, index) and _positional(second, index)):
                continue
            if {_inner(first, index).type, _inner(second, index).type} & _LAMBDAS:
                continue
            a, b = node_text(first), node_text(second)
            if a == b or _kind(_inner(first, index), index) != _kind(_inner(second, index), index):
                continue
            between = index.code[first.end_byte : second.start_byte].decode("utf-8", "surrogatepass")
            sites.append(make_site(index, "swap_call_arguments", first.start_byte, second.end_byte, b + between + a))
    return sites


def _positional(arg: Any, index: SyntaxIndex) -> bool:
    spec = index.spec
    if arg.type in spec.non_positional:
        return False
    if spec.arg_wrapper and arg.type == spec.arg_wrapper:
        return arg.child_by_field_name("name") is None and arg.named_child_count == 1
    return True


def _inner(arg: Any, index: SyntaxIndex) -> Any:
    return arg.named_children[0] if index.spec.arg_wrapper and arg.type == index.spec.arg_wrapper else arg


def _kind(arg: Any, index: SyntaxIndex) -> str:
    """Swapped arguments must be of one kind: both strings, both regexes, or neither."""
    if arg.type == "regex":
        return "regex"
    return "string" if is_stringy(arg, index.spec) else "other"
