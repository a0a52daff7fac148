"""A deterministic OpenAI-compatible chat server on 127.0.0.1 that can misbehave.

Answers `POST /v1/chat/completions` with a valid JSON answer for the schema the
request asks for (rating, instruction, verdict, ...), deterministic in the body.
Each answer's text carries the body's hash, so tests can tell which requests an
answer in the cache belongs to.

Faults, drawn per (body, attempt) from a seeded RNG at `fault_rate`: 429 with
Retry-After, 500, a hang past the client's timeout, a connection reset, and a
200 with malformed JSON.
"""

import hashlib
import json
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


FAULTS = ("rate_limit", "server_error", "hang", "reset", "malformed")


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


class ChatServer:
    def __init__(self, fault_rate=0.0, seed=1, hang_s=3.0, delay_s=0.0, answer=default_answer):
        self.fault_rate, self.hang_s, self.delay_s, self.answer = fault_rate, hang_s, delay_s, answer
        self._rng_seed = seed
        self.attempts = {}  # body hash -> attempts seen
        self.answered = []  # body hashes answered 200 with a valid answer
        self.rejected = []  # body hashes answered 400
        self.reject = lambda body: False
        self.faults = {f: 0 for f in FAULTS}
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

            def _send(self, status, payload, headers=None):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
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
                    fault = server._fault(digest, attempt)
                    if fault:
                        server.faults[fault] += 1
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
                if server.delay_s:
                    time.sleep(server.delay_s)
                text = server.answer(body, digest)
                with server._lock:
                    server.answered.append(digest)
                return self._send(200, {
                    "id": f"chatcmpl-{digest}", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                })  # fmt: skip

        return Handler
