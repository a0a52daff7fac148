"""The client against malformed envelopes and refusals (401, 403, 404) of a fake endpoint."""

import json
import sqlite3

import pytest

from schemas.errors import EndpointError
from schemas.llm import request_key
from tests.transforms.llm.chat_server import ENVELOPE_FAULTS, ChatServer
from tests.transforms.llm.test_client import endpoint, request
from transforms.llm.cache import open_cache
from transforms.llm.client import LLMClient, MalformedEnvelopeError, envelope_answer, read_envelope


SECRET = "sk-codepref-fault-test-0123456789abcdef"
KEY_ENV = "CODEPREF_FAULT_TEST_KEY"
KINDS = {
    "empty_choices": "malformed_no_choices",
    "no_message": "malformed_no_message",
    "null_content": "malformed_no_content",
    "not_json": "malformed_not_json",
}


def cached_rows(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return {k: json.loads(v) for k, v in db.execute("select key, value from responses")}


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"choices": []}, "malformed_no_choices"),
        ({"id": "x"}, "malformed_no_choices"),
        ({"choices": None}, "malformed_no_choices"),
        ([1, 2], "malformed_no_choices"),
        ("hello", "malformed_no_choices"),
        ({"choices": [{"index": 0}]}, "malformed_no_message"),
        ({"choices": ["x"]}, "malformed_no_message"),
        ({"choices": [{"message": None}]}, "malformed_no_message"),
        ({"choices": [{"message": {"content": None}}]}, "malformed_no_content"),
        ({"choices": [{"message": {"content": ["a"]}}]}, "malformed_no_content"),
    ],
)
def test_envelope_answer_names_what_is_missing(data, kind):
    with pytest.raises(MalformedEnvelopeError) as caught:
        envelope_answer(data)
    assert caught.value.kind == kind


def test_read_envelope():
    body = {"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 3, "completion_tokens": "x"}}
    assert read_envelope(json.dumps(body).encode()) == ("hi", 3, 0)
    for raw in (b"<html>502</html>", b'{"choices": [{"message": ', b"\xff\xfe"):
        with pytest.raises(MalformedEnvelopeError) as caught:
            read_envelope(raw)
        assert caught.value.kind == "malformed_not_json"


@pytest.mark.parametrize("fault", ENVELOPE_FAULTS)
def test_a_malformed_envelope_is_an_error_kind_retried_and_never_cached(tmp_path, fault):
    with ChatServer(fault_for=lambda body, digest, attempt: fault) as server:
        client = LLMClient(endpoint(server.base_url, max_attempts=3), open_cache(str(tmp_path / "c.sqlite")))
        [result] = client.complete([request(1)])
        stats = client.take_stats()
        assert (result.text, result.error) == (None, KINDS[fault])
        assert "after 3 attempts" in result.detail
        assert stats.errors == {KINDS[fault]: 1} and stats.retries == 2 and stats.requests_sent == 3
        assert sum(server.attempts.values()) == 3
        server.fault_for = None  # the endpoint recovers: the request is sent again, not answered from the cache
        [again] = client.complete([request(1)])
        client.close()
    assert again.text is not None and not again.cached
    assert sum(server.attempts.values()) == 4


def test_a_malformed_envelope_then_an_answer_is_a_retry(tmp_path):
    faults = dict(enumerate(ENVELOPE_FAULTS))
    with ChatServer(fault_for=lambda body, digest, attempt: faults.get(attempt)) as server:
        client = LLMClient(endpoint(server.base_url), open_cache(str(tmp_path / "c.sqlite")))
        [result] = client.complete([request(1)])
        stats = client.take_stats()
        client.close()
    assert result.text is not None and result.error is None
    assert stats.retries == 4 and stats.errors == {}
    assert [fault for _, _, fault in server.served] == [*ENVELOPE_FAULTS, "ok"]


def test_a_wrong_key_stops_at_once_caches_nothing_and_a_fixed_key_succeeds(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-wrong-key-0000000000000000000000")
    cache_path = tmp_path / "c.sqlite"
    requests = [request(i) for i in range(20)]
    with ChatServer(api_key=SECRET) as server:
        config = endpoint(server.base_url, name="gpt", api_key_env=KEY_ENV, max_concurrency=2)
        client = LLMClient(config, open_cache(str(cache_path)))
        with pytest.raises(EndpointError) as caught:
            client.complete(requests)
        client.close()
        message = str(caught.value)
        assert message.startswith(f"endpoint gpt: 401 Unauthorized: check {KEY_ENV}")
        assert "sk-wrong" not in message and "0000" not in message and SECRET not in message
        assert sum(server.attempts.values()) <= 2  # no retry, and no request after the refusal
        assert cached_rows(cache_path) == {}
        monkeypatch.setenv(KEY_ENV, SECRET)
        client = LLMClient(config, open_cache(str(cache_path)))
        results = client.complete(requests)
        stats = client.take_stats()
        client.close()
    assert all(r.text is not None for r in results) and stats.requests_sent == 20
    assert set(cached_rows(cache_path)) == {request_key(r) for r in requests}


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("forbidden", f"endpoint gpt: 403 Forbidden: check that the key in {KEY_ENV} may use model m"),
        ("model_not_found", "endpoint gpt: 404 Not Found: check model 'm' and base_url http://127.0.0.1:"),
        ("unauthorized", f"endpoint gpt: 401 Unauthorized: check {KEY_ENV}"),
    ],
)
def test_refusals_end_the_batch_and_are_not_cached(tmp_path, monkeypatch, fault, expected):
    monkeypatch.setenv(KEY_ENV, SECRET)
    cache_path = tmp_path / "c.sqlite"
    refuse = {request_key(request(3))}
    with ChatServer() as server:
        server.fault_for = lambda body, digest, attempt: fault if "code 3" in body["messages"][1]["content"] else None
        config = endpoint(server.base_url, name="gpt", api_key_env=KEY_ENV, max_concurrency=1)
        client = LLMClient(config, open_cache(str(cache_path)))
        with pytest.raises(EndpointError, match="^" + expected.replace("(", r"\(")):
            client.complete([request(i) for i in range(6)])
        client.close()
    cached = cached_rows(cache_path)
    assert refuse.isdisjoint(cached)  # the refusal is not cached ...
    assert {request_key(request(i)) for i in range(3)} <= set(cached)  # ... the answers before it are
    assert all(v["error"] is None for v in cached.values())
    assert sum(server.attempts.values()) == 4  # one try of the refused request; nothing sent after it


def test_a_refusal_cached_by_an_older_version_is_sent_again(tmp_path):
    cache = open_cache(str(tmp_path / "c.sqlite"))
    old = {
        "text": None,
        "error": "bad_request",
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "detail": "AuthenticationError: Error code: 401 - {'error': {'message': 'Incorrect API key'}}",
    }
    other = dict(old, detail="BadRequestError: Error code: 400 - context length exceeded")
    cache.put_many({request_key(request(1)): old, request_key(request(2)): other})
    with ChatServer() as server:
        client = LLMClient(endpoint(server.base_url), cache)
        first, second = client.complete([request(1), request(2)])
        client.close()
    assert first.text is not None and not first.cached
    assert second.cached and second.error == "bad_request"
    assert sum(server.attempts.values()) == 1


def test_a_missing_key_variable_is_an_endpoint_error(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(EndpointError, match=f"^endpoint gpt: set the environment variable {KEY_ENV}$"):
        LLMClient(endpoint("http://127.0.0.1:9/v1", name="gpt", api_key_env=KEY_ENV), None)
