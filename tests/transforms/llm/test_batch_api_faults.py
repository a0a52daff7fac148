"""The Batch API path against malformed answers and refusals (401, 403, 404)."""

import pytest

from schemas.errors import EndpointError
from tests.transforms.llm.chat_server import ENVELOPE_FAULTS, envelope
from tests.transforms.llm.fake_openai import FakeOpenAI
from tests.transforms.llm.test_batch_api import KEY_ENV, SECRET, body, endpoint_for, key
from transforms.llm.batch_api import collect, export_requests, parse_output_line, status, submit
from transforms.llm.cache import SqliteCache


@pytest.fixture
def endpoint_env(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)


def line(code, answer):
    return {"custom_id": "k", "response": {"status_code": code, "body": answer}}


@pytest.mark.parametrize("fault", ENVELOPE_FAULTS)
def test_a_malformed_batch_answer_is_not_cached(fault):
    answer = envelope(fault, {"model": "m"})
    assert parse_output_line(line(200, answer.decode() if isinstance(answer, bytes) else answer)) == ("k", None)


@pytest.mark.parametrize("code", [401, 403, 404])
def test_a_refused_batch_line_is_not_cached(code):
    assert parse_output_line(line(code, {"error": {"message": "The model `x` does not exist"}})) == ("k", None)


def test_refused_and_malformed_lines_stay_out_of_the_cache(tmp_path, endpoint_env):
    ids = sorted(key(i) for i in range(7))
    fail_with = {ids[0]: 404, ids[1]: 401, ids[2]: 403, ids[3]: "empty_choices", ids[4]: "not_json", ids[5]: 400}
    paths = export_requests([(k, body(k)) for k in ids], str(tmp_path / "requests"))
    state_path = str(tmp_path / "state.json")
    with FakeOpenAI(fail_with=fail_with) as fake, SqliteCache(tmp_path / "cache.sqlite") as cache:
        endpoint = endpoint_for(fake)
        submit(paths, endpoint, state_path)
        counts = collect(state_path, endpoint, cache)
        cached = cache.get_many(ids)
    assert counts == {"imported": 1, "errors_cached": 1, "not_cached": 5, "batches_collected": 1}
    assert set(cached) == {ids[5], ids[6]}
    assert cached[ids[5]]["error"] == "bad_request" and cached[ids[6]]["text"]


def test_a_wrong_key_is_a_clear_error_on_every_step(tmp_path, endpoint_env, monkeypatch):
    paths = export_requests([(key(1), body(1))], str(tmp_path / "requests"))
    state_path = str(tmp_path / "state.json")
    expected = f"^endpoint fake: 401 Unauthorized: check {KEY_ENV}$"
    with FakeOpenAI(api_key="sk-the-right-key-0123456789") as fake:
        endpoint = endpoint_for(fake)
        with pytest.raises(EndpointError, match=expected):
            submit(paths, endpoint, state_path)
        monkeypatch.setenv(KEY_ENV, "sk-the-right-key-0123456789")
        submit(paths, endpoint, state_path)
        monkeypatch.setenv(KEY_ENV, SECRET)
        with pytest.raises(EndpointError, match=expected):
            status(state_path, endpoint)
        with SqliteCache(tmp_path / "c.sqlite") as cache, pytest.raises(EndpointError, match=expected):
            collect(state_path, endpoint, cache)


def test_an_unknown_batch_is_a_clear_404(tmp_path, endpoint_env):
    paths = export_requests([(key(1), body(1))], str(tmp_path / "requests"))
    state_path = tmp_path / "state.json"
    with FakeOpenAI() as fake:
        endpoint = endpoint_for(fake)
        submit(paths, endpoint, str(state_path))
        state_path.write_text(state_path.read_text().replace("batch-0001", "batch-9999"))
        with pytest.raises(EndpointError) as caught:
            status(str(state_path), endpoint)
    message = str(caught.value)
    assert message.startswith(f"endpoint fake: 404 Not Found: check base_url {fake.base_url} and the file and batch")
    assert "no such batch" in message and SECRET not in message
