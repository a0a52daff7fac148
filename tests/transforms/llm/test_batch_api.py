import hashlib
import json
import random
from pathlib import Path

import openai
import pytest

from schemas.llm import EndpointConfig
from tests.transforms.llm.fake_openai import FakeOpenAI
from transforms.llm.batch_api import (
    batch_line,
    collect,
    export_requests,
    parse_output_line,
    status,
    submit,
)
from transforms.llm.cache import SqliteCache


SECRET = "sk-codepref-test-secret-0123456789"
KEY_ENV = "CODEPREF_FAKE_API_KEY"


def key(text):
    return hashlib.sha256(str(text).encode()).hexdigest()


def body(i, model="fake-model"):
    return {"model": model, "messages": [{"role": "user", "content": f"question {i} ✓"}], "temperature": 0.0}


def read_lines(path):
    with open(path, "rb") as f:
        return [json.loads(line) for line in f]


# ----------------------------------------------------------------------------- export


def test_line_format():
    line = batch_line(key(1), body(1))
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"custom_id": key(1), "method": "POST", "url": "/v1/chat/completions", "body": body(1)}
    assert "✓".encode() in line  # UTF-8, not \u escapes
    with pytest.raises(ValueError, match="UTF-8"):
        batch_line(key(2), {"messages": [{"role": "user", "content": "\ud800"}]})


def test_export_splits_by_count_sorted_and_deduplicated(tmp_path):
    items = [(key(i), body(i)) for i in range(10)]
    items += [items[3], items[7]]  # exact duplicates are written once
    random.Random(0).shuffle(items)
    paths = export_requests(items, str(tmp_path / "out"), max_requests=3)
    assert [p.rsplit("/", 1)[1] for p in paths] == [f"requests-0000{i}.jsonl" for i in range(4)]
    per_file = [read_lines(p) for p in paths]
    assert [len(lines) for lines in per_file] == [3, 3, 3, 1]
    ids = [line["custom_id"] for lines in per_file for line in lines]
    assert ids == sorted(key(i) for i in range(10))
    assert all(
        line["body"] == body(next(i for i in range(10) if key(i) == line["custom_id"]))
        for ls in per_file
        for line in ls
    )


def test_export_splits_by_bytes(tmp_path):
    items = [(key(i), body(i)) for i in range(5)]
    sizes = {k: len(batch_line(k, b)) for k, b in items}
    assert len(set(sizes.values())) == 1
    size = sizes[key(0)]
    paths = export_requests(items, str(tmp_path), max_bytes=2 * size)  # exactly two lines fit
    assert [len(read_lines(p)) for p in paths] == [2, 2, 1]
    assert all(len(Path(p).read_bytes()) <= 2 * size for p in paths)
    paths = export_requests(items, str(tmp_path), max_bytes=2 * size - 1)  # one line per file
    assert [len(read_lines(p)) for p in paths] == [1] * 5
    with pytest.raises(ValueError, match="max_bytes"):
        export_requests(items, str(tmp_path / "x"), max_bytes=size - 1)


def test_export_is_deterministic_and_removes_stale_files(tmp_path):
    items = [(key(i), body(i)) for i in range(7)]
    first = export_requests(items, str(tmp_path / "a"), max_requests=2)
    shuffled = list(reversed(items))
    export_requests([(key(99), body(99))] * 20, str(tmp_path / "b"), max_requests=1)  # 1 file, then
    export_requests([(key(i), body(i)) for i in range(9)], str(tmp_path / "b"), max_requests=1)  # 9 files
    second = export_requests(shuffled, str(tmp_path / "b"), max_requests=2)  # 4 files: 5 stale removed
    assert [Path(p).read_bytes() for p in first] == [Path(p).read_bytes() for p in second]
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [f"requests-0000{i}.jsonl" for i in range(4)]
    assert export_requests([], str(tmp_path / "b")) == []
    assert list((tmp_path / "b").iterdir()) == []


def test_export_rejects_conflicting_duplicates(tmp_path):
    with pytest.raises(ValueError, match="two different bodies"):
        export_requests([(key(1), body(1)), (key(1), body(2))], str(tmp_path))


def test_export_presorted_streams_and_checks_order(tmp_path):
    ids = sorted(key(i) for i in range(6))

    def generate():
        for k in ids:
            yield k, body(k)
            yield k, body(k)

    paths = export_requests(generate(), str(tmp_path / "s"), max_requests=4, presorted=True)
    assert [line["custom_id"] for p in paths for line in read_lines(p)] == ids
    with pytest.raises(ValueError, match="not sorted"):
        export_requests([(ids[1], body(1)), (ids[0], body(0))], str(tmp_path / "t"), presorted=True)


# ----------------------------------------------------------------------------- parse


def chat(content, usage=None):
    b = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    if usage is not None:
        b["usage"] = usage
    return b


def test_parse_output_line():
    ok = {
        "custom_id": "k",
        "response": {"status_code": 200, "body": chat("hi", {"prompt_tokens": 7, "completion_tokens": 2})},
    }
    assert parse_output_line(ok) == (
        "k",
        {"text": "hi", "error": None, "detail": "", "prompt_tokens": 7, "completion_tokens": 2},
    )
    no_usage = {"custom_id": "k", "response": {"status_code": 200, "body": chat("hi")}}
    assert parse_output_line(no_usage)[1]["prompt_tokens"] == 0
    bad = {"custom_id": "k", "response": {"status_code": 400, "body": {"error": {"message": "too long"}}}}
    assert parse_output_line(bad) == (
        "k",
        {
            "text": None,
            "error": "bad_request",
            "detail": "HTTP 400: too long",
            "prompt_tokens": 0,
            "completion_tokens": 0,
        },
    )
    for retryable in (429, 500, 503):
        assert parse_output_line({"custom_id": "k", "response": {"status_code": retryable, "body": {}}}) == ("k", None)
    assert parse_output_line({"custom_id": "k", "response": None, "error": {"code": "batch_expired"}}) == ("k", None)
    assert parse_output_line({"custom_id": "k", "response": {"status_code": 200, "body": chat(None)}}) == ("k", None)
    assert parse_output_line({"custom_id": "k", "response": {"status_code": 200, "body": {}}}) == ("k", None)
    assert parse_output_line({"response": {"status_code": 200, "body": chat("x")}}) == (None, None)


# ----------------------------------------------------------------------------- submit / status / collect


@pytest.fixture
def endpoint_env(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)


def endpoint_for(fake):
    return EndpointConfig(name="fake", base_url=fake.base_url, model="fake-model", api_key_env=KEY_ENV, timeout_s=5)


def assert_secret_nowhere(tmp_path):
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_submit_status_collect_round_trip(tmp_path, endpoint_env):
    ids = sorted(key(i) for i in range(7))
    fail_with = {ids[1]: 400, ids[2]: 500, ids[3]: 429, ids[5]: 0}
    paths = export_requests([(k, body(k)) for k in ids], str(tmp_path / "requests"), max_requests=4)
    state_path = str(tmp_path / "state" / "batches.json")
    cache = SqliteCache(tmp_path / "cache.sqlite")
    with FakeOpenAI(fail_with=fail_with, polls_before_done=2) as fake:
        endpoint = endpoint_for(fake)
        state = submit(paths, endpoint, state_path)
        assert [b["batch_id"] for b in state["batches"]] == ["batch-0001", "batch-0002"]
        assert [b["path"] for b in state["batches"]] == paths
        assert [fake.files[b["input_file_id"]] for b in state["batches"]] == [Path(p).read_bytes() for p in paths]
        assert set(fake.auth_headers) == {f"Bearer {SECRET}"}
        on_disk = json.loads(Path(state_path).read_text())
        assert on_disk == state
        assert all(b["created_at"] and b["submitted_at"] and not b["collected"] for b in on_disk["batches"])

        # Re-running submit finds both files in the state and sends nothing.
        sent = len(fake.requests)
        assert submit(paths, endpoint, state_path)["batches"] == state["batches"]
        assert len(fake.requests) == sent

        assert [b["status"] for b in status(state_path, endpoint)] == ["in_progress", "in_progress"]
        assert collect(state_path, endpoint, cache) == {
            "imported": 0,
            "errors_cached": 0,
            "not_cached": 0,
            "batches_collected": 0,
        }
        counts = collect(state_path, endpoint, cache)
        assert counts == {"imported": 3, "errors_cached": 1, "not_cached": 3, "batches_collected": 2}
        refreshed = status(state_path, endpoint)
        assert [b["status"] for b in refreshed] == ["completed", "completed"]
        assert [b["request_counts"] for b in refreshed] == [
            {"total": 4, "completed": 1, "failed": 3},
            {"total": 3, "completed": 2, "failed": 1},
        ]
        assert all(b["collected"] for b in refreshed)

        got = cache.get_many(ids)
        assert set(got) == {ids[0], ids[1], ids[4], ids[6]}
        for i in (0, 4, 6):
            assert got[ids[i]]["text"] == f"answer to question {ids[i]} ✓"
            assert got[ids[i]]["error"] is None and got[ids[i]]["detail"] == ""
            assert got[ids[i]]["completion_tokens"] == 5 and got[ids[i]]["prompt_tokens"] >= 10
        assert got[ids[1]]["error"] == "bad_request" and got[ids[1]]["text"] is None
        assert "Invalid 'messages'" in got[ids[1]]["detail"]

        # Re-collecting imports nothing and downloads nothing.
        downloads = fake.count("GET", r"/v1/files/.*/content")
        assert collect(state_path, endpoint, cache)["batches_collected"] == 0
        assert fake.count("GET", r"/v1/files/.*/content") == downloads
        assert fake.count("POST", "/v1/files") == 2 and fake.count("POST", "/v1/batches") == 2
    cache.close()
    assert_secret_nowhere(tmp_path)


def test_submit_resumes_after_failed_batch_creation(tmp_path, endpoint_env):
    paths = export_requests([(key(i), body(i)) for i in range(3)], str(tmp_path / "requests"))
    state_path = str(tmp_path / "state.json")
    with FakeOpenAI(fail_batch_creates=1) as fake:
        endpoint = endpoint_for(fake)
        with pytest.raises(openai.InternalServerError):
            submit(paths, endpoint, state_path)
        half = json.loads(Path(state_path).read_text())
        assert [(b["input_file_id"], b["batch_id"]) for b in half["batches"]] == [("file-0001", None)]
        state = submit(paths, endpoint, state_path)
        assert [(b["input_file_id"], b["batch_id"]) for b in state["batches"]] == [("file-0001", "batch-0001")]
        assert fake.count("POST", "/v1/files") == 1
        with SqliteCache(tmp_path / "c.sqlite") as cache:
            assert collect(state_path, endpoint, cache)["imported"] == 3
    assert_secret_nowhere(tmp_path)


def test_state_belongs_to_one_server(tmp_path, endpoint_env):
    paths = export_requests([(key(1), body(1))], str(tmp_path / "requests"))
    state_path = str(tmp_path / "state.json")
    with FakeOpenAI() as fake:
        submit(paths, endpoint_for(fake), state_path)
    other = EndpointConfig(name="other", base_url="http://127.0.0.1:9/v1", model="m")
    with pytest.raises(ValueError, match="tracks batches on"):
        status(state_path, other)
    with pytest.raises(FileNotFoundError):
        status(str(tmp_path / "missing.json"), other)
