"""A deterministic OpenAI-compatible chat server on 127.0.0.1 that can misbehave.

Answers `POST /v1/chat/completions` with a valid JSON answer for the schema the
request asks for (rating, instruction, verdict, ...), deterministic in the body.
Each answer's text carries the body's hash, so tests can tell which requests an
answer in the cache belongs to.

Faults, drawn per (body, attempt) from a seeded RNG at `fault_rate`: 429 with
Retry-After, 500, a hang past the client's timeout, a connection reset, and a
200 with malformed JSON.

More faults are only injected on purpose, by `fault_for(body, digest, attempt)`
(which replaces the RNG; None answers normally): malformed envelopes of a 200
(`empty_choices`: `"choices": []`; `no_message`: a choice without `message`;
`null_content`: `content: null`; `not_json`: an HTML page), and refusals
(`unauthorized` 401, `forbidden` 403, `model_not_found` 404). With `api_key` set,
every request whose bearer token differs is answered 401, with OpenAI's message
quoting the key masked. `served` records (digest, attempt, fault or "ok") of every
request; `most_in_flight` is the most valid answers it was preparing at once.
"""

import hashlib
import json
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


FAULTS = ("rate_limit", "server_error", "hang", "reset", "malformed")
ENVELOPE_FAULTS = ("empty_choices", "no_message", "null_content", "not_json")
REFUSALS = {"unauthorized": 401, "forbidden": 403, "model_not_found": 404}


def body_hash(body):
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def default_answer(body, digest):
    fields = set(body.get("response_format", {}).get("schema", {}).get("properties", {}))
    if not fields:
        fields = set(body.get("response_format", {}).get("json_schema", {}).get("schema", {}).get("properties", {}))
    answer = {field: f"text {digest}" for field in fields}
    if "rating" in fields:
        answer["rating"] = 5
    if "verdict" in fields:
        user = body["messages"][-1]["content"]
        answer["verdict"] = "A" if user.find("NEW-CODE") < user.rfind("OLD-CODE") else "B"
    return json.dumps(answer)


def refusal(fault, authorization, body):
    """OpenAI's error bodies for 401, 403 and 404 (the 401 quotes the key masked, as OpenAI does)."""
    if fault == "unauthorized":
        key = authorization.removeprefix("Bearer ")
        masked = f"{key[:3]}***{key[-4:]}" if len(key) > 8 else "***"
        return {
            "error": {
                "message": f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        }
    if fault == "forbidden":
        return {"error": {"message": "You are not allowed to sample from this model", "type": "invalid_request_error"}}
    return {
        "error": {
            "message": f"The model `{body.get('model')}` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "code": "model_not_found",
        }
    }


def envelope(fault, body):
    """A 200 body with no usable answer."""
    if fault == "not_json":
        return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": None}}
    if fault == "no_message":
        del choice["message"]
    choices = [] if fault == "empty_choices" else [choice]
    return {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model"),
        "choices": choices,
    }


class ChatServer:
    def __init__(
        self, fault_rate=0.0, seed=1, hang_s=3.0, delay_s=0.0, answer=default_answer, api_key=None, fault_for=None
    ):
        self.fault_rate, self.hang_s, self.delay_s, self.answer = fault_rate, hang_s, delay_s, answer
        self.api_key, self.fault_for = api_key, fault_for
        self.served = []  # (body hash, attempt, fault or "ok")
        self._rng_seed = seed
        self.attempts = {}  # body hash -> attempts seen
        self.answered = []  # body hashes answered 200 with a valid answer
        self.rejected = []  # body hashes answered 400
        self.reject = lambda body: False
        self.in_flight = 0  # valid answers being prepared now (inside the delay)
        self.most_in_flight = 0
        self.faults = {f: 0 for f in (*FAULTS, *ENVELOPE_FAULTS, *REFUSALS)}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _fault(self, digest, attempt):
        rng = random.Random(f"{self._rng_seed}:{digest}:{attempt}")
        if rng.random() < self.fault_rate:
            return FAULTS[rng.randrange(len(FAULTS))]
        return None

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, payload, headers=None, content_type="application/json"):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                digest = body_hash(body)
                with server._lock:
                    attempt = server.attempts.get(digest, 0)
                    server.attempts[digest] = attempt + 1
                    if server.api_key is not None and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                        fault = "unauthorized"
                    elif server.fault_for is not None:
                        fault = server.fault_for(body, digest, attempt)
                    else:
                        fault = server._fault(digest, attempt)
                    if fault:
                        server.faults[fault] += 1
                    server.served.append((digest, attempt, fault or "ok"))
                if server.reject(body):
                    with server._lock:
                        server.rejected.append(digest)
                    return self._send(400, {"error": {"message": "context length exceeded"}})
                if fault == "rate_limit":
                    return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0.05"})
                if fault == "server_error":
                    return self._send(500, {"error": {"message": "boom"}})
                if fault == "hang":
                    time.sleep(server.hang_s)
                    return None
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    return None
                if fault == "malformed":
                    return self._send(200, b'{"id": "x", "choices": [{"message": ')
                if fault in REFUSALS:
                    return self._send(REFUSALS[fault], refusal(fault, self.headers.get("Authorization", ""), body))
                if fault in ENVELOPE_FAULTS:
                    content_type = "text/html" if fault == "not_json" else "application/json"
                    return self._send(200, envelope(fault, body), content_type=content_type)
                with server._lock:
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                if server.delay_s:
                    time.sleep(server.delay_s)
                with server._lock:
                    server.in_flight -= 1
                text = server.answer(body, digest)
                with server._lock:
                    server.answered.append(digest)
                choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                completion = {
                    "id": f"chatcmpl-{digest}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [choice],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                }
                return self._send(200, completion)

        return Handler
