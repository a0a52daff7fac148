"""`codepref label` and `build` against an endpoint whose answers are malformed, or that refuses the key.

The fake endpoint (tests/transforms/llm/chat_server.py) injects each fault on
purpose, so the test knows which request got which fault and how often it was
tried, and checks the manifest against that.
"""

import collections
import json
import os
import sqlite3
import subprocess
import sys

import yaml

from tests.pipelines.test_build import commit_config, run_build
from tests.pipelines.test_label import label_args, write_config
from tests.transforms.llm.chat_server import ENVELOPE_FAULTS, ChatServer
from transforms.manifest import check_conservation


ENVELOPE_REASONS = ("malformed_no_choices", "malformed_no_message", "malformed_no_content", "malformed_not_json")
KINDS = dict(zip(ENVELOPE_FAULTS, ENVELOPE_REASONS, strict=True))
LLM_STAGES = ("rate_commits", "synthesize_instruction", "judge_pairs")
KEY_ENV = "CODEPREF_LABEL_FAULTS_KEY"
RIGHT_KEY = "sk-right-label-key-0123456789abcdef"
WRONG_KEY = "sk-wrong-label-key-9876543210fedcba"


def stage_of(body):
    schema = body["response_format"]["schema"]["properties"]
    return next(s for s, field in zip(LLM_STAGES, ("rating", "instruction", "verdict"), strict=True) if field in schema)


def config_with(path, base_url, cache, **changes):
    """The fake endpoint's label config (tests/pipelines/test_label.py) with endpoint fields or settings changed."""
    endpoint_fields = {k: changes.pop(k) for k in ("max_attempts", "api_key_env", "model") if k in changes}
    write_config(path, base_url, cache, **changes)
    config = yaml.safe_load(path.read_text())
    config["endpoints"][0].update(endpoint_fields)
    path.write_text(yaml.safe_dump(config))
    return str(path)


def label(repo, config, out, *beam_args, env=None):
    return subprocess.run(
        [*label_args(repo, config, out), *beam_args], capture_output=True, text=True, check=False, env=env
    )


def read_manifest(out):
    with open(os.path.join(out, "manifest.json")) as f:
        return json.load(f)


def cached_values(path):
    if not os.path.exists(path):
        return []
    with sqlite3.connect(path) as db:
        return [json.loads(v) for (v,) in db.execute("select value from responses")]


def test_malformed_envelopes_are_counted_by_kind_retried_and_the_llm_error_share_sets_the_exit(hostile_repo, tmp_path):
    stages = {}

    def fault_for(body, digest, attempt):
        stages[digest] = stage_of(body)
        n = int(digest, 16)
        if n % 5 < 4:  # four in five requests never get an answer
            return ENVELOPE_FAULTS[n % 5]
        return ENVELOPE_FAULTS[n // 5 % 4] if attempt == 0 else None  # the others get one on the second try

    with ChatServer(fault_for=fault_for) as server:
        config = config_with(tmp_path / "llm.yaml", server.base_url, tmp_path / "c.sqlite", max_attempts=3)
        done = label(hostile_repo[0], config, tmp_path / "out")
        first, attempts = read_manifest(tmp_path / "out"), dict(server.attempts)  # written before the failure
        never = {d for d in attempts if int(d, 16) % 5 < 4}
        assert all(attempts[d] == 3 for d in never)  # max_attempts tries, then an llm_error
        assert all(attempts[d] == 2 for d in set(attempts) - never)  # retried once, then answered

        def kinds_of(stage):
            counts = collections.Counter(KINDS[ENVELOPE_FAULTS[int(d, 16) % 5]] for d in never if stages[d] == stage)
            return dict(sorted(counts.items()))

        expected = {s: kinds_of(s) for s in LLM_STAGES}
        assert {s: first["llm"][s]["errors"] for s in LLM_STAGES} == expected
        for s in LLM_STAGES:
            sent = [attempts[d] for d in attempts if stages[d] == s]
            assert (first["llm"][s]["requests_sent"], first["llm"][s]["retries"]) == (sum(sent), sum(sent) - len(sent))
        assert check_conservation(first) == []
        rate = next(s for s in first["stages"] if s["name"] == "rate_commits")
        assert rate["rejected"]["llm_error"] == sum(expected["rate_commits"].values())  # one request per pair
        assert rate["rejected"]["llm_error"] / rate["in"] > 0.5  # (the share this fixture gives)
        assert done.returncode == 4, done.stderr
        assert "rate_commits: " in done.stderr and "over max_llm_error_share 0.5" in done.stderr
        assert "Traceback" not in done.stderr
        assert all(v["error"] is None and v["text"] for v in cached_values(tmp_path / "c.sqlite"))

        # The share is configurable; at (or under) it the run succeeds. Nothing malformed was cached: all is re-sent.
        tolerant = config_with(
            tmp_path / "tolerant.yaml", server.base_url, tmp_path / "c.sqlite", max_attempts=3, max_llm_error_share=1.0
        )
        again = label(hostile_repo[0], tolerant, tmp_path / "out")
        assert again.returncode == 0, again.stderr
        second = read_manifest(tmp_path / "out")
        assert all(server.attempts[d] == 6 for d in never)
    assert second["stages"] == first["stages"]
    assert {s: second["llm"][s]["errors"] for s in LLM_STAGES} == expected


def test_a_wrong_key_stops_the_run_early_with_a_clear_message_and_poisons_nothing(hostile_repo, tmp_path):
    with ChatServer(api_key=RIGHT_KEY) as server:
        config = config_with(tmp_path / "llm.yaml", server.base_url, tmp_path / "c.sqlite", api_key_env=KEY_ENV)
        wrong = {**os.environ, KEY_ENV: WRONG_KEY}
        two_processes = ("--direct_num_workers=2", "--direct_running_mode=multi_processing")
        done = label(hostile_repo[0], config, tmp_path / "out", *two_processes, env=wrong)
        assert done.returncode == 3, done.stderr[-3000:]
        assert (
            done.stderr.splitlines()[-1] == f"codepref label: error: endpoint fake: 401 Unauthorized: check {KEY_ENV}"
        )
        assert WRONG_KEY not in done.stderr and RIGHT_KEY not in done.stderr
        assert not (tmp_path / "out" / "manifest.json").exists()
        refused = sum(server.attempts.values())
        assert 1 <= refused <= 8  # stopped at once: at most what the two workers had in flight
        assert all(v["error"] is None for v in cached_values(tmp_path / "c.sqlite"))

        fixed = label(hostile_repo[0], config, tmp_path / "out", env={**os.environ, KEY_ENV: RIGHT_KEY})
        assert fixed.returncode == 0, fixed.stderr
    manifest = read_manifest(tmp_path / "out")
    sent = sum(manifest["llm"][s]["requests_sent"] for s in LLM_STAGES)
    assert sent == sum(server.attempts.values()) - refused and sent > refused
    assert all("llm_error" not in s["rejected"] for s in manifest["stages"])
    assert sum(o["rows"] for o in manifest["outputs"].values()) > 0


def test_an_unknown_model_stops_a_build_with_a_clear_message(hostile_repo, tmp_path):
    with ChatServer(fault_for=lambda body, digest, attempt: "model_not_found") as server:
        llm = config_with(tmp_path / "llm.yaml", server.base_url, tmp_path / "c.sqlite", model="gpt-9")
        done = run_build("--config", commit_config(tmp_path, hostile_repo[0], llm), "--out", str(tmp_path / "out"))
    assert done.returncode == 3, done.stderr[-3000:]
    assert done.stderr.splitlines()[-1] == (
        f"codepref build: error: endpoint fake: 404 Not Found: check model 'gpt-9' and base_url {server.base_url} "
        "(server said: The model `gpt-9` does not exist or you do not have access to it.)"
    )
    assert "Traceback" not in done.stderr
    assert sum(server.attempts.values()) <= 4  # max_concurrency: nothing after the first refusal
    assert cached_values(tmp_path / "c.sqlite") == []
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_the_cli_prints_a_batch_api_refusal(tmp_path):
    from tests.transforms.llm.fake_openai import FakeOpenAI

    (tmp_path / "requests").mkdir()
    (tmp_path / "requests" / "requests-00000.jsonl").write_text('{"custom_id": "k", "body": {}}\n')
    with FakeOpenAI(api_key=RIGHT_KEY) as fake:
        config = config_with(tmp_path / "llm.yaml", fake.base_url, tmp_path / "c.sqlite", api_key_env=KEY_ENV)
        submit = [sys.executable, "-m", "pipelines.cli", "batch", "submit", "--llm-config", config]
        files = ["--requests", str(tmp_path / "requests"), "--state", str(tmp_path / "state.json")]
        wrong = {**os.environ, KEY_ENV: WRONG_KEY}
        done = subprocess.run([*submit, *files], capture_output=True, text=True, check=False, env=wrong)
    assert done.returncode == 3
    assert done.stderr.strip() == f"codepref batch: error: endpoint fake: 401 Unauthorized: check {KEY_ENV}"
