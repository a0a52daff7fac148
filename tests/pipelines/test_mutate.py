"""`codepref mutate` end to end on the demo's instruction set (real tree-sitter, no LLM)."""

import json
import subprocess
import sys

import datasets

from transforms.code.parsing import parse_code
from transforms.manifest import check_conservation


INSTRUCTIONS = "pipelines/demo/instructions.jsonl"


def run(*args):
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "mutate", *args], capture_output=True, text=True,
                          check=False)  # fmt: skip
    return done


def test_mutate_demo_instructions(tmp_path):
    (tmp_path / "extra.jsonl").write_text('{"instruction": "x", "solution": "}}} (((", "language": "Go"}\n{bad\n')
    done = run("--input", INSTRUCTIONS, "--input", str(tmp_path / "extra.jsonl"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert check_conservation(manifest) == []
    stages = {s["name"]: s for s in manifest["stages"]}
    assert list(stages) == ["read_instructions", "mutate", "bugged_syntax_filter"]
    assert stages["read_instructions"] == {"name": "read_instructions", "in": 18, "out": 17,
                                           "rejected": {"malformed_json": 1}}  # fmt: skip
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
