"""`transforms.execution.languages`: slugs, missing toolchains, file layouts and steps (no program runs)."""

import pytest

from transforms.execution import languages
from transforms.execution.languages import RUNNERS, Runner, language_slug, missing_toolchain
from transforms.execution.verify import no_toolchain_reason


def test_every_target_language_has_a_runner_and_a_slug():
    assert set(RUNNERS) == {"Python", "JavaScript", "C", "C++", "Java", "Go", "Ruby", "C#"}
    slugs = {language: language_slug(language) for language in RUNNERS}
    assert slugs["C#"] == "csharp" and slugs["C++"] == "cpp" and slugs["JavaScript"] == "javascript"
    assert all(slug.isidentifier() and slug.islower() for slug in slugs.values())
    assert no_toolchain_reason("C#") == "no_toolchain_csharp"


def test_missing_toolchain_names_the_first_absent_tool(monkeypatch):
    runner = RUNNERS["Java"]
    absent = Runner(("javac", "codepref-no-such-compiler", "codepref-no-such-vm"), runner.layout, runner.steps)
    monkeypatch.setitem(RUNNERS, "Java", absent)
    assert missing_toolchain("Java") == "codepref-no-such-compiler"


@pytest.mark.parametrize("language", sorted(RUNNERS))
def test_missing_toolchain_is_none_when_every_tool_is_found(language):
    found = missing_toolchain(language)
    if found is not None:
        pytest.skip(f"{found} (the {language} toolchain) is not installed on this machine")
    assert all(languages._tool(tool) for tool in RUNNERS[language].tools)


def test_python_layout_and_trace_flag():
    files = RUNNERS["Python"].layout("x = 1\n", "assert x == 1\n", "f")
    assert files["solution.py"] == "x = 1\n" and files["tests.py"] == "assert x == 1\n"
    assert "def main()" in files["python_harness.py"]
    [traced] = RUNNERS["Python"].steps(files, "f", True)
    [plain] = RUNNERS["Python"].steps(files, "f", False)
    assert traced.harness and traced.phase == "test"
    assert traced.argv[-2:] == ("f", "1") and plain.argv[-1] == "0"


def test_node_layout_calls_check_only_with_an_entry_point():
    with_entry = RUNNERS["JavaScript"].layout("function f() {}", "function check(c) {}", "f")["program.js"]
    without = RUNNERS["JavaScript"].layout("function f() {}", "function check(c) {}", "")["program.js"]
    assert with_entry.index("function f()") < with_entry.index("function check") < with_entry.index("check(f);")
    assert "check(f)" not in without
    files = RUNNERS["JavaScript"].layout("function f() {\n}\n", "function check(c) {}", "f")
    [step] = RUNNERS["JavaScript"].steps(files, "f", False)
    assert "--experimental-permission" in step.argv and step.harness
    assert step.argv[-1] == "3"  # the solution's lines in program.js: an exit(0) from them is an error


def test_c_layout_is_one_unit_built_then_run():
    files = RUNNERS["C"].layout("int f(void) { return 1; }", "int main(void) { return f() != 1; }", "")
    assert list(files) == ["program.c"]
    build, run = RUNNERS["C"].steps(files, "", False)
    assert (build.phase, run.phase, run.argv) == ("build", "test", ("./program",))
    assert "program.c" in build.argv and not build.harness and not run.harness


def test_java_layout_gives_each_public_class_its_file():
    solution = "public class Calculator {\n  public static int add(int a, int b) { return a + b; }\n}\n"
    tests = (
        "public class CalculatorTest {\n"
        "  public static void main(String[] a) { assert Calculator.add(1, 2) == 3; }\n}\n"
    )
    files = RUNNERS["Java"].layout(solution, tests, "")
    assert list(files) == ["Calculator.java", "CalculatorTest.java"]
    build, run = RUNNERS["Java"].steps(files, "", False)
    assert build.argv[-2:] == ("Calculator.java", "CalculatorTest.java")
    assert run.argv[-1] == "CalculatorTest" and "-ea" in run.argv
    unnamed = RUNNERS["Java"].layout("class Helper { static int one() { return 1; } }", tests, "")
    assert list(unnamed) == ["Solution.java", "CalculatorTest.java"]
    main_only = "class Check {\n  public static void main(String[] a) { }\n}\n"
    assert list(RUNNERS["Java"].layout(solution, main_only, "")) == ["Calculator.java", "Check.java"]


def test_go_layout_tells_test_files_from_main_programs():
    testing = 'package main\n\nimport "testing"\n\nfunc TestF(t *testing.T) {}\n'
    files = RUNNERS["Go"].layout("package main\n", testing, "")
    assert "solution_test.go" in files and "go.mod" in files
    build, run = RUNNERS["Go"].steps(files, "", False)
    assert build.argv[1:3] == ("test", "-c") and run.argv == ("./program.test",)
    assert dict(build.env)["GOPROXY"] == "off" and "{workdir}" in dict(build.env)["GOCACHE"]
    main = RUNNERS["Go"].layout("package main\n", "package main\n\nfunc main() {}\n", "")
    assert "main_tests.go" in main and "solution_test.go" not in main
    build, run = RUNNERS["Go"].steps(main, "", False)
    assert build.argv[1] == "build" and run.argv == ("./program",)
