"""Functions and methods of a source file, which of them a commit changed, and focused snippets.

Input is source text (`str`) in one of the 8 target languages; outputs are
internal records:

- `extract_functions(code, language) -> list[FunctionSpan]`: every function with
  a body, in source order, nested ones included;
- `changed_functions(old, new, language) -> list[FunctionChange]`: the functions
  of both versions whose code differs beyond whitespace and comments;
- `focused_snippet(span, language) -> str`: one function inside its enclosing
  class/namespace/module headers, closed so the snippet parses;
- `function_pairs(pair) -> list[PairRecord]`: one focused pair per changed
  function of a whole-file pair, and `focused_pairs(pair, stage)`, the same or
  the pair's `no_function_changed` reject: the function that the Beam stage
  `transforms.code.stages.FocusChangedFunctions` runs in its child process.

What counts as a function (tree-sitter node types):

    Python      function_definition (nested ones and methods; `decorated_definition`
                is part of the span); lambdas are not functions.
    JavaScript  function_declaration, generator_function_declaration, method_definition
                (classes and object literals); function_expression, generator_function
                and arrow_function only when bound to a name: variable_declarator,
                assignment (`Foo.prototype.bar = function`), object `pair`, class
                `field_definition`. Callbacks are part of the enclosing function.
    Java        method_declaration, constructor_declaration, compact_constructor_declaration
                (also inside anonymous classes); lambdas are not functions.
    C#          method_declaration, constructor_declaration, destructor_declaration,
                operator_declaration, conversion_operator_declaration,
                local_function_statement; lambdas and property accessors are not.
    Go          function_declaration, method_declaration; func literals are not.
    C, C++      function_definition (C++: in class bodies, out-of-line `A::f`, friend
                definitions; a `template_declaration` around one is part of its span);
                lambdas are not.
    Ruby        method, singleton_method; blocks, procs and lambdas are not.

Declarations without a body (abstract, interface, prototypes, `= default`) are
not functions.

Qualified names join the enclosing scopes' names: Python, JavaScript, Java and
C# use `.` (`Outer.Inner.method`, `outer.inner`, `Ns.Class.Method`, `api.get`,
`Foo.prototype.bar`; methods of an object literal that is not bound to a name
take only the enclosing prefix); C++ uses `::` (`net::Conn::send`; an out-of-line
`Conn<T>::send` drops template arguments, so it names the same as one defined
in the class); Go writes the receiver (`(*Server).Start`, `Server.Stop`); Ruby
writes `Module::Class#method` for instance methods and `Module::Class.method`
for `def self.x` and `class << self`. A function nested in a function is
`outer.inner` in every language. A name that repeats in a file (overloads, Go's
`init`, getter/setter pairs) gets `#2`, `#3`, ... in source order, and its
nested functions hang under the suffixed name.

Kinds: "constructor" (`__init__`, `initialize`, JS `constructor`, Java/C#
constructors, C++ `A::A`), "method" (defined in a class, struct, interface,
module, object literal or anonymous class, a Go method, a C++ out-of-line `A::f`
unless `A` is a namespace of the same file), otherwise "function" (top level,
nested in a function, a C# local function, a C++ friend).

Parsing is the per-process cached parser of `transforms.code.parsing`; the
tree walk is a tree-sitter query plus a loop, so deep trees cannot overflow the
Python stack. The functions are pure: no I/O, no Beam (house-style rules 2, 19).
"""

__all__ = [
    "NO_FUNCTION_CHANGED",
    "FunctionChange",
    "FunctionSpan",
    "changed_functions",
    "extract_functions",
    "focused_pairs",
    "focused_snippet",
    "function_pairs",
]

import bisect
import collections
import dataclasses
import functools
import json
import re
from typing import Any, NamedTuple

from schemas.records import PairRecord, RejectRecord
from transforms.code.parsing import GRAMMARS, get_language, get_parser
from transforms.code.syntax import COMMENT_TYPES, comment_ranges, remove_ranges
from transforms.commit_filters import record_id


NO_FUNCTION_CHANGED = "no_function_changed"
"""The reject reason of a pair whose change is outside any function, or only adds/removes functions."""


class FunctionSpan(NamedTuple):
    """One function of a file.

    Attributes:
        name: the bare name (`get`, `operator==`, `~Conn`, `Start`).
        qualified_name: unique within the file; see the module docstring.
        kind: "function", "method" or "constructor".
        start_byte: where the span starts in the UTF-8 source (decorators and
            C++ template headers included).
        end_byte: where it ends (exclusive).
        start_line: first line, 1-based.
        end_line: last line, 1-based, inclusive.
        text: the span's source.
        context: the enclosing class/namespace/module/function headers,
            outermost first, one line each with its source indentation
            (comments removed, whitespace runs collapsed); "" at top level.
        indent: the leading whitespace of the span's first line, so
            `focused_snippet` can keep the source indentation.
    """

    name: str
    qualified_name: str
    kind: str
    start_byte: int
    end_byte: int
    start_line: int
    end_line: int
    text: str
    context: str
    indent: str = ""


class FunctionChange(NamedTuple):
    """A function present in both versions of a file whose code differs."""

    qualified_name: str
    old: FunctionSpan
    new: FunctionSpan


_FUNCTIONS: dict[str, frozenset[str]] = {
    language: frozenset(types.split())
    for language, types in {
        "C": "function_definition",
        "C#": "method_declaration constructor_declaration destructor_declaration operator_declaration"
        " conversion_operator_declaration local_function_statement",
        "C++": "function_definition",
        "Go": "function_declaration method_declaration",
        "Java": "method_declaration constructor_declaration compact_constructor_declaration",
        "JavaScript": "function_declaration generator_function_declaration function_expression generator_function"
        " arrow_function method_definition",
        "Python": "function_definition",
        "Ruby": "method singleton_method",
    }.items()
}
_CONTAINERS: dict[str, frozenset[str]] = {
    language: frozenset(types.split())
    for language, types in {
        "C": "",
        "C#": "namespace_declaration file_scoped_namespace_declaration class_declaration struct_declaration"
        " interface_declaration record_declaration",
        "C++": "namespace_definition class_specifier struct_specifier union_specifier linkage_specification",
        "Go": "",
        "Java": "class_declaration interface_declaration enum_declaration record_declaration"
        " annotation_type_declaration",
        "JavaScript": "class_declaration class object",
        "Python": "class_definition",
        "Ruby": "class module singleton_class",
    }.items()
}
_SEP = {"C++": "::", "Ruby": "::"}
_BRACES = frozenset({"C", "C#", "C++", "Go", "Java", "JavaScript"})
_CPP_NAMES = frozenset({"identifier", "field_identifier", "qualified_identifier", "destructor_name", "operator_name"})
_CPP_NAMES |= {"template_function", "operator_cast"}
_CPP_TYPE_HEAD = re.compile(r"(?:(?:typedef|const|volatile|alignas\(.*?\))\s+)*(?:class|struct|union)\b")
_JAVA_ENUM = re.compile(r"(?:(?:@\S+|public|protected|private|static|final|strictfp|abstract)\s+)*enum\b")


class _Info(NamedTuple):
    """What the per-language rules say about a captured node."""

    name: str | None  # the bare name (None: an anonymous container)
    qual: str  # the qualified name (functions) or the container's own qualified prefix
    kind: str  # functions: function/method/constructor; containers: class/namespace/object/singleton
    span: Any  # the node whose bytes are the span (functions) or where the header starts
    body: Any  # the body node; None when there is none
    fixed: str | None = None  # a header that is not source text (JavaScript "({")
    scope: str | None = None  # C++: the `A` of an out-of-line `A::f`


@dataclasses.dataclass(slots=True)
class _Scope:
    end: int
    qual: str
    kind: str
    name: str | None
    head_start: int
    body_start: int
    parent: "_Scope | None"
    fn_index: int | None
    fixed: str | None = None
    header: str | None = None


class _Found(NamedTuple):
    span: FunctionSpan
    node: Any  # the span's node
    parent: int | None  # index of the innermost enclosing function


def _text(node: Any) -> str:
    """A node's source; "" for a child that error recovery left out."""
    return node.text.decode("utf-8", "surrogatepass") if node is not None else ""


def _join(prefix: str, name: str, sep: str = ".") -> str:
    return f"{prefix}{sep}{name}" if prefix else name


def _strip_targs(text: str) -> str:
    while True:
        out = re.sub(r"<[^<>]*>", "", text)
        if out == text:
            return "".join(out.split())
        text = out


def _js_binding(node: Any) -> tuple[str, str, Any, bool] | None:
    """Name, qualified name, span node and is-member of a bound JavaScript value."""
    p = node.parent
    if p is None:
        return None
    if p.type == "variable_declarator" and p.child_by_field_name("value") == node:
        name = p.child_by_field_name("name")
        if name is None or name.type != "identifier":
            return None
        decl = p.parent
        alone = decl is not None and sum(c.type == "variable_declarator" for c in decl.named_children) == 1
        return _text(name), _text(name), decl if alone else p, False
    if p.type == "assignment_expression" and p.child_by_field_name("right") == node:
        left = p.child_by_field_name("left")
        if left is None or left.type not in ("identifier", "member_expression"):
            return None
        member = left.type == "member_expression"
        name = _text(left.child_by_field_name("property")) if member else _text(left)
        span = p.parent if p.parent is not None and p.parent.type == "expression_statement" else p
        return name, "".join(_text(left).split()), span, member
    for wrapper, key in (("pair", "key"), ("field_definition", "property")):
        if p.type == wrapper and p.child_by_field_name("value") == node:
            name = _text(p.child_by_field_name(key)).strip("'\"`")
            return name, name, p, True
    return None


def _cpp_name(node: Any) -> tuple[list[str], str] | None:
    """Scopes and bare name of a C/C++ function_definition's declarator."""
    d = node.child_by_field_name("declarator")
    while d is not None and d.type not in _CPP_NAMES:
        d = d.child_by_field_name("declarator") or next(iter(d.named_children), None)
    if d is None:
        return None
    scopes = []
    while d.type == "qualified_identifier" and d.child_by_field_name("name") is not None:
        if d.child_by_field_name("scope") is not None:
            scopes.append(_strip_targs(_text(d.child_by_field_name("scope"))))
        d = d.child_by_field_name("name")
    if d.type == "operator_cast":
        return scopes, "operator " + " ".join(_text(d.child_by_field_name("type")).split())
    if d.type == "template_function":
        return scopes, _text(d.child_by_field_name("name"))
    return scopes, " ".join(_text(d).split())


def _function_info(node: Any, parent: _Scope | None, language: str) -> _Info | None:
    """Per-language naming of a function node; None when it is not a function."""
    pq = parent.qual if parent else ""
    pkind = parent.kind if parent else None
    t, body = node.type, node.child_by_field_name("body")
    name_node = node.child_by_field_name("name")
    name = _text(name_node) if name_node is not None else None
    if language == "Python":
        span = node.parent if node.parent.type == "decorated_definition" else node
        kind = ("constructor" if name == "__init__" else "method") if pkind == "class" else "function"
        return _Info(name, _join(pq, name), kind, span, body)
    if language == "JavaScript":
        if t in ("function_declaration", "generator_function_declaration"):
            return _Info(name, _join(pq, name), "function", node, body)
        if t == "method_definition":
            kind = "constructor" if name == "constructor" and pkind == "class" else "method"
            return _Info(name, _join(pq, name), kind, node, body)
        bound = _js_binding(node)
        if bound is None:
            return None
        return _Info(bound[0], _join(pq, bound[1]), "method" if bound[3] else "function", bound[2], body)
    if body is None and language != "Ruby":  # Ruby: `def x; end` has no body node
        return None
    if language == "Java":
        kind = "method" if t == "method_declaration" else "constructor"
        return _Info(name, _join(pq, name), kind, node, body)
    if language == "C#":
        if t == "destructor_declaration":
            name = "~" + name if name else None
        elif t == "operator_declaration":
            name = "operator" + _text(node.child_by_field_name("operator"))
        elif t == "conversion_operator_declaration":
            name = "operator " + _text(node.child_by_field_name("type"))
        kinds = {"local_function_statement": "function", "constructor_declaration": "constructor"}
        return _Info(name, _join(pq, name), kinds.get(t, "method"), node, body)
    if language == "Go":
        if t == "function_declaration":
            return _Info(name, name, "function", node, body)
        receivers = node.child_by_field_name("receiver")
        params = receivers.named_children if receivers is not None else []
        param = next((c for c in params if c.type.endswith("declaration")), None)
        rtype = param.child_by_field_name("type") if param is not None else None
        pointer = rtype is not None and rtype.type == "pointer_type"
        rtype = next(iter(rtype.named_children), None) if pointer else rtype
        rtype = rtype.child_by_field_name("type") if rtype is not None and rtype.type == "generic_type" else rtype
        if rtype is None:
            return None
        receiver = f"(*{_text(rtype)})" if pointer else _text(rtype)
        return _Info(name, f"{receiver}.{name}", "method", node, body)
    if language in ("C", "C++"):
        named = _cpp_name(node)
        if named is None:
            return None
        scopes, name = named
        span = node.parent if node.parent.type == "template_declaration" else node
        if scopes:
            kind = "constructor" if name == scopes[-1] else "method"
        elif pkind == "class" and node.parent.type != "friend_declaration":
            kind = "constructor" if name == parent.name else "method"
        else:
            kind = "function"
        qual = _join(pq, "::".join([*scopes, name]), "::")
        return _Info(name, qual, kind, span, body, scope=scopes[-1] if scopes else None)
    # Ruby
    if t == "singleton_method":
        obj = _text(node.child_by_field_name("object"))
        return _Info(name, _join(pq if obj == "self" else obj, name), "method", node, body)
    if pkind == "singleton":
        return _Info(name, _join(pq, name), "method", node, body)
    if pkind in ("class", "namespace"):
        kind = "constructor" if name == "initialize" and pkind == "class" else "method"
        return _Info(name, f"{pq}#{name}", kind, node, body)
    return _Info(name, _join(pq, name), "function", node, body)


def _container_info(node: Any, parent: _Scope | None, language: str) -> _Info | None:
    """Per-language naming of a class/namespace/module node; None when it holds no code."""
    pq = parent.qual if parent else ""
    t, body = node.type, node.child_by_field_name("body")
    name_node = node.child_by_field_name("name")
    name = _text(name_node) if name_node is not None else None
    kind = "namespace" if t in ("namespace_declaration", "namespace_definition", "module") else "class"
    span = node
    if language == "JavaScript" and name is None:
        bound = _js_binding(node)
        if t == "object" and bound is None:
            return _Info(None, pq, "object", node, node, fixed="({")
        if bound is not None:
            name, span = bound[1], bound[2]
        if t == "object":
            kind, body = "object", node
    elif t == "class_body":  # a Java anonymous class: its header starts with the enclosing statement
        kind, span, body = "object", node.parent, node
        while span.parent is not None and not span.type.endswith(("_statement", "_declaration")):
            span = span.parent
    elif t == "file_scoped_namespace_declaration":
        kind, body = "namespace", None
    elif t == "singleton_class":
        kind = "singleton"
    elif t == "linkage_specification":
        if body is None or body.type != "declaration_list":
            return None
        kind = "namespace"
    elif language == "C++":
        if body is None:
            return None
        if t != "namespace_definition":
            name = _strip_targs(name) if name else None
            span = node.parent if node.parent.type == "template_declaration" else node
    qual = _join(pq, name, _SEP.get(language, ".")) if name else pq
    return _Info(name, qual, kind, span, body)


@functools.cache
def _query(language: str) -> Any:
    import tree_sitter

    types = " ".join(f"({t})" for t in sorted(_FUNCTIONS[language] | _CONTAINERS[language]))
    extra = " (object_creation_expression (class_body) @node)" if language == "Java" else ""
    return tree_sitter.Query(get_language(language), f"[{types}] @node{extra}")


def _indent(data: bytes, pos: int) -> str:
    """The leading whitespace of the line that holds `pos`."""
    line = data[data.rfind(b"\n", 0, pos) + 1 : pos]
    return line[: len(line) - len(line.lstrip())].decode("utf-8", "surrogatepass")


class _File:
    """One parsed file: its tree, bytes, functions and (lazily) comment ranges."""

    def __init__(self, code: str, language: str) -> None:
        import tree_sitter

        self.language = language
        self.data = code.encode("utf-8", "surrogatepass")
        self.tree = get_parser(language).parse(self.data)
        self._comments: list[tuple[int, int]] | None = None
        captured = tree_sitter.QueryCursor(_query(language)).captures(self.tree.root_node).get("node", [])
        self.found: list[_Found] = []
        self._walk(sorted(captured, key=lambda n: (n.start_byte, -n.end_byte)))

    def _walk(self, nodes: list[Any]) -> None:
        stack: list[_Scope] = []
        seen: collections.Counter[str] = collections.Counter()
        namespaces: set[str] = set()
        out_of_line: list[tuple[int, str]] = []
        functions = _FUNCTIONS[self.language]
        for node in nodes:
            while stack and stack[-1].end <= node.start_byte:
                stack.pop()
            parent = stack[-1] if stack else None
            parent_fn = parent.fn_index if parent else None
            if node.type in functions:
                info = _function_info(node, parent, self.language)
                if info is None or not info.name:  # not bound to a name, or a name lost to error recovery
                    continue
                seen[info.qual] += 1
                qual = info.qual if seen[info.qual] == 1 else f"{info.qual}#{seen[info.qual]}"
                start, end = info.span.start_byte, info.span.end_byte
                lines = (info.span.start_point.row + 1, info.span.end_point.row + 1)
                text, context = self.data[start:end].decode("utf-8", "surrogatepass"), self._context(parent)
                span = FunctionSpan(
                    info.name, qual, info.kind, start, end, *lines, text, context, _indent(self.data, start)
                )
                if info.scope is not None:
                    out_of_line.append((len(self.found), info.scope))
                self.found.append(_Found(span, info.span, parent_fn))
                head = node.start_byte if self.language == "Python" else start
                body = info.body.start_byte if info.body is not None else node.end_byte
                index = len(self.found) - 1
                stack.append(_Scope(node.end_byte, qual, "function", info.name, head, body, parent, index))
                continue
            info = _container_info(node, parent, self.language)
            if info is None:
                continue
            if info.kind == "namespace" and info.name:
                namespaces.update(info.name.replace(".", "::").split("::"))
            end = node.parent.end_byte if node.type == "file_scoped_namespace_declaration" else node.end_byte
            body = info.body.start_byte if info.body is not None else node.end_byte
            head = info.span.start_byte
            stack.append(_Scope(end, info.qual, info.kind, info.name, head, body, parent, parent_fn, info.fixed))
        for index, scope in out_of_line:
            if scope in namespaces:
                self.found[index] = self.found[index]._replace(span=self.found[index].span._replace(kind="function"))

    def _context(self, scope: _Scope | None) -> str:
        chain = []
        while scope is not None:
            chain.append(scope)
            scope = scope.parent
        return "\n".join(self._header(s) for s in reversed(chain))

    def _header(self, scope: _Scope) -> str:
        if scope.header is None:
            if scope.fixed is not None:
                text = scope.fixed
            else:
                if self._comments is None:
                    self._comments = comment_ranges(self.tree.root_node, self.language)
                lo = bisect.bisect_left(self._comments, (scope.head_start, -1))
                hi = bisect.bisect_left(self._comments, (scope.body_start, -1))
                cut = [(s - scope.head_start, e - scope.head_start) for s, e in self._comments[lo:hi]]
                raw = remove_ranges(self.data[scope.head_start : scope.body_start], cut)
                text = " ".join(raw.decode("utf-8", "surrogatepass").split())
                if self.language in _BRACES and not text.endswith((";", "{")):
                    text += " {"
            scope.header = _indent(self.data, scope.head_start) + text
        return scope.header

    def signature(self, index: int, masked: dict[tuple[int, int, str], str]) -> tuple:
        """The function's tokens and tree shape without comments; `masked` spans become one token each."""
        comments = COMMENT_TYPES[self.language]
        cursor = self.found[index].node.walk()
        out: list[tuple] = []
        depth = 0
        while True:
            node = cursor.node
            key = (node.start_byte, node.end_byte, node.type)
            descend = False
            if node.type in comments:
                pass
            elif depth and key in masked:
                out.append((depth, "<function>", masked[key]))
            elif node.child_count == 0:
                out.append((depth, node.type, node.text))
            else:
                out.append((depth, node.type))
                descend = True
            if descend and cursor.goto_first_child():
                depth += 1
                continue
            while depth and not cursor.goto_next_sibling():
                cursor.goto_parent()
                depth -= 1
            if not depth:
                return tuple(out)


def extract_functions(code: str, language: str) -> list[FunctionSpan]:
    """Finds the functions and methods of a file.

    Args:
        code: source text; broken code is parsed with tree-sitter's error recovery.
        language: one of the 8 target languages.

    Returns:
        Every function with a body, in source order (an enclosing function before
        the ones nested in it). See the module docstring for names and kinds.

    Raises:
        ValueError: the language is not one of the 8 targets.
    """
    return [f.span for f in _File(code, language).found]


def changed_functions(old_code: str, new_code: str, language: str) -> list[FunctionChange]:
    """Pairs the functions of two versions of a file and keeps those that changed.

    Functions pair by qualified name. Code "differs" when the tree-sitter tokens
    or tree shape differ once comments are dropped, so whitespace (outside
    strings, and outside Python indentation that changes the nesting) and
    comments do not count. Added and removed functions are not paired.

    Nested functions follow one rule, applied from the outermost down: a changed
    function is reported when its own code changed, that is its code with each
    nested function cut out and replaced by that function's qualified name;
    then nothing nested in it is reported. When it changed only inside nested
    functions, it is not reported and the rule goes on with those nested
    functions. A function and one nested in it are never both reported. Each
    function's own code is compared once, so the cost stays linear in the file
    size however deep the nesting.

    Args:
        old_code: the old (rejected) version.
        new_code: the new (chosen) version.
        language: one of the 8 target languages.

    Returns:
        The changes, in the new file's source order.

    Raises:
        ValueError: the language is not one of the 8 targets.
    """
    old, new = _File(old_code, language), _File(new_code, language)
    old_index = {f.span.qualified_name: i for i, f in enumerate(old.found)}
    children: dict[tuple[int, int | None], list[int]] = collections.defaultdict(list)
    for side, file in ((0, old), (1, new)):
        for i, f in enumerate(file.found):
            children[side, f.parent].append(i)

    def mask(side: int, file: _File, index: int) -> dict[tuple[int, int, str], str]:
        kids = (file.found[k] for k in children[side, index])
        return {(k.node.start_byte, k.node.end_byte, k.node.type): k.span.qualified_name for k in kids}

    changes = []
    todo = list(reversed(children[1, None]))
    while todo:
        i = todo.pop()
        j = old_index.get(new.found[i].span.qualified_name)
        if j is None or new.found[i].span.text == old.found[j].span.text:
            continue
        if new.signature(i, mask(1, new, i)) != old.signature(j, mask(0, old, j)):
            changes.append(FunctionChange(new.found[i].span.qualified_name, old.found[j].span, new.found[i].span))
        else:
            todo.extend(reversed(children[1, i]))
    return changes


def _closer(header: str, language: str) -> str | None:
    h = header.strip()
    if language == "Ruby":
        return "end"
    if language == "Python" or not h.endswith("{"):
        return None
    if language == "JavaScript" and h.endswith("({"):
        return "})"
    if language == "Java" and re.search(r"\bnew\b", h):  # an anonymous class: close its statement too
        return "}" + ")" * (h.count("(") - h.count(")")) + ";"
    if language == "C++":
        if h.startswith("template"):
            depth = 0
            for i, ch in enumerate(h):
                depth += {"<": 1, ">": -1}.get(ch, 0)
                if ch == ">" and depth == 0:
                    h = h[i + 1 :].lstrip()
                    break
        if _CPP_TYPE_HEAD.match(h):
            return "};"
    return "}"


def focused_snippet(span: FunctionSpan, language: str) -> str:
    """Renders one function inside its enclosing headers so that it parses alone.

    The context lines keep their source indentation and the function keeps its
    own, so Python stays valid (`class Cache:` then `    def get(self):`);
    brace languages get their closing `}` (`};` after a C++ class, `})`
    after a JavaScript `({`), Ruby gets `end`s, a Java enum gets the `;` that
    must precede its methods, and Python code that starts indented (a function
    under a module-level `if`) is put under `if True:`.

    Args:
        span: a function from `extract_functions`.
        language: the language it was extracted from.

    Returns:
        The snippet, ending with a newline.

    Raises:
        ValueError: the language is not one of the 8 targets.
    """
    if language not in GRAMMARS:
        raise ValueError(f"no grammar for {language!r}; known: {', '.join(GRAMMARS)}")
    lines: list[str] = []
    closers: list[str] = []
    for line in span.context.split("\n") if span.context else []:
        indent = line[: len(line) - len(line.lstrip())]
        lines.append(line)
        if language == "Java" and _JAVA_ENUM.match(line.strip()):
            lines.append(indent + "  ;")
        closer = _closer(line, language)
        if closer:
            closers.append(indent + closer)
    lines.append(span.indent + span.text)
    if language == "Python" and lines[0][:1].isspace():
        lines.insert(0, "if True:")
    return "\n".join(lines + closers[::-1]) + "\n"


def function_pairs(pair: PairRecord) -> list[PairRecord]:
    """Returns one focused pair per changed function of a whole-file pair.

    Each pair's sides are `focused_snippet`s of the function's old (rejected)
    and new (chosen) version, its id hashes the pair's id with the function's
    qualified name, and `label_details.function` holds its name, kind and lines.
    """
    pairs = []
    for change in changed_functions(pair.rejected, pair.chosen, pair.language):
        details = json.loads(pair.label_details) if pair.label_details else {}
        details["function"] = {
            "name": change.qualified_name,
            "kind": change.new.kind,
            "lines": [change.new.start_line, change.new.end_line],
        }
        pairs.append(
            pair._replace(
                idx=record_id(pair.idx, change.qualified_name),
                chosen=focused_snippet(change.new, pair.language),
                rejected=focused_snippet(change.old, pair.language),
                label_details=json.dumps(details, ensure_ascii=False, sort_keys=True),
            )
        )
    return pairs


def focused_pairs(pair: PairRecord, stage: str) -> list[PairRecord] | RejectRecord:
    """Returns `function_pairs(pair)`, one or more, or the pair's `no_function_changed` reject in `stage`."""
    return function_pairs(pair) or RejectRecord.make(stage, NO_FUNCTION_CHANGED, pair.idx)
