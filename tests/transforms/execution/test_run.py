"""`transforms.execution.run.run_tests`: every language's verdicts, the Python harness, and the harness guards."""

import os
import tempfile

import pytest

from tests.transforms.execution.helpers import FAST, GUARDS_ONLY
from transforms.execution.languages import RUNNERS, missing_toolchain
from transforms.execution.run import OUTCOMES, run_tests
from transforms.execution.sandbox import Isolation, Limits, probe_isolation


LIMITS = Limits(timeout_s=30, cpu_s=30)
"""Generous limits for runs that must end by themselves (compilers and JVMs on a busy 2-core machine)."""


def needs(language: str) -> None:
    """Skips the test when `language`'s toolchain is missing, naming the tool."""
    tool = missing_toolchain(language)
    if tool is not None:
        pytest.skip(f"{tool} is not installed: the {language} toolchain is missing on this machine")


def verdict(language, code, tests, entry="", limits=LIMITS, isolation: Isolation | None = None, **kwargs):
    needs(language)
    return run_tests(language, code, tests, entry, limits, isolation or probe_isolation(), **kwargs)


# One task per language, `add(a, b)`: (solution, wrong solution, raising solution, tests, entry point).

JS_ASSERT = "const assert = require('node:assert');\n"
C_TESTS = (
    "#include <assert.h>\nint main(void) {\n  assert(add(1, 2) == 3);\n  assert(add(-4, 4) == 0);\n  return 0;\n}\n"
)
GO_MAIN = (
    'package main\n\nimport "os"\n\nfunc main() {\n\tif add(1, 2) != 3 || add(-4, 4) != 0 {\n\t\tos.Exit(1)\n\t}\n}\n'
)
GO_TEST = (
    'package main\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n'
    '\tif add(1, 2) != 3 || add(-4, 4) != 0 {\n\t\tt.Fatal("add")\n\t}\n}\n'
)
TASKS = {
    "Python": (
        "def add(a, b):\n    return a + b\n",
        "def add(a, b):\n    return a - b\n",
        "def add(a, b):\n    raise ValueError('boom')\n",
        "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-4, 4) == 0\n",
        "add",
    ),
    "JavaScript": (
        "function add(a, b) {\n  return a + b;\n}\n",
        "function add(a, b) {\n  return a - b;\n}\n",
        "function add(a, b) {\n  throw new Error('boom');\n}\n",
        JS_ASSERT + "function check(candidate) {\n  assert.strictEqual(candidate(1, 2), 3);\n"
        "  assert.strictEqual(candidate(-4, 4), 0);\n}\n",
        "add",
    ),
    "C": (
        "int add(int a, int b) { return a + b; }\n",
        "int add(int a, int b) { return a - b; }\n",
        None,  # C raises nothing; its crash is `CRASHES` below
        C_TESTS,
        "",
    ),
    "C++": (
        "int add(int a, int b) { return a + b; }\n",
        "int add(int a, int b) { return a - b; }\n",
        '#include <stdexcept>\nint add(int a, int b) { throw std::runtime_error("boom"); }\n',
        C_TESTS.replace("<assert.h>", "<cassert>"),
        "",
    ),
    "Java": (
        "public class Solution {\n  public static int add(int a, int b) { return a + b; }\n}\n",
        "public class Solution {\n  public static int add(int a, int b) { return a - b; }\n}\n",
        "public class Solution {\n  public static int add(int a, int b) {"
        ' throw new IllegalStateException("boom"); }\n}\n',
        "public class Main {\n  public static void main(String[] args) {\n"
        "    assert Solution.add(1, 2) == 3;\n    assert Solution.add(-4, 4) == 0;\n  }\n}\n",
        "",
    ),
    "Go": (
        "package main\n\nfunc add(a, b int) int { return a + b }\n",
        "package main\n\nfunc add(a, b int) int { return a - b }\n",
        'package main\n\nfunc add(a, b int) int { panic("boom") }\n',
        GO_MAIN,
        "",
    ),
    "Ruby": (
        "def add(a, b)\n  a + b\nend\n",
        "def add(a, b)\n  a - b\nend\n",
        "def add(a, b)\n  raise ArgumentError, 'boom'\nend\n",
        "raise 'add(1, 2)' unless add(1, 2) == 3\nraise 'add(-4, 4)' unless add(-4, 4) == 0\n",
        "",
    ),
    "C#": (
        "public static class Solution {\n  public static int Add(int a, int b) { return a + b; }\n}\n",
        "public static class Solution {\n  public static int Add(int a, int b) { return a - b; }\n}\n",
        "public static class Solution {\n  public static int Add(int a, int b) {"
        ' throw new System.InvalidOperationException("boom"); }\n}\n',
        "public static class Tests {\n  public static int Main() {\n"
        "    return Solution.Add(1, 2) == 3 && Solution.Add(-4, 4) == 0 ? 0 : 1;\n  }\n}\n",
        "",
    ),
}

CRASHES = {
    "C": "#include <stddef.h>\nint add(int a, int b) { volatile int *p = NULL; return *p + a + b; }\n",
    "C++": "#include <cstddef>\nint add(int a, int b) { volatile int *p = nullptr; return *p + a + b; }\n",
}
BUILD_FAILURES = {
    "C": "int add(int a, int b) { return a + ; }\n",
    "C++": "int add(int a, int b) { return a + ; }\n",
    "Java": "public class Solution {\n  public static int add(int a, int b) { return a + ; }\n}\n",
    "Go": "package main\n\nfunc add(a, b int) int { return a + }\n",
    "C#": "public static class Solution {\n  public static int Add(int a, int b) { return a + ; }\n}\n",
}
LOOPS = {
    "Python": "def add(a, b):\n    while True:\n        pass\n",
    "JavaScript": "function add(a, b) {\n  for (;;) {}\n}\n",
    "C": "int add(int a, int b) { volatile int n = 0; for (;;) n++; return a + b; }\n",
}


def test_every_language_has_a_task():
    assert set(TASKS) == set(RUNNERS)


@pytest.mark.parametrize("language", sorted(TASKS))
def test_a_solution_passes_a_wrong_one_fails_a_raising_one_does_not_pass(language):
    good, wrong, raising, tests, entry = TASKS[language]
    passed = verdict(language, good, tests, entry)
    assert (passed.outcome, passed.phase) == ("passed", "test"), passed.detail
    failed = verdict(language, wrong, tests, entry)
    assert (failed.outcome, failed.phase) == ("assertion", "test"), failed.detail
    if raising is not None:
        raised = verdict(language, raising, tests, entry)
        # an uncaught exception is no failed test: the harnesses and the runners' `errors` patterns say `error`
        assert (raised.outcome, raised.phase) == ("error", "test"), raised.detail
        assert "boom" in raised.detail


def test_go_testing_files_run_too():
    good, wrong, _, _, _ = TASKS["Go"]
    assert verdict("Go", good, GO_TEST).outcome == "passed"
    failed = verdict("Go", wrong, GO_TEST)
    assert failed.outcome == "assertion" and "FAIL" in failed.detail


@pytest.mark.parametrize("isolation", [pytest.param(None, id="probed"), pytest.param(GUARDS_ONLY, id="guards-only")])
@pytest.mark.parametrize("language", sorted(CRASHES))
def test_a_crash_is_an_error(language, isolation):
    """A segfault is "any other signal" (`languages.Step`): an error, with namespaces or without."""
    crashed = verdict(language, CRASHES[language], TASKS[language][3], isolation=isolation)
    assert (crashed.outcome, crashed.phase) == ("error", "test"), crashed.detail


@pytest.mark.parametrize("language", sorted(BUILD_FAILURES))
def test_a_build_failure_is_an_error_of_the_build(language):
    tests = TASKS[language][3]
    broken = verdict(language, BUILD_FAILURES[language], tests)
    assert (broken.outcome, broken.phase) == ("error", "build")
    assert broken.detail.startswith("build failed")


@pytest.mark.parametrize("language", sorted(LOOPS))
def test_an_endless_loop_times_out(language):
    _, _, _, tests, entry = TASKS[language]
    endless = verdict(language, LOOPS[language], tests, entry, limits=FAST)
    assert (endless.outcome, endless.phase) == ("timeout", "test")
    assert endless.seconds < 60  # it was stopped


# The Python harness.

SIGN = "def sign(x):\n    if x < 0:\n        return -1\n    return 1\n"


def test_python_plain_asserts_pass_and_fail():
    assert verdict("Python", SIGN, "assert sign(3) == 1\nassert sign(-3) == -1\n").outcome == "passed"
    failed = verdict("Python", SIGN, "assert sign(3) == 1\nassert sign(0) == 0, 'zero'\n")
    assert failed.outcome == "assertion" and "zero" in failed.detail


def test_python_check_needs_an_entry_point_the_solution_defines():
    check = "def check(candidate):\n    assert candidate(3) == 1\n"
    assert verdict("Python", SIGN, check, "sign").outcome == "passed"
    unnamed = verdict("Python", SIGN, check, "")
    assert unnamed.outcome == "error" and "entry point" in unnamed.detail
    undefined = verdict("Python", SIGN, check, "signum")
    assert undefined.outcome == "error" and "signum" in undefined.detail
    wrong = verdict("Python", SIGN, "def check(candidate):\n    assert candidate(3) == -1\n", "sign")
    assert wrong.outcome == "assertion"


def test_python_solution_main_guard_does_not_run():
    guarded = SIGN + "\n\nif __name__ == '__main__':\n    raise SystemExit(3)\n"
    assert verdict("Python", guarded, "assert sign(2) == 1\n").outcome == "passed"


def test_python_exits_of_the_tests():
    assert verdict("Python", SIGN, "assert sign(2) == 1\nraise SystemExit(0)\n").outcome == "passed"
    exited = verdict("Python", SIGN, "import sys\nsys.exit(2)\n")
    assert exited.outcome == "assertion" and "2" in exited.detail


def test_python_exiting_before_the_verdict_is_an_error():
    early = "import os\nos._exit(0)\n" + SIGN
    stopped = verdict("Python", early, "assert sign(-1) == 5\n")
    assert stopped.outcome == "error" and "stopped before the tests finished" in stopped.detail


@pytest.mark.parametrize(
    ("language", "code", "tests"),
    [
        pytest.param("Python", "import sys\nsys.exit(0)\n" + SIGN, "assert sign(-1) == 5\n", id="python-sys.exit"),
        pytest.param(
            "JavaScript",
            "process.exit(0);\nfunction sign(x) { return x < 0 ? -1 : 1; }\n",
            JS_ASSERT + "assert.strictEqual(sign(-1), 5);\n",
            id="javascript-process.exit",
        ),
    ],
)
def test_a_solution_that_exits_0_before_its_tests_does_not_pass(language, code, tests):
    """`passed` means the tests ran to their end (`run` module docstring); these never ran."""
    assert verdict(language, code, tests).outcome != "passed"


def test_python_trace_returns_the_executed_lines():
    traced = verdict("Python", SIGN, "assert sign(5) == 1\n", trace=True)
    assert traced.outcome == "passed"
    assert {1, 2, 4} <= set(traced.lines)
    assert 3 not in traced.lines  # the branch the tests never take
    both = verdict("Python", SIGN, "assert sign(5) == 1\nassert sign(-5) == -1\n", trace=True)
    assert {1, 2, 3, 4} <= set(both.lines)
    assert verdict("Python", SIGN, "assert sign(5) == 1\n").lines == ()


def test_the_run_folder_is_removed(monkeypatch):
    made = []
    real = tempfile.mkdtemp

    def recording(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", recording)
    verdict("Python", SIGN, "open('left.txt', 'w').write('x')\nassert sign(1) == 1\n")
    verdict("Python", LOOPS["Python"], "add(1, 2)\n", limits=FAST)
    assert len(made) == 2
    assert not any(os.path.exists(path) for path in made)


def test_outcomes_are_the_four_documented():
    assert OUTCOMES == ("passed", "assertion", "error", "timeout")


# The harness guards: what holds without namespaces (and, for the probed isolation, with them).

ISOLATIONS = [pytest.param(GUARDS_ONLY, id="guards-only"), pytest.param(None, id="probed")]


def python_escapes(port: int, outside: str) -> dict[str, str]:
    """name → tests that try to leave the sandbox (each would leave a file in `outside` or connect to `port`)."""
    return {
        "socket": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'x')\n",
        "fork": "import os\nif os.fork() == 0:\n    open('/dev/null').close()\n",
        "posix.fork": "import posix\nposix.fork()\n",
        "subprocess": f"import subprocess\nsubprocess.run(['touch', '{outside}/subprocess'])\n",
        "os.system": f"import os\nos.system('touch {outside}/system')\n",
        "open": f"open('{outside}/open', 'w').write('x')\n",
        "os.open": f"import os\nos.close(os.open('{outside}/os-open', os.O_WRONLY | os.O_CREAT))\n",
        "os.open-dir_fd": (
            f"import os\nfolder = os.open('{outside}', os.O_RDONLY)\n"
            "os.close(os.open('dir-fd', os.O_WRONLY | os.O_CREAT, dir_fd=folder))\n"
        ),
        "os.mkfifo": f"import os\nos.mkfifo('{outside}/fifo')\n",
        "spawnv_passfds": (
            "import os\nfrom multiprocessing.util import spawnv_passfds\n"
            f"os.waitpid(spawnv_passfds(b'/usr/bin/touch', [b'touch', b'{outside}/spawned'], ()), 0)\n"
        ),
        "mkdir": f"import os\nos.mkdir('{outside}/folder')\n",
    }


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize(
    "escape",
    [
        "socket",
        "fork",
        "posix.fork",
        "subprocess",
        "os.system",
        "open",
        "os.open",
        "os.open-dir_fd",
        "os.mkfifo",
        "spawnv_passfds",
        "mkdir",
    ],
)
def test_python_harness_refuses_escapes(escape, isolation, listener, outside):
    tests = python_escapes(listener.port, str(outside))[escape] + "assert sign(1) == 1\n"
    refused = verdict("Python", SIGN, tests, limits=FAST, isolation=isolation)
    assert refused.outcome == "error", f"{escape}: {refused.outcome} {refused.detail}"
    assert list(outside.iterdir()) == []
    assert listener.close() == 0


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_python_harness_lets_the_program_write_its_own_folder(isolation):
    tests = (
        "import os\nos.mkdir('sub')\nopen('sub/notes.txt', 'w').write('x')\n"
        "assert open('sub/notes.txt').read() == 'x'\n"
    )
    assert verdict("Python", SIGN, tests, isolation=isolation).outcome == "passed"


def js_escapes(port: int, outside: str) -> dict[str, str]:
    return {
        "child_process": f"require('child_process').execSync('touch {outside}/child');\n",
        "spawnSync": f"require('child_process').spawnSync('/usr/bin/touch', ['{outside}/spawned']);\n",
        "write": f"require('fs').writeFileSync('{outside}/write', 'x');\n",
        "mkdir": f"require('fs').mkdirSync('{outside}/folder');\n",
        "symlink": (
            f"const fs = require('fs');\nfs.symlinkSync('{outside}', 'link');\nfs.writeFileSync('link/via', 'x');\n"
        ),
        "socket": f"require('net').connect({port}, '127.0.0.1');\n",
    }


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("escape", ["child_process", "spawnSync", "write", "mkdir", "symlink", "socket"])
def test_node_harness_refuses_escapes(escape, isolation, listener, outside):
    code = "function sign(x) {\n  return x < 0 ? -1 : 1;\n}\n"
    tests = JS_ASSERT + js_escapes(listener.port, str(outside))[escape] + "assert.strictEqual(sign(1), 1);\n"
    refused = verdict("JavaScript", code, tests, limits=FAST, isolation=isolation)
    assert refused.outcome == "error", f"{escape}: {refused.outcome} {refused.detail}"
    assert list(outside.iterdir()) == []
    assert listener.close() == 0


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_node_harness_lets_the_program_write_its_own_folder(isolation):
    tests = (
        "const fs = require('fs');\nfs.writeFileSync('notes.txt', 'x');\n"
        "if (fs.readFileSync('notes.txt', 'utf8') !== 'x') process.exit(1);\n"
    )
    assert verdict("JavaScript", "const one = 1;\n", tests, isolation=isolation).outcome == "passed"
