"""One async client for every OpenAI-compatible endpoint, with one cache in front.

`LLMClient.complete(requests)` answers a batch of `LLMRequest`s: cache hits first,
then the misses concurrently (at most `max_concurrency` in flight, under the
endpoint's RPM and TPM limits). `LLMClient.start(requests)` does the same without
waiting: it looks the requests up in the cache and returns a future, the misses
being sent on the client's loop thread (`transforms.llm.loop`); the requests of
every started batch share the one `max_concurrency` limit, so a caller can keep
the endpoint busy across batches (`transforms.llm.stage`). The single retry layer
here retries 429, 5xx, timeouts, connection errors and malformed responses
with exponential backoff and full jitter, honouring `Retry-After`, for at most
`max_attempts` tries. A 4xx other than 429 is terminal and cached, so it is never
sent again; a transient failure that outlives its retries is not cached, so a
re-run tries again. Answers are written to the cache by the calling thread (the
cache is one thread's: an SQLite connection), whenever it calls `flush`,
`complete` or `close`; `transforms.llm.stage` flushes between elements, so a
killed run loses at most the answers of the last moment.

Error kinds (`LLMResult.error`, and the keys of `LLMStats.errors`): `timeout`,
`connection`, `rate_limited`, `server_error` (5xx, 408, 409), `bad_request` (other
4xx; terminal, cached), and the malformed answers of a 200 (`read_envelope`):
`malformed_not_json` (the body is not JSON: a proxy's HTML page, a cut-off body),
`malformed_no_choices` (no `choices`, or an empty list), `malformed_no_message` (the
first choice has no `message` object), `malformed_no_content` (its `content` is null
or not text) and `malformed_response` (the body could not be read to its end). Malformed
answers are retried like 5xx and are never cached.

Refusals of the run itself, 401, 403 and 404 (a wrong key, a key without access to
the model, an unknown model or a wrong `base_url`), are not answers: nothing is
cached for them (and a cached `bad_request` that recorded one, from an older
version, counts as a miss), the requests still in flight are cancelled, the answers
already received are written to the cache, and `complete` raises
`schemas.errors.EndpointError`, whose message names the endpoint, the status
and the key's environment variable, never the key.

In `export` mode misses are not sent: they are collected for the Batch API and
answered `awaiting_batch`.

Stats (`LLMStats`): requests_sent, cache_hits, retries, errors by kind,
prompt_tokens, completion_tokens, cost_usd.

Per request the client's CPU is what caps it against a fast endpoint
(`benchmarks/bench_peers_llm.py`): the body `chat_body` builds is already the
API's JSON, so `transforms.llm.transport` posts it as it is with aiohttp and the
raw answer is read by `read_envelope`, without the openai SDK's layers.
"""

__all__ = [
    "FATAL_KINDS",
    "MALFORMED_KINDS",
    "PRICES_USD_PER_MTOK",
    "LLMClient",
    "LLMStats",
    "MalformedEnvelopeError",
    "RateLimiter",
    "chat_body",
    "classify_error",
    "endpoint_error",
    "envelope_answer",
    "price_for",
    "read_envelope",
]

import asyncio
import collections
import concurrent.futures
import dataclasses
import json
import os
import random
import time
from collections.abc import Sequence
from typing import Any

from schemas.errors import EndpointError
from schemas.llm import EndpointConfig, LLMRequest, LLMResult, request_key
from transforms.llm.cache import ResponseCache
from transforms.llm.errors import redact
from transforms.llm.loop import LoopThread
from transforms.llm.transport import ChatTransport, HTTPStatusError


PRICES_USD_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "o4-mini": (1.10, 4.40),
}
"""USD per million (input, output) tokens, by model-name prefix (longest match wins).

Unknown models (a local server, say) cost 0 unless the endpoint sets its prices.
"""

TERMINAL = "bad_request"
AWAITING_BATCH = "awaiting_batch"
MALFORMED_NOT_JSON = "malformed_not_json"
MALFORMED_NO_CHOICES = "malformed_no_choices"
MALFORMED_NO_MESSAGE = "malformed_no_message"
MALFORMED_NO_CONTENT = "malformed_no_content"
MALFORMED_RESPONSE = "malformed_response"
MALFORMED_KINDS = (
    MALFORMED_NOT_JSON,
    MALFORMED_NO_CHOICES,
    MALFORMED_NO_MESSAGE,
    MALFORMED_NO_CONTENT,
    MALFORMED_RESPONSE,
)
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
MODEL_NOT_FOUND = "model_not_found"
FATAL_KINDS = {401: UNAUTHORIZED, 403: FORBIDDEN, 404: MODEL_NOT_FOUND}
"""HTTP statuses that refuse the run itself, and their kinds: never cached, they end the run."""
_STATUS_NAMES = {401: "401 Unauthorized", 403: "403 Forbidden", 404: "404 Not Found"}
# `detail` prefixes of refusals that older versions cached as `bad_request` (openai SDK errors, Batch API lines).
_REFUSED_DETAILS = ("AuthenticationError", "PermissionDeniedError", "NotFoundError", "HTTP 401", "HTTP 403", "HTTP 404")


def price_for(endpoint: EndpointConfig) -> tuple[float, float]:
    """Returns (input, output) USD per million tokens for an endpoint."""
    table = (0.0, 0.0)
    for prefix in sorted(PRICES_USD_PER_MTOK, key=len):
        if endpoint.model.startswith(prefix):
            table = PRICES_USD_PER_MTOK[prefix]
    return (
        endpoint.input_usd_per_mtok if endpoint.input_usd_per_mtok is not None else table[0],
        endpoint.output_usd_per_mtok if endpoint.output_usd_per_mtok is not None else table[1],
    )


@dataclasses.dataclass
class LLMStats:
    """Counts of one client (or the sum of several)."""

    requests_sent: int = 0
    cache_hits: int = 0
    retries: int = 0
    errors: dict[str, int] = dataclasses.field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: "LLMStats | dict[str, Any]") -> None:
        """Adds another stats object (or its dict) into this one."""
        data = other if isinstance(other, dict) else dataclasses.asdict(other)
        for name in ("requests_sent", "cache_hits", "retries", "prompt_tokens", "completion_tokens"):
            setattr(self, name, getattr(self, name) + data[name])
        self.cost_usd += data["cost_usd"]
        for kind, n in data["errors"].items():
            self.errors[kind] = self.errors.get(kind, 0) + n

    def as_dict(self) -> dict[str, Any]:
        """Returns the stats as JSON-ready data, errors sorted, cost rounded."""
        data = dataclasses.asdict(self)
        data["errors"] = dict(sorted(self.errors.items()))
        data["cost_usd"] = round(self.cost_usd, 6)
        return data


def chat_body(request: LLMRequest) -> dict[str, Any]:
    """Returns the chat-completions request body of a canonical request."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": role, "content": content} for role, content in request.messages],
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
    }
    if request.seed is not None:
        body["seed"] = request.seed
    if request.output_mode == "json_schema":
        schema = json.loads(request.response_schema)
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": request.template, "schema": schema, "strict": True},
        }
    elif request.output_mode == "json_object_schema":
        body["response_format"] = {"type": "json_object", "schema": json.loads(request.response_schema)}
    return body


class MalformedEnvelopeError(ValueError):
    """A 200 whose body holds no answer text; `kind` is one of `MALFORMED_KINDS`."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


def _tokens(usage: Any, name: str) -> int:
    value = usage.get(name) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def envelope_answer(data: Any) -> tuple[str, int, int]:
    """Returns (text, prompt_tokens, completion_tokens) of a decoded chat-completions body.

    Usage that is missing or not a count reads as 0 tokens.

    Raises:
        MalformedEnvelopeError: no `choices` list or an empty one, a first choice without a
            `message` object, or a message whose `content` is not text.
    """
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices:
        what = "an empty choices list" if isinstance(choices, list) else "no choices list"
        raise MalformedEnvelopeError(MALFORMED_NO_CHOICES, f"the answer has {what}")
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    if not isinstance(message, dict):
        raise MalformedEnvelopeError(MALFORMED_NO_MESSAGE, "the answer's first choice has no message")
    text = message.get("content")
    if not isinstance(text, str):
        what = "null" if text is None else type(text).__name__
        raise MalformedEnvelopeError(MALFORMED_NO_CONTENT, f"the answer's message content is {what}")
    usage = data.get("usage")
    return text, _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens")


def read_envelope(body: bytes) -> tuple[str, int, int]:
    """Returns (text, prompt_tokens, completion_tokens) of a raw chat-completions response body.

    Raises:
        MalformedEnvelopeError: the body is not JSON (kind `malformed_not_json`), or see `envelope_answer`.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        start = body[:60].decode("utf-8", "replace")
        raise MalformedEnvelopeError(MALFORMED_NOT_JSON, f"the answer is not JSON: {start!r}") from None
    return envelope_answer(data)


def _server_message(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else ""


def endpoint_error(endpoint: EndpointConfig, status: int, server_message: str = "", what: str = "") -> EndpointError:
    """Builds the `EndpointError` of a 401, 403 or 404 from `endpoint`.

    Args:
        endpoint: the endpoint that refused.
        status: 401, 403 or 404.
        server_message: the server's error message, added for a 403 or 404 with the key
            and key-like tokens redacted.
        what: what to check for a 404, instead of the model name and `base_url`.

    Returns:
        The error; its message is one line, `endpoint gpt: 401 Unauthorized: check OPENAI_API_KEY`.
    """
    env = endpoint.api_key_env
    if status == 401:
        hint = f"check {env}" if env else "the endpoint wants a key: set api_key_env to the variable that holds it"
    elif status == 403:
        hint = (
            f"check that the key in {env} may use model {endpoint.model}"
            if env
            else f"the endpoint refuses model {endpoint.model}"
        )
    else:
        hint = what or f"check model {endpoint.model!r} and base_url {endpoint.base_url}"
    message = f"endpoint {endpoint.name}: {_STATUS_NAMES.get(status, str(status))}: {hint}"
    if status == 401:  # the hint says it all; OpenAI's message quotes the key, masked
        return EndpointError(message)
    secret = os.environ.get(env, "") if env else ""
    said = " ".join(redact(server_message, (secret,)).split())[:200]
    return EndpointError(f"{message} (server said: {said})" if said else message)


def classify_error(exc: BaseException) -> tuple[str, bool, float | None]:
    """Returns (kind, retryable, retry_after_seconds) for an exception of `transforms.llm.transport` or `read_envelope`.

    401, 403 and 404 give their `FATAL_KINDS` kind, not retryable; the caller ends the run.
    Anything else is re-raised: a bug, not an answer.
    """
    import aiohttp

    if isinstance(exc, MalformedEnvelopeError):
        return exc.kind, True, None
    if isinstance(exc, TimeoutError):  # before connection errors: aiohttp's timeouts are both
        return "timeout", True, None
    if isinstance(exc, aiohttp.ClientPayloadError):
        return MALFORMED_RESPONSE, True, None
    if isinstance(exc, aiohttp.ClientError):
        return "connection", True, None
    if isinstance(exc, HTTPStatusError):
        retry_after = _retry_after(exc.headers)
        if exc.status_code == 429:
            return "rate_limited", True, retry_after
        if exc.status_code >= 500 or exc.status_code in (408, 409):
            return "server_error", True, retry_after
        if exc.status_code in FATAL_KINDS:
            return FATAL_KINDS[exc.status_code], False, None
        return TERMINAL, False, None
    raise exc


def _retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds; an HTTP date reads as none)."""
    value = headers.get("retry-after-ms")
    try:
        return float(value) / 1000 if value else float(headers.get("retry-after", ""))
    except ValueError:
        return None


class RateLimiter:
    """Sliding-window limits on requests and tokens per minute (`window_s`, 60 by default)."""

    def __init__(self, rpm: int | None, tpm: int | None, window_s: float = 60.0) -> None:
        """Sets the limits; None means unlimited."""
        self._rpm, self._tpm, self._window = rpm, tpm, window_s
        self._events: collections.deque[tuple[float, int]] = collections.deque()
        self._lock = asyncio.Lock()

    async def acquire(self, tokens: int) -> None:
        """Waits until one more request of `tokens` tokens fits both limits."""
        if not self._rpm and not self._tpm:
            return
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._events and now - self._events[0][0] >= self._window:
                    self._events.popleft()
                used = sum(t for _, t in self._events)
                rpm_ok = not self._rpm or len(self._events) < self._rpm
                tpm_ok = not self._tpm or not self._events or used + tokens <= self._tpm
                if rpm_ok and tpm_ok:
                    self._events.append((now, tokens))
                    return
                await asyncio.sleep(max(0.01, self._window - (now - self._events[0][0])))


def _estimate_tokens(request: LLMRequest) -> int:
    return sum(len(content) for _, content in request.messages) // 4 + request.max_tokens


class LLMClient:
    """Answers `LLMRequest`s from the cache or one endpoint; see the module docstring.

    Build it in `DoFn.setup()`: it holds an event loop thread, an HTTP client and a cache.
    Call it from one thread (the cache's); clients may share a `LoopThread`.
    """

    def __init__(
        self,
        endpoint: EndpointConfig,
        cache: ResponseCache,
        mode: str = "live",
        loop: LoopThread | None = None,
    ) -> None:
        """Prepares the HTTP transport; the key comes from `endpoint.api_key_env`.

        `loop` is the loop thread to send on (None: one of its own, closed by `close`).

        Raises:
            EndpointError: the key's environment variable is unset (live mode).
            ValueError: the mode is unknown.
        """
        if mode not in ("live", "export", "cache_only"):
            raise ValueError(f"unknown LLM mode {mode!r}: use live, export or cache_only")
        key = ""
        if endpoint.api_key_env:
            key = os.environ.get(endpoint.api_key_env, "")
            if not key and mode == "live":
                raise EndpointError(f"endpoint {endpoint.name}: set the environment variable {endpoint.api_key_env}")
        self.endpoint, self.cache, self.mode = endpoint, cache, mode
        self.stats = LLMStats()
        self.exported: list[tuple[str, dict[str, Any]]] = []
        self._started = 0  # misses handed to the loop (calling thread only)
        self._answered = 0  # of them, answered or given up (loop thread only)
        self._own_loop = loop is None
        self._loop = loop if loop is not None else LoopThread()
        self._semaphore: asyncio.Semaphore | None = None
        self._transport = ChatTransport(endpoint.base_url, key, endpoint.timeout_s, endpoint.max_concurrency)
        self._prices = price_for(endpoint)
        self._limiter: RateLimiter | None = None
        self._arrived: collections.deque[tuple[str, dict[str, Any]]] = collections.deque()  # loop → caller
        self.refusal: EndpointError | None = None
        """The refusal (401, 403, 404) that ended the run; once set, nothing more is sent."""

    @property
    def unanswered(self) -> int:
        """Requests started (`start`) and not yet answered."""
        return self._started - self._answered

    def close(self) -> None:
        """Writes the arrived answers to the cache; closes the HTTP client, and the loop if it is the client's own."""
        self.flush()
        self._loop.run(self._transport.close())
        if self._own_loop:
            self._loop.close()

    def flush(self, at_least: int = 1) -> None:
        """Writes the answers that have arrived to the cache, if `at_least` have (from the cache's thread)."""
        if len(self._arrived) < at_least:
            return
        values: dict[str, dict[str, Any]] = {}
        while self._arrived:
            key, value = self._arrived.popleft()
            values[key] = value
        if values:
            self.cache.put_many(values)

    def complete(self, requests: Sequence[LLMRequest]) -> list[LLMResult]:
        """Answers requests in order; identical requests are sent once.

        Raises:
            EndpointError: the endpoint answered 401, 403 or 404; the answers received
                before it are cached, the refusal is not.
        """
        try:
            return self.start(requests).result()
        finally:
            self.flush()

    def start(
        self,
        requests: Sequence[LLMRequest],
        stats: LLMStats | None = None,
        exported: list[tuple[str, dict[str, Any]]] | None = None,
    ) -> "concurrent.futures.Future[list[LLMResult]]":
        """Looks the requests up in the cache now and starts sending the misses; returns the answers' future.

        The future is done at once when nothing is sent (every request cached, or not live);
        else it completes on the loop thread, and raises `EndpointError` like `complete`.
        The answers reach the cache at the next `flush`. `stats` and `exported` are where these requests are
        counted and exported (default: the client's `stats` and `exported`), so that stages
        sharing a client keep their own counts.
        """
        stats = self.stats if stats is None else stats
        exported = self.exported if exported is None else exported
        keys = [request_key(r) for r in requests]
        unique = dict(zip(keys, requests, strict=True))
        results = self._lookup(unique, stats, exported)
        misses = [(k, r) for k, r in unique.items() if k not in results]
        if not misses:
            done: concurrent.futures.Future[list[LLMResult]] = concurrent.futures.Future()
            done.set_result([results[k] for k in keys])
            return done
        self._started += len(misses)
        return self._loop.submit(self._answer(keys, results, misses, stats))

    def take_stats(self) -> LLMStats:
        """Returns the stats of requests started without `stats` since the last call, and resets them."""
        stats, self.stats = self.stats, LLMStats()
        return stats

    def _lookup(
        self, unique: dict[str, LLMRequest], stats: LLMStats, exported: list[tuple[str, dict[str, Any]]]
    ) -> dict[str, LLMResult]:
        """The answers known without sending: cache hits, and outside live mode `awaiting_batch` for the rest."""
        hits = self.cache.get_many(list(unique))
        results: dict[str, LLMResult] = {}
        for key, value in hits.items():
            if _refused(value):  # cached by an older version: a refusal is no answer
                continue
            stats.cache_hits += 1
            results[key] = _result(key, value, cached=True)
        if self.mode != "live":
            for key, request in unique.items():
                if key not in results:
                    if self.mode == "export":
                        exported.append((key, chat_body(request)))
                    results[key] = LLMResult(key, None, AWAITING_BATCH, f"not cached ({self.mode} mode)")
        return results

    async def _answer(
        self, keys: list[str], results: dict[str, LLMResult], misses: list[tuple[str, LLMRequest]], stats: LLMStats
    ) -> list[LLMResult]:
        if self._limiter is None:
            self._limiter = RateLimiter(self.endpoint.rpm, self.endpoint.tpm)
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.endpoint.max_concurrency)
        tasks = [asyncio.ensure_future(self._send(k, r, self._semaphore, stats)) for k, r in misses]
        answered = 0
        try:
            for task in asyncio.as_completed(tasks):
                result = await task
                results[result.key] = result
                answered += 1
                self._answered += 1
        except EndpointError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            self._answered += len(misses) - answered
        return [results[k] for k in keys]

    async def _send(self, key: str, request: LLMRequest, semaphore: asyncio.Semaphore, stats: LLMStats) -> LLMResult:
        body = chat_body(request)
        cfg = self.endpoint
        kind, detail = "", ""
        for attempt in range(cfg.max_attempts):
            if attempt:
                stats.retries += 1
            async with semaphore:
                assert self._limiter is not None
                await self._limiter.acquire(_estimate_tokens(request))
                if self.refusal is not None:
                    raise self.refusal
                try:
                    stats.requests_sent += 1
                    text, prompt_tokens, completion_tokens = read_envelope(await self._transport.post(body))
                    value = {
                        "text": text,
                        "error": None,
                        "detail": "",
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                    }
                    self._account(value, stats)
                    self._remember(key, value)
                    return _result(key, value, cached=False)
                except Exception as exc:  # noqa: BLE001 - classify_error re-raises what it does not know
                    kind, retryable, retry_after = classify_error(exc)
                    if kind in FATAL_KINDS.values():
                        self.refusal = endpoint_error(cfg, exc.status_code, _server_message(exc))
                        raise self.refusal from None
                    detail = f"{type(exc).__name__}: {str(exc)[:300]}"
                    if not retryable:
                        stats.errors[kind] = stats.errors.get(kind, 0) + 1
                        value = {
                            "text": None,
                            "error": kind,
                            "detail": detail,
                            "prompt_tokens": 0,
                            "completion_tokens": 0,
                        }
                        self._remember(key, value)
                        return _result(key, value, cached=False)
            if attempt + 1 < cfg.max_attempts:
                backoff = min(cfg.backoff_max_s, cfg.backoff_base_s * 2**attempt)
                delay = retry_after if retry_after is not None else random.uniform(0, backoff)
                await asyncio.sleep(min(delay, cfg.backoff_max_s))
        stats.errors[kind] = stats.errors.get(kind, 0) + 1
        return LLMResult(key, None, kind, f"after {cfg.max_attempts} attempts: {detail}")

    def _account(self, value: dict[str, Any], stats: LLMStats) -> None:
        stats.prompt_tokens += value["prompt_tokens"]
        stats.completion_tokens += value["completion_tokens"]
        stats.cost_usd += (
            value["prompt_tokens"] * self._prices[0] + value["completion_tokens"] * self._prices[1]
        ) / 1e6

    def _remember(self, key: str, value: dict[str, Any]) -> None:
        self._arrived.append((key, value))  # the calling thread writes it (`flush`)


def _refused(value: dict[str, Any]) -> bool:
    """True for a cached `bad_request` that recorded a 401, 403 or 404."""
    return value.get("error") == TERMINAL and str(value.get("detail", "")).startswith(_REFUSED_DETAILS)


def _result(key: str, value: dict[str, Any], cached: bool) -> LLMResult:
    return LLMResult(
        key,
        value.get("text"),
        value.get("error"),
        value.get("detail", ""),
        value.get("prompt_tokens", 0),
        value.get("completion_tokens", 0),
        cached,
    )
