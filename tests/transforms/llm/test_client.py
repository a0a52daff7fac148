import json

import pytest

from schemas.llm import EndpointConfig, LLMRequest, request_key
from tests.transforms.llm.chat_server import ChatServer
from transforms.llm.cache import open_cache
from transforms.llm.client import LLMClient, LLMStats, chat_body, price_for


SCHEMA = json.dumps({"type": "object", "properties": {"summary": {"type": "string"}, "rating": {"type": "integer"}}})


def request(i, mode="json_object_schema"):
    messages = (("system", "rate"), ("user", f"code {i}"))
    schema = SCHEMA if mode != "tags" else ""
    return LLMRequest("m", messages, 0.0, 1.0, 32, 7, "commit_review", "1", 0, mode, schema)


def endpoint(url, **kw):
    args = {
        "name": "fake",
        "base_url": url,
        "model": "m",
        "output_mode": "json_object_schema",
        "timeout_s": 1.0,
        "max_attempts": 6,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        "max_concurrency": 8,
    }
    args.update(kw)
    return EndpointConfig(**args)


def test_chat_body_modes():
    body = chat_body(request(1, "json_schema"))
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert chat_body(request(1))["response_format"] == {"type": "json_object", "schema": json.loads(SCHEMA)}
    tags = chat_body(request(1, "tags"))
    assert "response_format" not in tags and tags["seed"] == 7 and tags["messages"][1]["content"] == "code 1"


def test_request_key_covers_every_field():
    base = request(1)
    assert request_key(base) == request_key(request(1))
    for field in LLMRequest._fields:
        value = getattr(base, field)
        changed = (
            value + 1
            if isinstance(value, int | float)
            else (value + ("x",) if isinstance(value, tuple) else value + "x")
        )
        assert request_key(base._replace(**{field: changed})) != request_key(base), field


def test_prices():
    assert price_for(endpoint("x", model="gpt-4o-mini-2024")) == (0.15, 0.60)
    assert price_for(endpoint("x", model="smollm2")) == (0.0, 0.0)
    assert price_for(endpoint("x", model="smollm2", output_usd_per_mtok=2.0)) == (0.0, 2.0)


def test_faults_are_retried_answered_once_and_cached(tmp_path):
    requests = [request(i) for i in range(40)]
    with ChatServer(fault_rate=0.3, hang_s=2.0) as server:
        cache = open_cache(str(tmp_path / "c.sqlite"))
        client = LLMClient(endpoint(server.base_url), cache)
        results = client.complete(requests)
        stats = client.take_stats()
        assert sum(server.faults.values()) > 5  # the faults really happened
        assert all(r.text is not None or r.error for r in results)
        answered = [r for r in results if r.text is not None]
        assert len(answered) >= 38
        assert len(server.answered) == len(set(server.answered)) == len(answered)
        assert stats.retries >= sum(server.faults.values()) - len(results)
        assert stats.requests_sent >= sum(server.attempts.values())  # a reset pooled connection never arrives
        assert stats.prompt_tokens == 100 * len(answered)
        before = dict(server.attempts)
        again = client.complete(requests)
        second = client.take_stats()
        client.close()
    assert [r.text for r in again if r.cached] == [r.text for r in answered]
    assert second.cache_hits == len(answered)
    resent = {k for k, v in server.attempts.items() if before.get(k) != v}
    assert resent.isdisjoint(server.answered[: len(answered)]) and second.requests_sent <= 6 * (40 - len(answered))


def test_terminal_errors_are_cached_and_not_resent(tmp_path):
    with ChatServer() as server:
        server.reject = lambda body: "code 1" in body["messages"][1]["content"]
        client = LLMClient(endpoint(server.base_url), open_cache(str(tmp_path / "c.sqlite")))
        first = client.complete([request(1), request(2)])
        assert (first[0].error, first[0].text) == ("bad_request", None)
        assert first[1].text is not None
        assert client.take_stats().errors == {"bad_request": 1}
        second = client.complete([request(1), request(2)])
        client.close()
    assert [r.cached for r in second] == [True, True]
    assert second[0].error == "bad_request"
    assert len(server.rejected) == 1


def test_export_mode_sends_nothing(tmp_path):
    cache = open_cache(str(tmp_path / "c.sqlite"))
    client = LLMClient(endpoint("http://127.0.0.1:9/v1"), cache, mode="export")
    results = client.complete([request(1), request(2), request(1)])
    assert [r.error for r in results] == ["awaiting_batch"] * 3
    assert [k for k, _ in client.exported] == [request_key(request(1)), request_key(request(2))]
    assert client.take_stats().requests_sent == 0
    client.close()


def test_missing_key_variable_is_a_clear_error(monkeypatch):
    from schemas.errors import EndpointError

    monkeypatch.delenv("CODEPREF_TEST_KEY", raising=False)
    with pytest.raises(EndpointError, match="CODEPREF_TEST_KEY"):
        LLMClient(endpoint("http://x/v1", api_key_env="CODEPREF_TEST_KEY"), None)


def test_stats_add():
    total = LLMStats()
    total.add(
        {
            "requests_sent": 2,
            "cache_hits": 1,
            "retries": 1,
            "errors": {"timeout": 1},
            "prompt_tokens": 5,
            "completion_tokens": 3,
            "cost_usd": 0.5,
        }
    )
    total.add(LLMStats(requests_sent=1, errors={"timeout": 2, "bad_request": 1}))
    assert total.as_dict()["errors"] == {"bad_request": 1, "timeout": 3}
    assert total.requests_sent == 3


def test_rate_limiter_holds_rpm_and_tpm():
    import asyncio
    import time

    from transforms.llm.client import RateLimiter

    async def burst(limiter, n, tokens):
        start = time.monotonic()
        for _ in range(n):
            await limiter.acquire(tokens)
        return time.monotonic() - start

    # Within the limit no request waits for the window (60 s): a generous bound, not a timing.
    assert asyncio.run(burst(RateLimiter(rpm=2, tpm=None, window_s=60.0), 2, 1)) < 30
    assert asyncio.run(burst(RateLimiter(rpm=2, tpm=None, window_s=0.4), 3, 1)) >= 0.35
    assert asyncio.run(burst(RateLimiter(rpm=None, tpm=100, window_s=0.4), 3, 50)) >= 0.35


def test_retry_after_is_honoured(tmp_path, monkeypatch):
    import asyncio

    waits, real_sleep = [], asyncio.sleep

    async def recorded_sleep(delay, *args, **kwargs):
        waits.append(delay)
        return await real_sleep(delay, *args, **kwargs)

    monkeypatch.setattr(asyncio, "sleep", recorded_sleep)
    with ChatServer(fault_rate=1.0, seed=3) as server:
        server._fault = lambda digest, attempt: "rate_limit"
        config = endpoint(server.base_url, max_attempts=3, backoff_base_s=5.0, backoff_max_s=5.0)
        client = LLMClient(config, open_cache(str(tmp_path / "c")))
        [result] = client.complete([request(1)])
        client.close()
    assert result.error == "rate_limited" and "after 3 attempts" in result.detail
    # Two waits of the server's Retry-After (0.05 s), not the random backoff of up to 5 s.
    assert [w for w in waits if w > 0] == [0.05, 0.05]
    assert sum(server.attempts.values()) == 3


def test_transport_errors_are_classified():
    import aiohttp

    from transforms.llm.client import classify_error
    from transforms.llm.transport import HTTPStatusError

    def status(code, headers=None, body=b'{"error": {"message": "no"}}'):
        return HTTPStatusError(code, headers or {}, body)

    assert classify_error(status(429, {"retry-after": "2"})) == ("rate_limited", True, 2.0)
    assert classify_error(status(503, {"retry-after-ms": "250"})) == ("server_error", True, 0.25)
    assert classify_error(status(408)) == ("server_error", True, None)
    assert classify_error(status(400)) == ("bad_request", False, None)
    assert classify_error(status(401))[:2] == ("unauthorized", False)
    assert classify_error(TimeoutError()) == ("timeout", True, None)
    assert classify_error(aiohttp.ServerDisconnectedError()) == ("connection", True, None)
    assert classify_error(aiohttp.ClientPayloadError("cut off")) == ("malformed_response", True, None)
    assert status(400).body == {"message": "no"} and str(status(400)) == "HTTP 400: no"
    assert str(status(502, body=b"<html>bad gateway</html>")) == "HTTP 502: <html>bad gateway</html>"
    with pytest.raises(ZeroDivisionError):  # not an answer: a bug, raised
        classify_error(ZeroDivisionError())
