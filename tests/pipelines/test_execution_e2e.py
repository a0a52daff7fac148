"""`codepref mutate --test-column` end to end: planted bugs verified by running real tests.

A small instruction set in Python and JavaScript, run through the CLI on the real
parts (tree-sitter, the sandbox, python3 and node): ordinary tasks, a task whose
tests miss a branch (mutants there survive), one whose every mutant survives
(`equivalent_mutant`), a solution that fails its tests, one that never ends, a
fork bomb, tests that open a socket and tests that write outside their folder, and
one whose first seeded mutants survive, so that a later one must replace them.
"""

import glob
import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from tests.transforms.execution.helpers import Listener
from transforms.commit_filters import record_id
from transforms.execution.run import run_tests
from transforms.execution.sandbox import Limits, probe_isolation
from transforms.manifest import check_conservation, check_flow


CHECK_ADD = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-4, 4) == 0\n"
LARGEST = """def largest(xs):
    best = xs[0]
    for x in xs[1:]:
        if x > best:
            best = x
    return best
"""
CLAMP = """def clamp(x, low, high):
    if low > high:
        raise ValueError("low must not exceed high")
    if x < low:
        return low
    if x > high:
        return high
    return x
"""
GRADE = (
    "Write a Python function `letter_grade(score)` that returns the letter grade: A from 85, B from 70, C from 55, "
    "D from 40, F below.",
    "def letter_grade(score):\n    if score >= 85:\n        return 'A'\n    elif score >= 70:\n        return 'B'\n"
    "    elif score >= 55:\n        return 'C'\n    elif score >= 40:\n        return 'D'\n    return 'F'\n",
    "def check(candidate):\n    assert candidate(92) == 'A'\n    assert candidate(77) == 'B'\n"
    "    assert candidate(62) == 'C'\n    assert candidate(47) == 'D'\n",
)
"""A task whose first seeded mutants survive its tests (no score below 40 is tried): they must be replaced."""
VOWELS = """function countVowels(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if ('aeiou'.includes(s[i])) {
      n += 1;
    }
  }
  return n;
}
"""
JS_ASSERT = "const assert = require('node:assert');\n"


def tasks(port: int, outside: str) -> dict[str, dict]:
    """name → instruction row; `port` is the test's listener, `outside` a folder the runs must not write."""
    rows = {
        "add": ("Python", "def add(a, b):\n    total = a + b\n    return total\n", CHECK_ADD, "add"),
        "largest": ("Python", LARGEST, "assert largest([1, 5, 3]) == 5\nassert largest([-3, -1, -2]) == -1\n", ""),
        "clamp": ("Python", CLAMP, "assert clamp(5, 0, 10) == 5\nassert clamp(-3, 0, 10) == 0\n", ""),
        "equivalent": (
            "Python",
            "def is_positive(n):\n    return n > 0\n",
            "assert is_positive(5) in (True, False)\n",
            "",
        ),
        "fails": ("Python", "def double(x):\n    return x * 3\n", "assert double(2) == 4\n", ""),
        "endless": (
            "Python",
            "def spin(n):\n    total = 0\n    while n > 0:\n        total += 1\n    return total\n",
            "assert spin(3) == 3\n",
            "",
        ),
        "fork_bomb": (
            "Python",
            "import os\n\n\ndef grow(n):\n    while n > 0:\n        os.fork()\n    return n + 1\n",
            "assert grow(1) == 2\n",
            "",
        ),
        "socket": (
            "Python",
            "def add3(n):\n    return n + 3\n",
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'leak')\n"
            "assert add3(1) == 4\n",
            "",
        ),
        "writes_outside": (
            "Python",
            "def add4(n):\n    return n + 4\n",
            f"open({outside + '/escaped.txt'!r}, 'w').write('x')\nassert add4(1) == 5\n",
            "",
        ),
        "vowels": ("JavaScript", VOWELS, JS_ASSERT + "assert.strictEqual(countVowels('banana'), 3);\n", ""),
        "js_fork_bomb": (
            "JavaScript",
            "const cp = require('child_process');\nfunction grow(n) {\n  while (n > 0) {\n    cp.fork('x.js');\n  }\n"
            "  return n + 1;\n}\n",
            JS_ASSERT + "assert.strictEqual(grow(1), 2);\n",
            "",
        ),
        "js_socket": (
            "JavaScript",
            "function add5(n) {\n  return n + 5;\n}\n",
            JS_ASSERT + f"require('net').connect({port}, '127.0.0.1');\nassert.strictEqual(add5(1), 6);\n",
            "",
        ),
        "js_writes_outside": (
            "JavaScript",
            "function add6(n) {\n  return n + 6;\n}\n",
            JS_ASSERT + f"require('fs').writeFileSync({outside + '/escaped-js.txt'!r}, 'x');\n"
            "assert.strictEqual(add6(1), 7);\n",
            "",
        ),
    }
    made = {
        name: {"instruction": f"Task {name}.", "solution": code, "language": lang, "test": test, "entry_point": entry}
        for name, (lang, code, test, entry) in rows.items()
    }
    instruction, solution, test = GRADE
    made["grade"] = {
        "instruction": instruction,
        "solution": solution,
        "language": "Python",
        "test": test,
        "entry_point": "letter_grade",
    }
    return made


def reject_rows(out) -> dict[str, dict]:
    folder = next(glob.glob(str(out / "rejects" / "*_verify_by_execution")).__iter__())
    rows = [row for path in sorted(glob.glob(f"{folder}/*.parquet")) for row in pq.read_table(path).to_pylist()]
    return {row["record_id"]: row for row in rows}


@pytest.fixture(scope="module")
def verified_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("execution")
    outside = tmp / "outside"
    outside.mkdir()
    listener = Listener()
    try:
        rows = tasks(listener.port, str(outside))
        source = tmp / "tasks.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in rows.values()))
        argv = [sys.executable, "-m", "pipelines.cli", "mutate", "--input", str(source), "--out", str(tmp / "out")]
        argv += ["--test-column", "test", "--entry-point-column", "entry_point", "--test-timeout", "3"]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    finally:
        listener.close()
    assert done.returncode == 0, done.stderr
    ids = {name: record_id(row["instruction"], row["solution"]) for name, row in rows.items()}
    return {"out": tmp / "out", "rows": rows, "ids": ids, "outside": outside, "listener": listener}


def test_the_funnel_has_the_execution_stage_and_holds(verified_run):
    manifest = json.loads((verified_run["out"] / "manifest.json").read_text())
    assert check_conservation(manifest) == [] and check_flow(manifest) == []
    stages = {s["name"]: s for s in manifest["stages"]}
    assert list(stages)[:4] == ["read_instructions", "mutate", "bugged_syntax_filter", "verify_by_execution"]
    verify = stages["verify_by_execution"]
    assert verify["in"] == 14
    assert verify["rejected"] == {"equivalent_mutant": 1, "solution_fails_tests": 8}
    assert verify["out"] == 5


def test_each_hostile_or_broken_row_is_rejected_with_its_cause(verified_run):
    rejects, ids = reject_rows(verified_run["out"]), verified_run["ids"]
    fails = ("fails", "endless", "fork_bomb", "socket", "writes_outside", "js_fork_bomb", "js_socket")
    for name in (*fails, "js_writes_outside"):
        assert rejects[ids[name]]["reason"] == "solution_fails_tests", name
    assert rejects[ids["equivalent"]]["reason"] == "equivalent_mutant"
    assert rejects[ids["fails"]]["detail"].startswith("assertion")
    assert rejects[ids["endless"]]["detail"].startswith("timeout")
    assert "fork" in rejects[ids["fork_bomb"]]["detail"]
    assert rejects[ids["js_fork_bomb"]]["detail"].startswith("error")
    tried = json.loads(rejects[ids["equivalent"]]["payload"])["tried"]
    assert tried and all(t["operator"] for t in tried)


def test_nothing_escaped_the_sandbox(verified_run):
    assert verified_run["listener"].accepted == 0
    assert list(verified_run["outside"].iterdir()) == []


def test_every_kept_pair_has_a_solution_that_passes_and_a_bug_that_fails(verified_run):
    rows = [
        r
        for p in sorted(glob.glob(str(verified_run["out"] / "data" / "*.parquet")))
        for r in pq.read_table(p).to_pylist()
    ]
    by_id = {row["idx"]: row for row in rows}
    ids, tasks_by_name = verified_run["ids"], verified_run["rows"]
    kept = ("add", "largest", "clamp", "vowels", "grade")
    assert set(by_id) == {ids[name] for name in kept}
    isolation, limits = probe_isolation(), Limits(timeout_s=5, cpu_s=5)
    for name in kept:
        row, task = by_id[ids[name]], tasks_by_name[name]
        language = task["language"]
        details = json.loads(row["label_details"])
        execution, mutation = details["execution"], details["mutation"]
        assert execution["killed_by"] in {"assertion", "error", "timeout"} and execution["phase"] == "test"
        assert 1 <= execution["attempts"] <= 8
        assert mutation["after"] in row["rejected"] and row["rejected"] != row["chosen"]
        entry = task["entry_point"]
        assert run_tests(language, row["chosen"], task["test"], entry, limits, isolation).outcome == "passed"
        assert run_tests(language, row["rejected"], task["test"], entry, limits, isolation).outcome != "passed"
    clamp = json.loads(by_id[ids["clamp"]]["label_details"])["execution"]
    assert clamp["mutated_line_covered"] is True  # the raise branch, never run by the tests, is tried last
    grade = json.loads(by_id[ids["grade"]]["label_details"])["execution"]
    assert grade["attempts"] > 1  # the first mutants survived and were replaced by one the tests catch


def test_the_manifest_reports_kill_rates(verified_run):
    execution = json.loads((verified_run["out"] / "manifest.json").read_text())["execution"]
    assert execution["verified"] is True
    assert execution["isolation"] in {"namespaces", "guards only"}
    totals = execution["totals"]
    assert totals["killed"] == 5 and totals["tried"] == totals["killed"] + totals["survived"]
    assert totals["survived"] >= 1  # the equivalent task's mutants
    languages = {row["language"] for row in execution["kill_rates"]}
    assert languages == {"Python", "JavaScript"}
    for row in execution["kill_rates"]:
        assert row["tried"] == row["killed"] + row["survived"] == row["killed"] + row["tried"] - row["killed"]
        assert sum(row["killed_by"].values()) == row["killed"]


def test_without_a_test_column_nothing_is_executed(tmp_path):
    source = tmp_path / "tasks.jsonl"
    row = {"instruction": "Add.", "solution": "def add(a, b):\n    return a + b\n", "language": "Python"}
    source.write_text(json.dumps(row) + "\n")
    argv = [sys.executable, "-m", "pipelines.cli", "mutate", "--input", str(source), "--out", str(tmp_path / "out")]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "verify_by_execution" not in [s["name"] for s in manifest["stages"]]
    assert "execution" not in manifest


def test_llm_planted_bugs_go_through_the_same_verification(tmp_path):
    import re

    import yaml

    from tests.transforms.llm.chat_server import ChatServer

    def plant_bug(body, digest):
        fences = re.findall(r"(`{3,})[^\n]*\n(.*?)\n\1", body["messages"][-1]["content"], re.DOTALL)
        solution = fences[-1][1] + "\n"
        if "a + b" in solution:  # a commutative swap: no bug at all, the tests must catch that
            return json.dumps({"buggy_code": solution.replace("a + b", "b + a"), "bug_explanation": "swapped"})
        return json.dumps({"buggy_code": solution.replace("x > best", "x < best"), "bug_explanation": "flipped"})

    rows = [
        {"instruction": "Add.", "solution": "def add(a, b):\n    total = a + b\n    return total\n", "test": CHECK_ADD},
        {"instruction": "Largest.", "solution": LARGEST, "test": "assert largest([1, 5, 3]) == 5\n"},
    ]
    source = tmp_path / "tasks.jsonl"
    source.write_text("".join(json.dumps({**row, "language": "Python", "fn": "add"}) + "\n" for row in rows))
    with ChatServer(answer=plant_bug) as server:
        config = tmp_path / "llm.yaml"
        endpoint = {"name": "fake", "base_url": server.base_url, "model": "fake", "output_mode": "json_schema"}
        config.write_text(yaml.safe_dump({"endpoints": [endpoint], "cache": str(tmp_path / "cache.sqlite")}))
        argv = [sys.executable, "-m", "pipelines.cli", "mutate", "--input", str(source), "--out", str(tmp_path / "out")]
        argv += ["--llm", "--llm-config", str(config), "--test-column", "test", "--entry-point-column", "fn"]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert check_conservation(manifest) == [] and check_flow(manifest) == []
    verify = {s["name"]: s for s in manifest["stages"]}["verify_by_execution"]
    assert verify == {"name": "verify_by_execution", "in": 2, "out": 1, "rejected": {"equivalent_mutant": 1}}
    rates = manifest["execution"]["kill_rates"]
    assert rates == [
        {
            "language": "Python",
            "operator": "llm_bug",
            "tried": 2,
            "killed": 1,
            "survived": 1,
            "killed_by": {"assertion": 1, "error": 0, "timeout": 0},
        }
    ]
    (kept,) = [r for p in glob.glob(str(tmp_path / "out" / "data" / "*.parquet")) for r in pq.read_table(p).to_pylist()]
    details = json.loads(kept["label_details"])
    assert "x < best" in kept["rejected"] and details["execution"] == {**details["execution"], "attempts": 1}
    assert details["bug_introduction"]["explanation"] == "flipped"
