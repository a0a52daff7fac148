"""`codepref label` end to end against a local fake endpoint that misbehaves.

The real-model run is in test_label_real.py; here the endpoint is deterministic,
so runs can be compared byte for byte.
"""

import glob
import json
import os
import pathlib
import re
import signal
import sqlite3
import subprocess
import sys
import time

import datasets
import pytest
import yaml

from schemas.labels import ASPECTS
from tests.transforms.llm.chat_server import ChatServer
from transforms.manifest import check_conservation


STAGES = [
    "mine_git",
    "tag_criteria",
    "content_exact_dedup",
    "content_near_dedup",
    "function_pairs",
    "syntax_filter",
    "sample_pairs",
    "rate_commits",
    "synthesize_instruction",
    "judge_pairs",
    "length_filter",
    "language_filter",
    "secret_scan",
    "exact_dedup",
    "near_dedup",
    "decontaminate",
]


def write_config(path, base_url, cache, concurrency=4, **extra):
    config = {
        "endpoints": [
            {
                "name": "fake",
                "base_url": base_url,
                "model": "fake-model",
                "output_mode": "json_object_schema",
                "timeout_s": 1.0,
                "max_attempts": 8,
                "backoff_base_s": 0.01,
                "backoff_max_s": 0.05,
                "max_concurrency": concurrency,
            }
        ],
        "cache": str(cache),
        "judging": {"samples": 4, "min_matches": 2, "max_contradictions": 2},
    }
    config.update(extra)
    path.write_text(yaml.safe_dump(config))
    return str(path)


def label_args(repo, config, out):
    return [sys.executable, "-m", "pipelines.cli", "label", "--repo", repo, "--llm-config", config, "--out", str(out)]


def run_label(repo, config, out):
    done = subprocess.run(label_args(repo, config, out), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with open(os.path.join(out, "manifest.json")) as f:
        return json.load(f)


def files(out):
    found = {}
    for path in sorted(glob.glob(f"{out}/**/*.parquet", recursive=True)):
        with open(path, "rb") as f:
            found[os.path.relpath(path, out)] = f.read()
    return found


@pytest.fixture(scope="module")
def faulty_run(hostile_repo, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("label")
    with ChatServer(fault_rate=0.3, hang_s=1.5) as server:
        config = write_config(tmp / "llm.yaml", server.base_url, tmp / "cache.sqlite")
        first = run_label(hostile_repo[0], config, tmp / "out")
        first_files = files(tmp / "out")
        answered_once = list(server.answered)
        second = run_label(hostile_repo[0], config, tmp / "out")
        yield {
            "first": first,
            "second": second,
            "server": server,
            "answered": answered_once,
            "out": tmp / "out",
            "first_files": first_files,
        }


def test_every_pair_is_labelled_or_rejected(faulty_run):
    manifest = faulty_run["first"]
    assert check_conservation(manifest) == []
    stages = {s["name"]: s for s in manifest["stages"]}
    assert list(stages) == STAGES
    assert stages["sample_pairs"]["in"] >= stages["content_near_dedup"]["out"] > 0
    assert stages["rate_commits"]["in"] == stages["sample_pairs"]["out"] == stages["sample_pairs"]["in"]
    assert stages["synthesize_instruction"]["in"] == stages["rate_commits"]["out"]
    assert stages["judge_pairs"]["in"] == stages["synthesize_instruction"]["out"]
    assert stages["length_filter"]["in"] == stages["judge_pairs"]["out"] > 0
    assert sum(o["rows"] for o in manifest["outputs"].values()) == stages["decontaminate"]["out"]
    assert sum(faulty_run["server"].faults.values()) > 0
    llm = manifest["llm"]
    assert set(llm) == {"rate_commits", "synthesize_instruction", "judge_pairs"}
    assert sum(s["retries"] for s in llm.values()) > 0
    assert llm["judge_pairs"]["prompt_tokens"] > 0


def test_no_request_is_answered_twice(faulty_run):
    answered = faulty_run["answered"]
    assert answered and len(answered) == len(set(answered))


def test_rerun_sends_nothing_and_gives_identical_rows(faulty_run):
    llm = faulty_run["second"]["llm"]
    assert sum(s["requests_sent"] for s in llm.values()) == 0
    assert sum(s["cache_hits"] for s in llm.values()) > 0
    assert files(faulty_run["out"]) == faulty_run["first_files"]


def test_pairs_have_the_preference_schema(faulty_run):
    ds = datasets.load_dataset("parquet", data_files=str(faulty_run["out"] / "data" / "*.parquet"), split="train")
    assert ds.features["aspect"].names == list(ASPECTS)
    for row in ds:
        assert row["input"].startswith("text ") and row["chosen"] != row["rejected"]
        assert row["source"] == "commits" and row["origin_commit"] and row["license"] == "mit"
        assert row["judge_matches"] + row["judge_contradictions"] + row["judge_ties"] + row["judge_errors"] == 4
        votes = json.loads(row["label_details"])["judge"]["votes"]
        assert [v["chosen_first"] for v in votes] == [True, False, True, False]
        assert row["rating_mean"] == 5.0 and row["config_id"] == faulty_run["first"]["config_id"]


def cached_digests(cache_path):
    with sqlite3.connect(cache_path) as db:
        texts = [json.loads(v)["text"] or "" for (v,) in db.execute("select value from responses")]
    return {digest for text in texts for digest in re.findall(r"\b[0-9a-f]{16}\b", text)}


def kill_midway(args, server, answered=12):
    """Runs a pipeline command and kills its process group once the server has answered `answered` requests."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 900
    while len(server.answered) < answered and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_kill_and_resume(hostile_repo, tmp_path):
    with ChatServer(delay_s=0.2) as server:  # ~70 requests one at a time: the kill lands midway
        config = write_config(tmp_path / "llm.yaml", server.base_url, tmp_path / "cache.sqlite", concurrency=1)
        kill_midway(label_args(hostile_repo[0], config, tmp_path / "out"), server)
        assert not (tmp_path / "out" / "manifest.json").exists()
        persisted = cached_digests(tmp_path / "cache.sqlite")
        assert persisted
        before = len(server.answered)
        resumed = run_label(hostile_repo[0], config, tmp_path / "out")
        again = set(server.answered[before:])
    assert again and again.isdisjoint(persisted)
    with ChatServer() as fresh:
        clean = write_config(tmp_path / "clean.yaml", fresh.base_url, tmp_path / "clean.sqlite")
        uninterrupted = run_label(hostile_repo[0], clean, tmp_path / "clean-out")
    assert files(tmp_path / "out") == files(tmp_path / "clean-out")
    assert resumed["stages"] == uninterrupted["stages"]


def test_batch_export_rounds(hostile_repo, tmp_path):
    """Export → (answers into the cache, as `batch collect` does) → export again."""
    from tests.transforms.llm.chat_server import body_hash, default_answer
    from transforms.llm.cache import open_cache

    config = write_config(tmp_path / "llm.yaml", "http://127.0.0.1:9/v1", tmp_path / "cache.sqlite")
    export = [sys.executable, "-m", "pipelines.cli", "batch", "export"]
    args = [*export, "--repo", hostile_repo[0], "--llm-config", config, "--out", str(tmp_path / "out")]
    rounds = []
    for _ in range(4):
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
        assert check_conservation(manifest) == []
        paths = sorted(glob.glob(str(tmp_path / "out" / "batch" / "*.jsonl")))
        lines = [json.loads(line) for path in paths for line in pathlib.Path(path).read_text().splitlines()]
        rounds.append((len(lines), manifest))
        answers = {}
        for line in lines:
            assert line["url"] == "/v1/chat/completions" and line["method"] == "POST"
            text = default_answer(line["body"], body_hash(line["body"]))
            answers[line["custom_id"]] = {
                "text": text,
                "error": None,
                "detail": "",
                "prompt_tokens": 1,
                "completion_tokens": 1,
            }
        cache = open_cache(str(tmp_path / "cache.sqlite"))
        cache.put_many(answers)
        cache.close()
    stages = [{s["name"]: s for s in m["stages"]} for _, m in rounds]
    pairs = stages[0]["rate_commits"]["in"]
    assert rounds[0][0] == pairs and stages[0]["rate_commits"]["rejected"] == {"awaiting_batch": pairs}
    assert rounds[1][0] == pairs and stages[1]["synthesize_instruction"]["rejected"] == {"awaiting_batch": pairs}
    assert rounds[2][0] == 4 * pairs and stages[2]["judge_pairs"]["rejected"] == {"awaiting_batch": pairs}
    assert rounds[3][0] == 0 and stages[3]["judge_pairs"]["out"] == pairs
    assert sum(s["requests_sent"] for s in rounds[3][1]["llm"].values()) == 0
