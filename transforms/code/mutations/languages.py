"""Per-language tree-sitter node types the mutation operators look for.

One `LangSpec` per target language. Node type names are those of the grammar
wheels pinned in the venv (tree-sitter-c 0.24, c-sharp 0.23, cpp 0.23, go 0.25,
java 0.23, javascript 0.25, python 0.25, ruby 0.23).
"""

__all__ = ["SPECS", "LangSpec", "spec_for"]

import dataclasses


def _t(names: str) -> frozenset[str]:
    """A set of node types from a space-separated string."""
    return frozenset(names.split())


@dataclasses.dataclass(frozen=True)
class LangSpec:
    """Node types of one grammar, grouped by what the operators do with them.

    Attributes:
        binary: nodes whose anonymous child token is a binary operator.
        augmented: augmented assignments (`+=` and friends).
        int_literals: integer literal nodes (decimal ones are mutated).
        bool_literals: nodes whose text is a boolean literal.
        null_literals: nodes that spell the null value.
        null_text: how the language spells null when one is planted.
        opaque: subtrees never mutated: strings, imports, annotations, type
            arguments, array sizes, case labels, preprocessor lines.
        opaque_fields: `(parent type, field)` pairs whose child subtree is opaque.
        conditions: `(node type, field)` of if/while/ternary conditions; field
            `""` means the second named child (Python's `a if c else b`).
        ternaries: the node types in `conditions` that are expressions.
        unwrap: `(node type, field)` wrappers around a condition: parentheses, C++
            `condition_clause`.
        negations: unary nodes that negate with `!` or `not`.
        not_prefix: the negation operator to plant.
        returns: return statements.
        functions: function-like nodes (bodies whose statements may be deleted).
        definitions: named declarations whose sequence must not change.
        blocks: statement lists inside functions.
        declarations: statements that bind a new name.
        assignments: expressions that bind a name on first assignment.
        no_delete: statements never deleted.
        calls: call nodes → the field holding their argument list.
        arg_wrapper: the node wrapping each argument (C#'s `argument`), if any.
        non_positional: argument nodes that are not plain positional arguments.
        subscripts: `(node type, field)` of an index; field `""` means the node's
            named children other than its `object` (C++ `subscript_argument_list`,
            C# `bracketed_argument_list`, Ruby `element_reference`).
        slices: `(node type, field)` of slice bounds; `""` means every named child.
        loop_conditions: `(node type, field)` of counted-loop conditions.
        ranges: Ruby range literals (`..` ↔ `...`).
        range_calls: calls whose stop argument is a loop bound (Python `range`).
        tight: expressions that need no parentheses before a unary operator.
        line_delete: statements are deleted as whole lines (indentation matters).
        last_is_value: the last statement of a body is its value (Ruby).
        negative_index: negative subscripts are meaningful (Python, Ruby).
        dynamic: dynamically typed, so any value-returning function may return null.
        opaque_texts: exact texts of binary expressions never mutated (Python's
            `__name__ == "__main__"` guard).

    Fields with defaults are empty or off unless a language needs them.
    """

    binary: frozenset[str]
    augmented: frozenset[str]
    int_literals: frozenset[str]
    bool_literals: frozenset[str]
    null_literals: frozenset[str]
    null_text: str
    opaque: frozenset[str]
    conditions: tuple[tuple[str, str], ...]
    negations: frozenset[str]
    not_prefix: str
    returns: frozenset[str]
    functions: frozenset[str]
    definitions: frozenset[str]
    blocks: frozenset[str]
    no_delete: frozenset[str]
    calls: dict[str, str]
    subscripts: tuple[tuple[str, str], ...]
    tight: frozenset[str]
    opaque_fields: frozenset[tuple[str, str]] = frozenset()
    opaque_texts: frozenset[bytes] = frozenset()
    ternaries: frozenset[str] = frozenset()
    unwrap: frozenset[tuple[str, str]] = frozenset()
    declarations: frozenset[str] = frozenset()
    assignments: frozenset[str] = frozenset()
    arg_wrapper: str = ""
    non_positional: frozenset[str] = frozenset()
    slices: tuple[tuple[str, str], ...] = ()
    loop_conditions: tuple[tuple[str, str], ...] = ()
    ranges: frozenset[str] = frozenset()
    range_calls: frozenset[str] = frozenset()
    line_delete: bool = False
    last_is_value: bool = False
    negative_index: bool = False
    dynamic: bool = False


_C = LangSpec(
    binary=_t("binary_expression"),
    augmented=_t("assignment_expression"),
    int_literals=_t("number_literal"),
    bool_literals=_t("false true"),
    null_literals=_t("NULL null"),
    null_text="NULL",
    opaque=_t(
        "attribute_specifier bitfield_clause char_literal concatenated_string preproc_call preproc_def "
        "preproc_function_def preproc_include sizeof_expression string_literal system_lib_string "
        "type_descriptor"
    ),
    conditions=(
        ("if_statement", "condition"),
        ("while_statement", "condition"),
        ("do_statement", "condition"),
        ("conditional_expression", "condition"),
    ),
    negations=_t("unary_expression"),
    not_prefix="!",
    returns=_t("return_statement"),
    functions=_t("function_definition"),
    definitions=_t("enum_specifier function_definition struct_specifier union_specifier"),
    blocks=_t("compound_statement"),
    no_delete=_t("case_statement goto_statement labeled_statement type_definition"),
    calls={"call_expression": "arguments"},
    subscripts=(("subscript_expression", "index"),),
    tight=_t(
        "call_expression false field_expression field_identifier identifier number_literal "
        "parenthesized_expression qualified_identifier subscript_expression this true"
    ),
    opaque_fields=frozenset(
        {
            ("array_declarator", "size"),
            ("case_statement", "value"),
            ("preproc_elif", "condition"),
            ("preproc_if", "condition"),
        }
    ),
    ternaries=_t("conditional_expression"),
    unwrap=frozenset({("parenthesized_expression", "")}),
    declarations=_t("declaration"),
    loop_conditions=(("for_statement", "condition"),),
)

_CPP = dataclasses.replace(
    _C,
    null_literals=_C.null_literals | _t("nullptr"),
    null_text="nullptr",
    opaque=_C.opaque
    | _t(
        "alias_declaration attribute_declaration raw_string_literal static_assert_declaration "
        "template_argument_list using_declaration"
    ),
    functions=_C.functions | _t("lambda_expression"),
    definitions=_C.definitions | _t("class_specifier namespace_definition template_declaration"),
    no_delete=_C.no_delete | _t("alias_declaration static_assert_declaration using_declaration"),
    subscripts=(("subscript_expression", "index"), ("subscript_argument_list", "")),
    tight=_C.tight | _t("null template_function"),
    unwrap=frozenset({("condition_clause", "value"), ("parenthesized_expression", "")}),
)

_CSHARP = LangSpec(
    binary=_t("binary_expression"),
    augmented=_t("assignment_expression"),
    int_literals=_t("integer_literal"),
    bool_literals=_t("boolean_literal"),
    null_literals=_t("null_literal"),
    null_text="null",
    opaque=_t(
        "array_rank_specifier attribute_list character_literal constant_pattern "
        "interpolated_string_expression raw_string_literal sizeof_expression string_literal "
        "type_argument_list typeof_expression using_directive verbatim_string_literal"
    ),
    conditions=(
        ("if_statement", "condition"),
        ("while_statement", "condition"),
        ("do_statement", "condition"),
        ("conditional_expression", "condition"),
    ),
    negations=_t("prefix_unary_expression"),
    not_prefix="!",
    returns=_t("return_statement"),
    functions=_t(
        "accessor_declaration anonymous_method_expression constructor_declaration lambda_expression "
        "local_function_statement method_declaration operator_declaration"
    ),
    definitions=_t(
        "class_declaration constructor_declaration enum_declaration interface_declaration "
        "local_function_statement method_declaration namespace_declaration property_declaration "
        "record_declaration struct_declaration"
    ),
    blocks=_t("block"),
    no_delete=_t("empty_statement labeled_statement local_function_statement"),
    calls={"invocation_expression": "arguments", "object_creation_expression": "arguments"},
    subscripts=(("bracketed_argument_list", ""),),
    tight=_t(
        "boolean_literal element_access_expression generic_name identifier integer_literal "
        "invocation_expression member_access_expression parenthesized_expression this_expression"
    ),
    ternaries=_t("conditional_expression"),
    declarations=_t("local_declaration_statement"),
    arg_wrapper="argument",
    loop_conditions=(("for_statement", "condition"),),
)

_GO = LangSpec(
    binary=_t("binary_expression"),
    augmented=_t("assignment_statement"),
    int_literals=_t("int_literal"),
    bool_literals=_t("false true"),
    null_literals=_t("nil"),
    null_text="nil",
    opaque=_t(
        "array_type field_declaration_list import_declaration interpreted_string_literal raw_string_literal "
        "rune_literal type_arguments"
    ),
    conditions=(("if_statement", "condition"),),
    negations=_t("unary_expression"),
    not_prefix="!",
    returns=_t("return_statement"),
    functions=_t("func_literal function_declaration method_declaration"),
    definitions=_t("function_declaration method_declaration type_declaration"),
    blocks=_t("statement_list"),
    no_delete=_t("defer_statement empty_statement labeled_statement type_declaration"),
    calls={"call_expression": "arguments"},
    subscripts=(("index_expression", "index"),),
    tight=_t(
        "call_expression false field_identifier identifier index_expression int_literal "
        "parenthesized_expression selector_expression true"
    ),
    opaque_fields=frozenset({("expression_case", "value")}),
    declarations=_t("const_declaration short_var_declaration var_declaration"),
    non_positional=_t("variadic_argument"),
    slices=(("slice_expression", "start"), ("slice_expression", "end")),
    loop_conditions=(("for_clause", "condition"),),
)

_JAVA = LangSpec(
    binary=_t("binary_expression"),
    augmented=_t("assignment_expression"),
    int_literals=_t("decimal_integer_literal"),
    bool_literals=_t("false true"),
    null_literals=_t("null_literal"),
    null_text="null",
    opaque=_t(
        "annotation character_literal dimensions_expr import_declaration marker_annotation "
        "package_declaration string_literal switch_label text_block type_arguments"
    ),
    conditions=(
        ("if_statement", "condition"),
        ("while_statement", "condition"),
        ("do_statement", "condition"),
        ("ternary_expression", "condition"),
    ),
    negations=_t("unary_expression"),
    not_prefix="!",
    returns=_t("return_statement"),
    functions=_t("compact_constructor_declaration constructor_declaration lambda_expression method_declaration"),
    definitions=_t(
        "annotation_type_declaration class_declaration compact_constructor_declaration "
        "constructor_declaration enum_declaration interface_declaration method_declaration record_declaration"
    ),
    blocks=_t("block constructor_body"),
    no_delete=_t("assert_statement class_declaration explicit_constructor_invocation labeled_statement"),
    calls={"method_invocation": "arguments", "object_creation_expression": "arguments"},
    subscripts=(("array_access", "index"),),
    tight=_t(
        "array_access decimal_integer_literal false field_access identifier method_invocation "
        "parenthesized_expression this true"
    ),
    ternaries=_t("ternary_expression"),
    unwrap=frozenset({("parenthesized_expression", "")}),
    declarations=_t("local_variable_declaration"),
    loop_conditions=(("for_statement", "condition"),),
)

_JAVASCRIPT = LangSpec(
    binary=_t("binary_expression"),
    augmented=_t("augmented_assignment_expression"),
    int_literals=_t("number"),
    bool_literals=_t("false true"),
    null_literals=_t("null"),
    null_text="null",
    opaque=_t("decorator export_clause import_statement jsx_text regex string template_string"),
    conditions=(
        ("if_statement", "condition"),
        ("while_statement", "condition"),
        ("do_statement", "condition"),
        ("ternary_expression", "condition"),
    ),
    negations=_t("unary_expression"),
    not_prefix="!",
    returns=_t("return_statement"),
    functions=_t(
        "arrow_function function_declaration function_expression generator_function "
        "generator_function_declaration method_definition"
    ),
    definitions=_t("class_declaration function_declaration generator_function_declaration method_definition"),
    blocks=_t("statement_block"),
    no_delete=_t("debugger_statement empty_statement export_statement import_statement labeled_statement"),
    calls={"call_expression": "arguments", "new_expression": "arguments"},
    subscripts=(("subscript_expression", "index"),),
    tight=_t(
        "call_expression false identifier member_expression number parenthesized_expression "
        "subscript_expression this true"
    ),
    opaque_fields=frozenset({("switch_case", "value")}),
    ternaries=_t("ternary_expression"),
    unwrap=frozenset({("parenthesized_expression", "")}),
    declarations=_t("lexical_declaration variable_declaration"),
    assignments=_t("assignment_expression"),
    non_positional=_t("spread_element"),
    loop_conditions=(("for_statement", "condition"),),
    dynamic=True,
)

_PYTHON = LangSpec(
    binary=_t("binary_operator boolean_operator comparison_operator"),
    augmented=_t("augmented_assignment"),
    int_literals=_t("integer"),
    bool_literals=_t("false true"),
    null_literals=_t("none"),
    null_text="None",
    opaque=_t(
        "case_pattern concatenated_string decorator future_import_statement import_from_statement "
        "import_statement string type"
    ),
    conditions=(
        ("if_statement", "condition"),
        ("elif_clause", "condition"),
        ("while_statement", "condition"),
        ("conditional_expression", ""),
    ),
    negations=_t("not_operator"),
    not_prefix="not ",
    returns=_t("return_statement"),
    functions=_t("function_definition"),
    definitions=_t("class_definition function_definition"),
    blocks=_t("block"),
    no_delete=_t(
        "assert_statement decorated_definition future_import_statement global_statement import_from_statement "
        "import_statement nonlocal_statement pass_statement"
    ),
    calls={"call": "arguments"},
    subscripts=(("subscript", "subscript"),),
    tight=_t("attribute call false identifier integer none parenthesized_expression subscript true"),
    opaque_texts=frozenset({b'__name__ == "__main__"', b"__name__ == '__main__'"}),
    ternaries=_t("conditional_expression"),
    assignments=_t("assignment"),
    non_positional=_t("dictionary_splat keyword_argument list_splat parenthesized_list_splat"),
    slices=(("slice", ""),),
    range_calls=_t("range"),
    line_delete=True,
    negative_index=True,
    dynamic=True,
)

_RUBY = LangSpec(
    binary=_t("binary"),
    augmented=_t("operator_assignment"),
    int_literals=_t("integer"),
    bool_literals=_t("false true"),
    null_literals=_t("nil"),
    null_text="nil",
    opaque=_t(
        "character delimited_symbol heredoc_body pattern regex simple_symbol string string_array subshell symbol_array"
    ),
    conditions=(
        ("if", "condition"),
        ("elsif", "condition"),
        ("unless", "condition"),
        ("while", "condition"),
        ("until", "condition"),
        ("if_modifier", "condition"),
        ("unless_modifier", "condition"),
        ("while_modifier", "condition"),
        ("until_modifier", "condition"),
        ("conditional", "condition"),
    ),
    negations=_t("unary"),
    not_prefix="!",
    returns=_t("return"),
    functions=_t("block do_block lambda method singleton_method"),
    definitions=_t("class method module singleton_class singleton_method"),
    blocks=_t("block_body body_statement do else then"),
    no_delete=_t("alias begin_block else end_block ensure rescue undef"),
    calls={"call": "arguments"},
    subscripts=(("element_reference", ""),),
    tight=_t(
        "call constant element_reference false identifier instance_variable integer parenthesized_statements self true"
    ),
    ternaries=_t("conditional"),
    assignments=_t("assignment"),
    non_positional=_t("block_argument forward_argument hash_splat_argument pair splat_argument"),
    ranges=_t("range"),
    line_delete=True,
    last_is_value=True,
    negative_index=True,
    dynamic=True,
)

SPECS: dict[str, LangSpec] = {
    "C": _C,
    "C#": _CSHARP,
    "C++": _CPP,
    "Go": _GO,
    "Java": _JAVA,
    "JavaScript": _JAVASCRIPT,
    "Python": _PYTHON,
    "Ruby": _RUBY,
}
"""Target language → its node-type tables."""


def spec_for(language: str) -> LangSpec:
    """Returns the `LangSpec` of a target language.

    Raises:
        ValueError: not one of the 8 target languages.
    """
    try:
        return SPECS[language]
    except KeyError:
        raise ValueError(f"no mutation spec for {language!r}; known: {', '.join(SPECS)}") from None
