"""The test-column settings: flags and build-config keys, their errors, ids, and a build that runs them."""

import json
import subprocess
import sys

import pytest
import yaml

from pipelines import build, label
from schemas.build import BuildConfig, InstructionSource, load_build_config
from tests.conftest import cli_error


TASKS = [
    {
        "instruction": "Add two numbers.",
        "solution": "def add(a, b):\n    total = a + b\n    return total\n",
        "language": "Python",
        "tests": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
        "fn": "add",
    },
    {
        "instruction": "Claims to double but triples.",
        "solution": "def double(x):\n    return x * 3\n",
        "language": "Python",
        "tests": "assert double(2) == 4\n",
        "fn": "",
    },
]


def write_tasks(path):
    path.write_text("".join(json.dumps(row) + "\n" for row in TASKS))
    return path


def test_entry_point_without_tests_is_a_usage_error(tmp_path, capsys):
    source = str(write_tasks(tmp_path / "t.jsonl"))
    out = str(tmp_path / "out")
    status, err = cli_error(["mutate", "--input", source, "--out", out, "--entry-point-column", "fn"], capsys)
    assert status == 2 and "entry_point_column needs test_column" in err
    status, err = cli_error(
        ["mutate", "--input", source, "--out", out, "--test-column", "t", "--max-attempts", "0"], capsys
    )
    assert status == 2 and "--max-attempts" in err


def test_tests_without_an_instruction_set_are_a_usage_error(tmp_path, capsys):
    (tmp_path / "x.jsonl").write_text("")
    llm = tmp_path / "llm.yaml"
    llm.write_text(yaml.safe_dump({"endpoints": [{"name": "a", "base_url": "http://127.0.0.1:9/v1", "model": "m"}]}))
    argv = ["label", "--commits-file", str(tmp_path / "x.jsonl"), "--llm-config", str(llm), "--test-column", "t"]
    status, err = cli_error([*argv, "--out", str(tmp_path / "out")], capsys)
    assert status == 2 and "--test-column and --entry-point-column need an instruction set" in err


def test_the_execution_settings_count_in_the_ids_only_with_tests():
    plain = BuildConfig.model_validate({"sources": {"instructions": {"files": ["x.jsonl"]}}})
    tested = BuildConfig.model_validate(
        {"sources": {"instructions": {"files": ["x.jsonl"], "test_column": "t", "execution": {"max_attempts": 4}}}}
    )
    more = BuildConfig.model_validate(
        {"sources": {"instructions": {"files": ["x.jsonl"], "test_column": "t", "execution": {"max_attempts": 5}}}}
    )
    assert "test_column" not in plain.model_dump()["sources"]["instructions"]
    assert tested.model_dump()["sources"]["instructions"]["execution"]["max_attempts"] == 4
    ids = {build.build_config_id(cfg) for cfg in (plain, tested, more)}
    assert len(ids) == 3
    assert label.execution_config(plain.sources.instructions) is None
    assert label.execution_config(tested.sources.instructions).max_attempts == 4
    with pytest.raises(ValueError, match="entry_point_column needs test_column"):
        InstructionSource(files=("x",), entry_point_column="fn")


def test_a_build_config_with_a_test_column_verifies_its_pairs(tmp_path):
    write_tasks(tmp_path / "tasks.jsonl")
    config = {
        "sources": {
            "instructions": {
                "files": ["tasks.jsonl"],
                "test_column": "tests",
                "entry_point_column": "fn",
                "execution": {"max_attempts": 3, "timeout_s": 5},
            }
        }
    }
    path = tmp_path / "build.yaml"
    path.write_text(yaml.safe_dump(config))
    assert load_build_config(str(path)).sources.instructions.test_column == "tests"
    argv = [sys.executable, "-m", "pipelines.cli", "build", "--config", str(path), "--out", str(tmp_path / "out")]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    verify = {s["name"]: s for s in manifest["stages"]}["verify_by_execution"]
    assert verify["in"] == 2 and verify["out"] == 1 and verify["rejected"] == {"solution_fails_tests": 1}
    assert manifest["execution"]["totals"]["killed"] == 1
