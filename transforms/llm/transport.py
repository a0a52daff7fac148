"""The HTTP layer of `transforms.llm.client`: chat-completions bodies posted with aiohttp.

Per request the client's CPU is what caps it against a fast endpoint
(`benchmarks/bench_peers_llm.py`). The openai SDK's path (typed-parameter
transform, request building, httpx over its aiohttp transport) costs several
times a plain aiohttp post, so the client posts its ready JSON body here and
reads the raw answer; `transforms.llm.client` classifies what goes wrong.

Errors: an HTTP status of 400 or more raises `HTTPStatusError` (status, headers,
the server's error object); aiohttp's own errors (`aiohttp.ClientError`, and
`asyncio.TimeoutError` after `timeout_s`) pass through.
"""

__all__ = ["ChatTransport", "HTTPStatusError"]

import json
from collections.abc import Mapping
from typing import Any

import aiohttp


class HTTPStatusError(Exception):
    """An answer with an HTTP status of 400 or more."""

    def __init__(self, status_code: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status_code, self.headers = status_code, headers
        self.body = _error_object(body)
        message = self.body.get("message") if isinstance(self.body, dict) else None
        text = message if isinstance(message, str) else body[:200].decode("utf-8", "replace")
        super().__init__(f"HTTP {status_code}: {text}")


def _error_object(body: bytes) -> Any:
    """The `error` object of an OpenAI error body (what the SDK calls the error's body), else the decoded body."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data.get("error", data) if isinstance(data, dict) else data


class ChatTransport:
    """Posts chat-completions bodies to one endpoint; its session lives on the loop that first posts."""

    def __init__(self, base_url: str, api_key: str | None, timeout_s: float, max_connections: int) -> None:
        """`api_key` None or empty sends no Authorization header (a local server)."""
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Content-Type": "application/json", "User-Agent": "codepref"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def post(self, body: dict[str, Any]) -> bytes:
        """Returns the raw body of a 2xx answer.

        Raises:
            HTTPStatusError: the status is 400 or more.
        """
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout, headers=self._headers)
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        async with self._session.post(self._url, data=data) as response:
            raw = await response.read()
            if response.status >= 400:
                raise HTTPStatusError(response.status, response.headers, raw)
            return raw

    async def close(self) -> None:
        """Closes the session, if one was opened."""
        if self._session is not None:
            await self._session.close()
            self._session = None
