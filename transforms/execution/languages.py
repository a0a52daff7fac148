"""How each language's solution and tests are laid out, built and run in the sandbox; no Beam here.

The expected shape of the tests, per language (the README's "Execution-verified
pairs" section says the same):

* **Python**: code run after the solution in the same namespace: plain `assert`s,
  or a `check(candidate)` function that the harness calls with the function that
  the entry point names (HumanEval's layout).
* **JavaScript**: a node script appended to the solution that throws (`node:assert`)
  or exits non-zero on failure; a `check(candidate)` is called with the entry point.
* **C, C++**: a `main()` appended to the solution (one translation unit) that
  returns non-zero or fails an `assert` on failure.
* **Java**: a class with `public static void main` (assertions are enabled); the
  solution's public class goes to its own file.
* **Go**: a `_test.go` file of the solution's package with `func TestXxx(t *testing.T)`,
  or, for a `package main` solution, a `main` function that panics or exits non-zero.
* **Ruby**: a script appended to the solution that raises or exits non-zero.
* **C#**: a class with `static void Main` (or `int Main`) compiled with the solution.

A language whose toolchain is missing is reported by `missing_toolchain`, so the
stage rejects its rows `no_toolchain_<slug>` instead of failing.
"""

__all__ = ["RUNNERS", "Runner", "Step", "language_slug", "missing_toolchain"]

import dataclasses
import functools
import os
import re
import shutil
from collections.abc import Callable


_HARNESS = os.path.join(os.path.dirname(__file__), "harness")
_SLUGS = {"C#": "csharp", "C++": "cpp"}


def language_slug(language: str) -> str:
    """The language's name in reasons and file names: `C#` → `csharp`, `C++` → `cpp`, else lower case."""
    return _SLUGS.get(language, language.lower())


@dataclasses.dataclass(frozen=True)
class Step:
    """One command of a run: `build` (compile; its failure is an `error`) or `test` (the verdict).

    `{workdir}` in an argument or an `env` value becomes the run's folder.

    `harness` steps write the verdict file (`.result-NONCE.json`); for the others the
    exit status decides: 0 passed; a non-zero exit or SIGABRT an assertion, unless
    stderr matches the runner's `errors` (an uncaught error that is no test failure);
    any other signal an error.
    """

    phase: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    harness: bool = False


@dataclasses.dataclass(frozen=True)
class Runner:
    """A language's toolchain and how it lays out and runs a program.

    Attributes:
        tools: the executables it needs on PATH.
        layout: (code, tests, entry point) → {file name: text}.
        steps: (files, entry point, trace) → the commands, in order.
        traces: its harness can report the solution's executed lines (Python).
        errors: what in stderr marks a non-zero exit as an `error` (a crash of the
            program), not a failed test; None: every non-zero exit is an assertion.
    """

    tools: tuple[str, ...]
    layout: Callable[[str, str, str], dict[str, str]]
    steps: Callable[[dict[str, str], str, bool], tuple[Step, ...]]
    traces: bool = False
    errors: re.Pattern | None = None


@functools.cache
def _tool(name: str) -> str | None:
    """A toolchain executable's absolute path, looked up on the sandbox's PATH and the worker's."""
    from transforms.execution.sandbox import SAFE_PATH

    return shutil.which(name, path=SAFE_PATH) or shutil.which(name)


def missing_toolchain(language: str) -> str | None:
    """The first executable `language` needs that is not installed, or None."""
    runner = RUNNERS[language]
    return next((tool for tool in runner.tools if _tool(tool) is None), None)


def _harness_file(name: str) -> str:
    with open(os.path.join(_HARNESS, name), encoding="utf-8") as f:
        return f.read()


def _python_layout(code: str, tests: str, _entry: str) -> dict[str, str]:
    return {"solution.py": code, "tests.py": tests, "python_harness.py": _harness_file("python_harness.py")}


def _python_steps(_files: dict[str, str], entry: str, trace: bool) -> tuple[Step, ...]:
    argv = (_tool("python3"), "-I", "-B", "python_harness.py", entry, "1" if trace else "0")
    return (Step("test", argv, harness=True),)


def _check_call(entry: str, call: str) -> str:
    return f"\nif (typeof check === 'function') {{ {call} }}\n" if entry else ""


_SOLUTION_LINES = ".solution-lines"
"""How many lines of `program.js` are the solution's (the harness's argument: the tests' lines follow)."""


def _node_layout(code: str, tests: str, entry: str) -> dict[str, str]:
    program = f"{code}\n;\n{tests}\n{_check_call(entry, f'check({entry});')}"
    lines = str(code.count("\n") + 1)
    return {"program.js": program, _SOLUTION_LINES: lines, "node_harness.js": _harness_file("node_harness.js")}


def _node_steps(files: dict[str, str], _entry: str, _trace: bool) -> tuple[Step, ...]:
    """Node with its permission model: reads anywhere, writes only in the run's folder, no child processes.

    (The permission model also turns off V8's coverage and the inspector, so JavaScript runs are not traced.)
    """
    argv = (
        _tool("node"),
        "--experimental-permission",
        "--allow-fs-read=*",
        "--allow-fs-write={workdir}/*",
        "--no-warnings",
        "--max-old-space-size=512",
        "node_harness.js",
        files[_SOLUTION_LINES],
    )
    return (Step("test", argv, harness=True),)


def _c_layout(suffix: str) -> Callable[[str, str, str], dict[str, str]]:
    def layout(code: str, tests: str, _entry: str) -> dict[str, str]:
        return {f"program.{suffix}": f"{code}\n\n{tests}\n"}

    return layout


def _c_steps(compiler: str, flags: tuple[str, ...]) -> Callable[[dict[str, str], str, bool], tuple[Step, ...]]:
    def steps(files: dict[str, str], _entry: str, _trace: bool) -> tuple[Step, ...]:
        (source,) = files
        build = Step("build", (_tool(compiler), *flags, "-o", "program", source, "-lm"))
        return build, Step("test", ("./program",))

    return steps


_PUBLIC_CLASS = re.compile(r"^\s*public\s+(?:final\s+|abstract\s+)*class\s+([A-Za-z_]\w*)", re.MULTILINE)
_MAIN_CLASS = re.compile(r"class\s+([A-Za-z_]\w*)[^{]*\{(?:(?!\bclass\b).)*?static\s+void\s+main\s*\(", re.DOTALL)


def _java_layout(code: str, tests: str, _entry: str) -> dict[str, str]:
    solution = _PUBLIC_CLASS.search(code)
    tested = _PUBLIC_CLASS.search(tests) or _MAIN_CLASS.search(tests)
    solution_file = f"{solution.group(1) if solution else 'Solution'}.java"
    tests_file = f"{tested.group(1) if tested else 'Main'}.java"
    if tests_file == solution_file:
        return {solution_file: f"{code}\n\n{tests}\n"}
    return {solution_file: code, tests_file: tests}


def _java_steps(files: dict[str, str], _entry: str, _trace: bool) -> tuple[Step, ...]:
    tests = list(files)[-1]
    main = _MAIN_CLASS.search(files[tests])
    jvm = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xss8m", "-Xmx256m")
    build = Step("build", (_tool("javac"), *(f"-J{o}" for o in jvm), "-nowarn", "-d", ".", *files))
    run = Step("test", (_tool("java"), *jvm, "-ea", "-cp", ".", main.group(1) if main else tests[:-5]))
    return build, run


def _go_layout(code: str, tests: str, _entry: str) -> dict[str, str]:
    files = {"go.mod": "module sandbox\n\ngo 1.18\n", "solution.go": code, ".gotmp/.keep": ""}
    if re.search(r"^\s*import\s*(\(|\")[^)]*\"testing\"", tests, re.MULTILINE) or "*testing.T" in tests:
        files["solution_test.go"] = tests
    else:
        files["main_tests.go"] = tests
    return files


_GO_ENV: tuple[tuple[str, str], ...] = (
    ("GOCACHE", "{workdir}/.gocache"),
    ("GOPATH", "{workdir}/.gopath"),
    ("TMPDIR", "{workdir}/.gotmp"),
    ("GOFLAGS", "-mod=mod"),
    ("GOTOOLCHAIN", "local"),
    ("GOPROXY", "off"),
    ("CGO_ENABLED", "0"),
)


def _go_steps(files: dict[str, str], _entry: str, _trace: bool) -> tuple[Step, ...]:
    """Builds in the folder (go ignores a go.mod in the temporary root, so TMPDIR is a folder below it)."""
    go, env = _tool("go"), _GO_ENV
    if "solution_test.go" in files:
        return (Step("build", (go, "test", "-c", "-o", "program.test", "."), env), Step("test", ("./program.test",)))
    return Step("build", (go, "build", "-o", "program", "."), env), Step("test", ("./program",))


def _ruby_layout(code: str, tests: str, _entry: str) -> dict[str, str]:
    return {"program.rb": f"{code}\n\n{tests}\n"}


def _ruby_steps(_files: dict[str, str], _entry: str, _trace: bool) -> tuple[Step, ...]:
    return (Step("test", (_tool("ruby"), "--disable-gems", "program.rb")),)


def _csharp_layout(code: str, tests: str, _entry: str) -> dict[str, str]:
    return {"Solution.cs": code, "Tests.cs": tests}


def _csharp_steps(files: dict[str, str], _entry: str, _trace: bool) -> tuple[Step, ...]:
    build = Step("build", (_tool("mcs"), "-nowarn:0219,0168", "-out:program.exe", *files))
    return build, Step("test", (_tool("mono"), "program.exe"), (("MONO_GC_PARAMS", "max-heap-size=256m"),))


_RUBY_ERRORS = (
    "NoMethodError|NameError|TypeError|ZeroDivisionError|ArgumentError|IndexError|KeyError|"
    "FloatDomainError|RangeError|SystemStackError|NoMemoryError|FrozenError|LocalJumpError"
)
RUNNERS: dict[str, Runner] = {
    "Python": Runner(("python3",), _python_layout, _python_steps, traces=True),
    "JavaScript": Runner(("node",), _node_layout, _node_steps),
    "C": Runner(("gcc",), _c_layout("c"), _c_steps("gcc", ("-std=gnu11", "-O1", "-w"))),
    "C++": Runner(
        ("g++",),
        _c_layout("cpp"),
        _c_steps("g++", ("-std=gnu++17", "-O1", "-w")),
        errors=re.compile(r"terminate called after throwing"),
    ),
    "Java": Runner(
        ("javac", "java"),
        _java_layout,
        _java_steps,
        errors=re.compile(r'Exception in thread "main" (?!java\.lang\.AssertionError)'),
    ),
    "Go": Runner(("go",), _go_layout, _go_steps, errors=re.compile(r"^panic: ", re.MULTILINE)),
    "Ruby": Runner(("ruby",), _ruby_layout, _ruby_steps, errors=re.compile(rf"\((?:{_RUBY_ERRORS})\)$", re.MULTILINE)),
    "C#": Runner(
        ("mcs", "mono"),
        _csharp_layout,
        _csharp_steps,
        errors=re.compile(r"Unhandled Exception:(?!.*Assert)"),
    ),
}
"""The runner of each of the 8 target languages."""
