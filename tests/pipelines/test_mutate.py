"""`codepref mutate` end to end on the demo's instruction set (real tree-sitter, no LLM)."""

import json
import subprocess
import sys

import datasets

from transforms.code.parsing import parse_code
from transforms.manifest import check_conservation


INSTRUCTIONS = "pipelines/demo/instructions.jsonl"


def run(*args):
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "mutate", *args], capture_output=True, text=True, check=False
    )
    return done


def test_mutate_demo_instructions(tmp_path):
    (tmp_path / "extra.jsonl").write_text('{"instruction": "x", "solution": "}}} (((", "language": "Go"}\n{bad\n')
    done = run("--input", INSTRUCTIONS, "--input", str(tmp_path / "extra.jsonl"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert check_conservation(manifest) == []
    stages = {s["name"]: s for s in manifest["stages"]}
    assert list(stages) == [
        "read_instructions",
        "mutate",
        "bugged_syntax_filter",
        "length_filter",
        "language_filter",
        "secret_scan",
        "exact_dedup",
        "near_dedup",
        "decontaminate",
    ]
    assert set(manifest["outputs"]) == {"train", "validation"}
    assert stages["read_instructions"] == {
        "name": "read_instructions",
        "in": 18,
        "out": 17,
        "rejected": {"malformed_json": 1},
    }
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "out" / "data" / "*.parquet"), split="train")
    assert ds.num_rows >= 14
    languages = {ds.features["language"].int2str(x) for x in ds["language"]}
    assert languages == {"C", "C#", "C++", "Go", "Java", "JavaScript", "Python", "Ruby"}
    operators = set()
    for row in ds:
        language = ds.features["language"].int2str(row["language"])
        assert ds.features["aspect"].int2str(row["aspect"]) == "Functional Correctness"
        assert row["source"] == "bugged_instruct" and row["chosen"] != row["rejected"]
        assert not parse_code(row["rejected"], language)[1].has_error
        mutation = json.loads(row["label_details"])["mutation"]
        operators.add(mutation["operator"])
        assert mutation["before"] in row["chosen"]
    assert len(operators) >= 4
    again = run("--input", INSTRUCTIONS, "--input", str(tmp_path / "extra.jsonl"), "--out", str(tmp_path / "out2"))
    assert again.returncode == 0
    first = sorted((tmp_path / "out" / "data").glob("*.parquet"))
    second = sorted((tmp_path / "out2" / "data").glob("*.parquet"))
    assert [f.read_bytes() for f in first] == [f.read_bytes() for f in second]


def test_mutate_clear_errors(tmp_path):
    bad = run("--input", INSTRUCTIONS, "--out", str(tmp_path / "o"), "--operators", "flip_everything")
    assert bad.returncode == 2 and "unknown flip_everything" in bad.stderr
    llm = run("--input", INSTRUCTIONS, "--out", str(tmp_path / "o"), "--llm")
    assert llm.returncode == 2 and "--llm-config" in llm.stderr
    missing = run("--input", str(tmp_path / "none*.jsonl"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and "matched no file" in missing.stderr


def test_mutate_with_llm_bug_introduction(tmp_path):
    import re

    import yaml

    from tests.transforms.llm.chat_server import ChatServer

    def plant_bug(body, digest):
        fences = re.findall(r"(`{3,})[^\n]*\n(.*?)\n\1", body["messages"][-1]["content"], re.DOTALL)
        solution = fences[-1][1] + "\n"
        buggy = solution.replace(" < ", " > ", 1) if " < " in solution else solution
        return json.dumps({"buggy_code": buggy, "bug_explanation": f"flipped a comparison {digest}"})

    with ChatServer(answer=plant_bug) as server:
        config = tmp_path / "llm.yaml"
        endpoint = {"name": "fake", "base_url": server.base_url, "model": "fake", "output_mode": "json_schema"}
        config.write_text(yaml.safe_dump({"endpoints": [endpoint], "cache": str(tmp_path / "cache.sqlite")}))
        done = run("--input", INSTRUCTIONS, "--out", str(tmp_path / "out"), "--llm", "--llm-config", str(config))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert check_conservation(manifest) == []
    stage = {s["name"]: s for s in manifest["stages"]}["introduce_bug"]
    assert stage["in"] == 16 and stage["out"] >= 6
    assert set(stage["rejected"]) <= {"bug_no_difference"}
    assert manifest["llm"]["introduce_bug"]["requests_sent"] == 16
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "out" / "data" / "*.parquet"), split="train")
    for row in ds:
        assert row["rejected"] == row["chosen"].replace(" < ", " > ", 1)
        assert json.loads(row["label_details"])["bug_introduction"]["explanation"].startswith("flipped")


def test_an_input_that_matches_nothing_is_named_by_its_flag(tmp_path, capsys):
    from tests.conftest import cli_error

    pattern = str(tmp_path / "none*.jsonl")
    status, err = cli_error(["mutate", "--input", pattern, "--out", str(tmp_path / "out")], capsys)
    assert status == 2
    assert err == f"codepref mutate: error: --input {pattern}: matched no file\n"
    status, err = cli_error(["mutate", "--out", str(tmp_path / "out")], capsys)
    assert status == 2
    assert err == "codepref mutate: error: nothing to read: pass --input GLOB\n"
