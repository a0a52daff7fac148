"""`codepref label` end to end against the real local server (SmolLM2-135M on llama.cpp).

Small on purpose (3 short pairs, 12 requests): the model is slow on 2 cores.
Its answers are often poor; what must hold is that they parse in structured mode
or are counted as unparseable, that every pair is labelled or rejected with a
reason, and that a re-run is served from the cache.
"""

import glob
import json
import os
import subprocess
import sys

import datasets
import pytest
import yaml

from pipelines.git_history import GitHistory
from pipelines.llm_server import start_server
from tests.conftest import MIT
from transforms.manifest import check_conservation


@pytest.fixture(scope="module")
def local_llm(tmp_path_factory):
    server = start_server(log=str(tmp_path_factory.mktemp("llm") / "server.log"))
    yield server
    server.stop()


SMALL = {  # short files: prompt processing runs at ~200 tokens/s on 2 cores
    "util/find.py": (
        "def has(items, x):\n    for i in items:\n        if i == x:\n            return True\n    return False\n",
        "def has(items, x):\n    return x in set(items)\n",
        "Speed up membership test with a set",
    ),
    "util/avg.go": (
        "func Avg(xs []int) int {\n\treturn Sum(xs) / len(xs)\n}\n",
        "func Avg(xs []int) int {\n\tif len(xs) == 0 {\n\t\treturn 0\n\t}\n\treturn Sum(xs) / len(xs)\n}\n",
        "Fix division by zero on empty input",
    ),
    "web/render.js": (
        "function render(name) {\n  el.innerHTML = '<b>' + name + '</b>';\n}\n",
        "function render(name) {\n  el.textContent = name;\n}\n",
        "Prevent XSS when rendering names",
    ),
}


@pytest.fixture(scope="module")
def small_repo(tmp_path_factory):
    h = GitHistory()
    h.commit("Import the services", {"LICENSE": MIT})
    for path, (before, _, _) in SMALL.items():
        h.commit(f"Add {path} to the tree", {path: before})
    for path, (_, after, message) in SMALL.items():
        h.commit(message, {path: after})
    return h.write(str(tmp_path_factory.mktemp("repo") / "small"))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def run(repo, config, out):
    args = [sys.executable, "-m", "pipelines.cli", "label", "--repo", repo, "--llm-config", config, "--out", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with open(os.path.join(out, "manifest.json")) as f:
        return json.load(f)


def test_label_against_the_local_model(local_llm, small_repo, tmp_path):
    config = tmp_path / "llm.yaml"
    endpoint = {
        "name": "local",
        "base_url": local_llm.base_url,
        "model": local_llm.model,
        "output_mode": "json_object_schema",
        "max_concurrency": 2,
        "timeout_s": 180,
    }
    settings = {
        "endpoints": [endpoint],
        "cache": str(tmp_path / "cache.sqlite"),
        "rating": {"min_mean": 1, "min_each": 1},
        "judging": {"samples": 2, "min_matches": 0, "max_contradictions": 2, "max_errors": 2},
        "rating_max_tokens": 64,
        "instruction_max_tokens": 96,
        "judge_max_tokens": 96,
    }
    config.write_text(yaml.safe_dump(settings))
    first = run(small_repo, str(config), tmp_path / "out")
    assert check_conservation(first) == []
    stages = {s["name"]: s for s in first["stages"]}
    assert stages["rate_commits"]["in"] >= 3
    llm = first["llm"]
    sent = sum(s["requests_sent"] for s in llm.values())
    assert 0 < sent <= 20 and sum(s["completion_tokens"] for s in llm.values()) > 0
    assert all(s["errors"] == {} for s in llm.values())
    # every rejected pair has a reason, and the reasons are the stages' own
    allowed = {"rating_unparseable", "low_rating", "instruction_unparseable", "judge_unparseable", "judge_disagrees"}
    for name in ("rate_commits", "synthesize_instruction", "judge_pairs"):
        assert set(stages[name]["rejected"]) <= allowed, stages[name]
    data = sorted(glob.glob(str(tmp_path / "out" / "data" / "*.parquet")))
    before = {p: read(p) for p in data}
    ds = datasets.load_dataset("parquet", data_files=data, split="train")
    assert ds.num_rows == stages["decontaminate"]["out"]
    assert stages["length_filter"]["in"] == stages["judge_pairs"]["out"]
    for row in ds:
        assert row["input"].strip() and row["judge_matches"] + row["judge_contradictions"] + row["judge_ties"] == 2
    second = run(small_repo, str(config), tmp_path / "out")
    assert sum(s["requests_sent"] for s in second["llm"].values()) == 0
    assert {p: read(p) for p in data} == before
