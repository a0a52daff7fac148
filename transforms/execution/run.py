"""One program against its tests, in the sandbox: the verdict; no Beam here.

`run_tests(language, code, tests, entry_point, limits, isolation)` lays the files
out in a fresh temporary folder (`transforms.execution.languages`), runs the
build and test steps there (`transforms.execution.sandbox`) and returns a
`Verdict`:

* `passed`: the tests ran to their end and reported no failure;
* `assertion`: a test failed (an assertion, a non-zero exit the tests chose, an
  `abort()`);
* `error`: the program raised an error that is no test failure (a `TypeError`, a
  Go panic, an uncaught Java or C# exception: the runner's `errors` pattern),
  crashed on a signal, did not build, or stopped before the tests finished;
* `timeout`: the wall clock or the CPU limit ran out.

The folder is removed afterwards, whatever happened.
"""

__all__ = ["OUTCOMES", "Verdict", "run_tests"]

import json
import os
import re
import secrets
import shutil
import signal
import tempfile
from typing import NamedTuple

from transforms.execution.languages import RUNNERS, Step
from transforms.execution.sandbox import Isolation, Limits, RawRun, run_sandboxed


OUTCOMES: tuple[str, ...] = ("passed", "assertion", "error", "timeout")
BUILD_LIMITS = Limits(timeout_s=120.0, cpu_s=120, memory_mb=4096, processes=512)
"""Compilers get more than the tests: time, memory, and processes for their own drivers and threads."""


class Verdict(NamedTuple):
    """How one program fared against its tests.

    Attributes:
        outcome: one of `OUTCOMES`.
        phase: `build` or `test`, the step that decided it.
        detail: the error, the failed assertion or the exit, shortened.
        lines: the solution's executed lines (1-based), when traced.
        seconds: the time the steps took.
    """

    outcome: str
    phase: str
    detail: str
    lines: tuple[int, ...] = ()
    seconds: float = 0.0


def _tail(text: str, chars: int = 600) -> str:
    text = text.strip()
    return text if len(text) <= chars else "…" + text[-chars:]


_CPU_KILLED = (-signal.SIGXCPU, -signal.SIGKILL)
"""Exit codes of a run stopped by the CPU limit (SIGXCPU, then SIGKILL at the hard limit); the sandbox
reports every signal death as -signal."""


def _exit_verdict(step: Step, run: RawRun, errors: re.Pattern | None) -> tuple[str, str]:
    """The outcome of a step whose exit status decides (see `transforms.execution.languages.Step`)."""
    code = run.exit_code
    if code == 0:
        return "passed", ""
    output = run.stderr or run.stdout
    if step.phase == "build":
        return "error", f"build failed (exit {code}): {_tail(output)}"
    if code in _CPU_KILLED:
        return "timeout", f"killed by signal {-code} (the CPU limit)"
    if code > 0 or code == -signal.SIGABRT:
        crashed = errors is not None and errors.search(run.stderr)
        return "error" if crashed else "assertion", f"exit {code}: {_tail(output)}"
    return "error", f"killed by signal {-code}: {_tail(run.stderr)}"


def _harness_verdict(workdir: str, nonce: str, run: RawRun) -> tuple[str, str, tuple[int, ...]]:
    path = os.path.join(workdir, f".result-{nonce}.json")
    try:
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
        outcome, detail = result["outcome"], str(result.get("detail", ""))
        lines = tuple(int(n) for n in result.get("lines", ()))
    except (OSError, ValueError, KeyError, TypeError):
        code = run.exit_code
        if code in _CPU_KILLED:
            return "timeout", "killed by the CPU limit", ()
        return "error", f"stopped before the tests finished (exit {code}): {_tail(run.stderr)}", ()
    if outcome not in OUTCOMES[:3]:
        return "error", f"unknown verdict {outcome!r}", ()
    return outcome, _tail(detail), lines


def run_tests(
    language: str,
    code: str,
    tests: str,
    entry_point: str,
    limits: Limits,
    isolation: Isolation,
    *,
    trace: bool = False,
) -> Verdict:
    """Runs `code` against `tests` in the sandbox; see the module docstring.

    Args:
        language: one with a runner (`transforms.execution.languages.RUNNERS`) whose toolchain is installed.
        code: the program (a solution or a mutant).
        tests: its tests, in the language's shape.
        entry_point: the function the tests' `check(candidate)` is given, or "".
        limits: the test step's limits (builds get `BUILD_LIMITS`).
        isolation: what `transforms.execution.sandbox.probe_isolation` found.
        trace: record the solution's executed lines (where the runner can).
    """
    runner = RUNNERS[language]
    files = runner.layout(code, tests, entry_point)
    workdir = tempfile.mkdtemp(prefix="codepref-exec-")
    seconds = 0.0
    try:
        for name, text in files.items():
            path = os.path.join(workdir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        for step in runner.steps(files, entry_point, trace and runner.traces):
            nonce = secrets.token_hex(16)
            step_limits = BUILD_LIMITS if step.phase == "build" else limits
            argv = [arg.replace("{workdir}", workdir) for arg in step.argv]
            env = {name: value.replace("{workdir}", workdir) for name, value in step.env}
            run = run_sandboxed(argv, workdir, step_limits, isolation, env, (nonce + "\n").encode())
            seconds += run.seconds
            if run.timed_out:
                return Verdict("timeout", step.phase, f"ran past {step_limits.timeout_s:g} s", (), seconds)
            if step.harness:
                outcome, detail, lines = _harness_verdict(workdir, nonce, run)
            else:
                (outcome, detail), lines = _exit_verdict(step, run, runner.errors), ()
            if outcome != "passed" or step.phase == "test":
                return Verdict(outcome, step.phase, detail, lines, seconds)
        return Verdict("error", "test", "the runner has no test step", (), seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
