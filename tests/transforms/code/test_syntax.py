import pytest

from transforms.code.parsing import parse_code
from transforms.code.syntax import (
    EMPTY_CODE,
    OLD_TOO_BROKEN,
    REASONS,
    SYNTAX_ERROR,
    TOO_LARGE_TO_PARSE,
    TOO_SHALLOW,
    SyntaxConfig,
    strip_comments,
    syntax_checked,
    syntax_reject,
)


GOOD = "def f(x):\n    return x + 1\n"
BROKEN = "def f(x:\n    return x +\n"
CFG = SyntaxConfig()


def test_a_clean_pair_is_kept():
    assert syntax_reject(GOOD, "def f(x):\n    return x\n", "Python", CFG) is None


def test_syntax_checked_returns_the_pair_or_its_reject():
    from schemas.records import PairRecord

    good = PairRecord(
        idx="a" * 16,
        input="",
        chosen=GOOD,
        rejected=BROKEN,
        language="Python",
        aspect="Functional Correctness",
        source="commits",
    )
    assert syntax_checked(good, CFG, "syntax_filter") is good
    reject = syntax_checked(good._replace(chosen=BROKEN), CFG, "instructions_syntax")
    assert (reject.stage, reject.reason, reject.record_id) == ("instructions_syntax", SYNTAX_ERROR, "a" * 16)


def test_too_large_either_side():
    cfg = SyntaxConfig(max_bytes=20)
    assert syntax_reject(GOOD, "x = 1\n", "Python", cfg) == (TOO_LARGE_TO_PARSE, "chosen: 27 bytes > 20")
    assert syntax_reject("x = 1\n", GOOD, "Python", cfg)[0] == TOO_LARGE_TO_PARSE
    assert syntax_reject("x = 1\n", "é" * 11, "Python", cfg) == (TOO_LARGE_TO_PARSE, "rejected: 22 bytes > 20")


def test_empty_after_comments_either_side():
    assert syntax_reject("# nothing\n\n", GOOD, "Python", CFG)[0] == EMPTY_CODE
    assert syntax_reject(GOOD, "  \n", "Python", CFG) == (
        EMPTY_CODE,
        "rejected: no code besides comments and whitespace",
    )
    assert syntax_reject(GOOD, "", "Python", CFG)[0] == EMPTY_CODE
    assert syntax_reject("/** doc */\n// x\n", "class A {}", "Java", CFG)[0] == EMPTY_CODE


def test_syntax_errors_in_the_chosen_side_reject_unless_allowed():
    assert syntax_reject(BROKEN, GOOD, "Python", CFG)[0] == SYNTAX_ERROR
    assert syntax_reject(BROKEN, GOOD, "Python", SyntaxConfig(allow_syntax_errors=True)) is None
    assert syntax_reject("int f() { return 1 }", "int f() { return 1; }", "C", CFG) == (
        SYNTAX_ERROR,
        "chosen: 1 error nodes",
    )


def test_too_shallow():
    # module → expression_statement → identifier: depth 3 passes, depth 2 does not
    assert syntax_reject("x\n", GOOD, "Python", CFG) is None
    assert syntax_reject("pass\n", GOOD, "Python", CFG) == (TOO_SHALLOW, "chosen: depth 2 < 3")
    assert syntax_reject(GOOD, GOOD, "Python", SyntaxConfig(min_depth=7)) == (TOO_SHALLOW, "chosen: depth 6 < 7")


def test_the_rejected_side_may_be_broken_within_budget():
    assert syntax_reject(GOOD, BROKEN, "Python", CFG) is None
    very_broken = "x = = 1\n" * 8
    errors = parse_code(very_broken, "Python")[1].error_nodes
    assert errors == 8
    assert syntax_reject(GOOD, very_broken, "Python", CFG) == (OLD_TOO_BROKEN, f"rejected: {errors} error nodes > 5")
    assert syntax_reject(GOOD, very_broken, "Python", SyntaxConfig(max_old_error_nodes=errors)) is None


def test_reasons_come_in_their_documented_order():
    assert REASONS == (TOO_LARGE_TO_PARSE, EMPTY_CODE, SYNTAX_ERROR, TOO_SHALLOW, OLD_TOO_BROKEN)
    very_broken = "x = = 1\n" * 8
    # each row breaks every later rule too; the earliest rule must win
    assert syntax_reject("#" * 30, very_broken, "Python", SyntaxConfig(max_bytes=20))[0] == TOO_LARGE_TO_PARSE
    assert syntax_reject("# c\n", very_broken, "Python", CFG)[0] == EMPTY_CODE
    assert syntax_reject("(\n", very_broken, "Python", CFG)[0] == SYNTAX_ERROR
    assert syntax_reject("pass\n", very_broken, "Python", CFG)[0] == TOO_SHALLOW
    assert syntax_reject(GOOD, very_broken, "Python", CFG)[0] == OLD_TOO_BROKEN
    # allowing errors skips only that rule: the shallow broken chosen side is then too shallow
    assert syntax_reject("(\n", GOOD, "Python", SyntaxConfig(allow_syntax_errors=True, min_depth=5))[0] == TOO_SHALLOW


def test_config_is_validated_and_has_an_id():
    with pytest.raises(ValueError):
        SyntaxConfig(min_depth=0)
    with pytest.raises(ValueError):
        SyntaxConfig(max_old_error_nodes=-1)
    with pytest.raises(ValueError):
        SyntaxConfig(max_bytes=0)
    assert SyntaxConfig().id == SyntaxConfig().id != SyntaxConfig(min_depth=4).id
    assert len(SyntaxConfig().id) == 12


def test_an_unknown_language_raises():
    with pytest.raises(ValueError):
        syntax_reject(GOOD, GOOD, "Kotlin", CFG)
    with pytest.raises(ValueError):
        strip_comments(GOOD, "Kotlin")


@pytest.mark.parametrize(
    ("language", "code", "expected"),
    [
        (
            "Python",
            '# lead\nx = "# not a comment"  # trailing\ndef f():\n    """Doc stays."""\n    return 1\n',
            '\nx = "# not a comment"  \ndef f():\n    """Doc stays."""\n    return 1\n',
        ),
        (
            "C",
            '/* block */\nint x = 1; // line\nchar *s = "/* kept */ // kept";\nint/*glue*/y;\n',
            '\nint x = 1; \nchar *s = "/* kept */ // kept";\nint y;\n',
        ),
        (
            "C++",
            '/// doc\nauto s = R"(// raw)"; /* b */ int z;\n',
            '\nauto s = R"(// raw)";  int z;\n',
        ),
        (
            "C#",
            '/// <summary>doc</summary>\nvar s = "// no"; /* b */ var t = @"/* no */";\n',
            '\nvar s = "// no";  var t = @"/* no */";\n',
        ),
        (
            "Go",
            'package p // line\n/* block */\nvar s = `// raw` + "/* no */"\n',
            'package p \n\nvar s = `// raw` + "/* no */"\n',
        ),
        (
            "Java",
            '/** Javadoc. */\nclass A { String s = "// no"; /* b */ int x; // end\n}\n',
            '\nclass A { String s = "// no";  int x; \n}\n',
        ),
        (
            "JavaScript",
            '/** JSDoc */\nconst s = "// no", r = /\\/\\*x/; // line\nlet t = `/* ${s} */`;\n',
            '\nconst s = "// no", r = /\\/\\*x/; \nlet t = `/* ${s} */`;\n',
        ),
        (
            "Ruby",
            '# line\n=begin\nblock\n=end\ns = "# no"\nt = %q(# no) # yes\n',
            '\n\ns = "# no"\nt = %q(# no) \n',
        ),
    ],
)
def test_strip_comments(language, code, expected):
    assert strip_comments(code, language) == expected
    assert not parse_code(strip_comments(code, language), language)[1].has_error


def test_strip_comments_keeps_unicode_and_code_without_comments_unchanged():
    code = 'def f():\n    return "héllo ✓"  # ünï\n'
    assert strip_comments(code, "Python") == 'def f():\n    return "héllo ✓"  \n'
    assert strip_comments(GOOD, "Python") == GOOD
    assert strip_comments("", "Go") == ""
