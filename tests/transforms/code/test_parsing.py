import pytest

from pipelines.demo import load_samples
from schemas.labels import TARGET_LANGUAGES, language_for_path
from transforms.code.parsing import GRAMMARS, get_parser, parse_code, tree_stats


PROGRAMS = {
    "C": '#include <stdio.h>\nint add(int a, int b) { return a + b; }\nint main(void) { printf("%d", add(1, 2)); }\n',
    "C#": "using System;\nnamespace Demo {\n  class P {\n    static int Add(int a, int b) => a + b;\n"
    "    static void Main() { Console.WriteLine(Add(1, 2)); }\n  }\n}\n",
    "C++": "#include <vector>\nnamespace d {\ntemplate <typename T> T add(T a, T b) { return a + b; }\n}\n"
    "int main() { std::vector<int> v{1, 2}; return d::add(v[0], v[1]); }\n",
    "Go": 'package main\n\nimport "fmt"\n\nfunc add(a, b int) int { return a + b }\n\n'
    "func main() { fmt.Println(add(1, 2)) }\n",
    "Java": "import java.util.List;\npublic class Main {\n  static int add(int a, int b) { return a + b; }\n"
    "  public static void main(String[] args) { System.out.println(add(1, 2)); }\n}\n",
    "JavaScript": "const add = (a, b) => a + b;\nclass Calc { sum(xs) { return xs.reduce(add, 0); } }\n"
    "console.log(new Calc().sum([1, 2]));\n",
    "Python": "import sys\n\n\ndef add(a, b):\n    return a + b\n\n\nif __name__ == '__main__':\n"
    "    print(add(1, 2), file=sys.stderr)\n",
    "Ruby": "module Calc\n  def self.add(a, b)\n    a + b\n  end\nend\nputs Calc.add(1, 2)\n",
}
COMMENTS = {
    "C": "// only\n/* a comment */\n",
    "C#": "// only\n/// <summary>doc</summary>\n",
    "C++": "// only\n/* a comment */\n",
    "Go": "// only\n/* a comment */\n",
    "Java": "// only\n/** doc */\n",
    "JavaScript": "// only\n/* a comment */\n",
    "Python": "# only\n# a comment\n",
    "Ruby": "# only\n=begin\na comment\n=end\n",
}


def test_the_target_languages_all_have_a_grammar():
    assert set(GRAMMARS) == set(TARGET_LANGUAGES)


@pytest.mark.parametrize("language", sorted(PROGRAMS))
def test_every_language_parses_a_valid_program(language):
    tree, stats = parse_code(PROGRAMS[language], language)
    assert not tree.root_node.has_error
    assert stats.has_error is False and stats.error_nodes == 0
    assert stats.depth >= 4 and stats.node_count > 10


def test_the_demo_samples_parse_without_errors():
    for sample in load_samples():
        language = language_for_path(sample.path)
        for code in (sample.before, sample.after):
            assert parse_code(code, language)[1].error_nodes == 0, sample.name


def test_depth_counts_named_nodes_with_the_root_at_one():
    # module → expression_statement → assignment → identifier / integer
    assert parse_code("x = 1\n", "Python")[1].depth == 4
    # punctuation and keywords do not deepen; each parenthesized_expression does
    assert parse_code("(x)\n", "Python")[1].depth == 4
    assert parse_code("((x))\n", "Python")[1].depth == 5
    assert parse_code("pass\n", "Python")[1].depth == 2


@pytest.mark.parametrize("language", sorted(PROGRAMS))
def test_an_empty_file_has_depth_one(language):
    stats = parse_code("", language)[1]
    assert stats == (False, 0, 1, 1)


@pytest.mark.parametrize("language", sorted(COMMENTS))
def test_a_file_of_comments_is_the_root_and_its_comments(language):
    assert parse_code(COMMENTS[language], language)[1] == (False, 0, 2, 3)


def test_deep_nesting_is_measured_without_recursion():
    code = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    stats = parse_code(code, "Python")[1]
    assert not stats.has_error
    # module → expression_statement → assignment → 5000 × parenthesized_expression → integer
    assert stats.depth == 3 + 5000 + 1
    blocks = "int main() " + "{" * 5000 + "}" * 5000 + "\n"
    c_stats = parse_code(blocks, "C")[1]
    assert not c_stats.has_error and c_stats.depth == 5000 + 2


def test_tree_stats_matches_parse_code():
    tree = get_parser("Go").parse(PROGRAMS["Go"].encode())
    assert tree_stats(tree.root_node) == parse_code(PROGRAMS["Go"], "Go")[1]


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("Python", "def f(:\n    return\n"),
        ("C", "int f( { return 1 }\n"),
        ("Java", "class A { void f() { int x = ; } }\n"),
        ("JavaScript", "function f( { return 1; }\n"),
        ("Go", "package main\nfunc f( {}\n"),
        ("Ruby", "def f(\n  1 +\nend\n"),
        ("C#", "class A { void F() { int x = ; } }\n"),
        ("C++", "int f() { return 1 }\n"),
    ],
)
def test_broken_code_counts_error_nodes(language, code):
    tree, stats = parse_code(code, language)
    assert stats.has_error and tree.root_node.has_error
    assert stats.error_nodes >= 1


def test_missing_nodes_count_as_errors():
    stats = parse_code("int f() { return 1 }\n", "C")[1]  # a MISSING ";"
    assert stats.has_error and stats.error_nodes == 1


def test_code_over_the_byte_budget_raises():
    with pytest.raises(ValueError, match="parse budget"):
        parse_code("x = 1\n" * 100, "Python", max_bytes=599)
    assert parse_code("x = 1\n" * 100, "Python", max_bytes=600)[1].node_count > 1
    with pytest.raises(ValueError, match="parse budget"):
        parse_code("é" * 4, "Python", max_bytes=7)  # bytes, not characters


def test_an_unknown_language_raises():
    with pytest.raises(ValueError, match="no grammar for 'Kotlin'"):
        parse_code("fun main() {}", "Kotlin")
    with pytest.raises(ValueError):
        get_parser("NL")
