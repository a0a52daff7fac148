"""A fake OpenAI-compatible Files + Batches server for tests, on 127.0.0.1 in a thread.

Implements `POST /v1/files` (multipart upload), `POST /v1/batches`,
`GET /v1/batches/{id}` and `GET /v1/files/{id}/content`. A batch reports
`in_progress` for its first `polls_before_done` retrievals, then `completed`, with an
output file holding one chat completion per input line and an error file holding
the lines whose custom_id is in `fail_with` (custom_id → HTTP status; status 0 means
no response at all, as for an expired request; a fault name of
`chat_server.ENVELOPE_FAULTS` means a 200 whose body holds no answer). The first
`fail_batch_creates` batch creations answer HTTP 500. With `api_key` set, every
request whose bearer token differs is answered 401.
"""

import email.parser
import email.policy
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.transforms.llm.chat_server import ENVELOPE_FAULTS, envelope


class FakeOpenAI:
    def __init__(self, fail_with=None, polls_before_done=0, fail_batch_creates=0, api_key=None):
        self.fail_with = dict(fail_with or {})
        self.api_key = api_key
        self.polls_before_done = polls_before_done
        self.fail_batch_creates = fail_batch_creates
        self.files = {}  # id -> bytes
        self.batches = {}  # id -> dict
        self.polls = {}  # batch id -> retrievals so far
        self.auth_headers = []
        self.requests = []  # (method, path)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def count(self, method, pattern):
        return sum(1 for m, p in self.requests if m == method and re.fullmatch(pattern, p))

    # ------------------------------------------------------------------ API

    def _new_id(self, prefix, table):
        return f"{prefix}-{len(table) + 1:04d}"

    def upload(self, content_type, body):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        fields, data, filename = {}, None, None
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename():
                data, filename = part.get_payload(decode=True), part.get_filename()
            else:
                fields[name] = part.get_content().strip()
        assert data is not None and fields.get("purpose") == "batch", fields
        with self._lock:
            file_id = self._new_id("file", self.files)
            self.files[file_id] = data
        return self._file_object(file_id, filename, "batch")

    def _file_object(self, file_id, filename, purpose):
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(self.files[file_id]),
            "created_at": 1_700_000_000,
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }

    def create_batch(self, body):
        assert body["endpoint"] == "/v1/chat/completions" and body["completion_window"] == "24h", body
        input_file_id = body["input_file_id"]
        assert input_file_id in self.files, input_file_id
        with self._lock:
            batch_id = self._new_id("batch", self.batches)
            self.batches[batch_id] = {"input_file_id": input_file_id, "output_file_id": None, "error_file_id": None}
            self.polls[batch_id] = 0
        return self._batch_object(batch_id, "validating")

    def _batch_object(self, batch_id, state):
        batch = self.batches[batch_id]
        n = len(self.files[batch["input_file_id"]].splitlines())
        failed = sum(1 for line in self.files[batch["input_file_id"]].splitlines() if self._failure(line) is not None)
        done = state == "completed"
        return {
            "id": batch_id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "errors": None,
            "input_file_id": batch["input_file_id"],
            "completion_window": "24h",
            "status": state,
            "output_file_id": batch["output_file_id"],
            "error_file_id": batch["error_file_id"],
            "created_at": 1_700_000_100,
            "request_counts": {"total": n, "completed": n - failed if done else 0, "failed": failed if done else 0},
        }

    def _failure(self, line):
        code = self.fail_with.get(json.loads(line)["custom_id"])
        return None if code in ENVELOPE_FAULTS else code

    def retrieve_batch(self, batch_id):
        with self._lock:
            self.polls[batch_id] += 1
            if self.polls[batch_id] <= self.polls_before_done:
                return self._batch_object(batch_id, "in_progress")
            batch = self.batches[batch_id]
            if batch["output_file_id"] is None:
                out, err = self._run(self.files[batch["input_file_id"]])
                batch["output_file_id"] = self._new_id("file", self.files)
                self.files[batch["output_file_id"]] = out
                if err:
                    batch["error_file_id"] = self._new_id("file", self.files)
                    self.files[batch["error_file_id"]] = err
            return self._batch_object(batch_id, "completed")

    def _run(self, input_bytes):
        out, err = [], []
        for i, raw in enumerate(input_bytes.splitlines()):
            request = json.loads(raw)
            assert request["method"] == "POST" and request["url"] == "/v1/chat/completions", request
            custom_id, code = request["custom_id"], self.fail_with.get(request["custom_id"], 200)
            line = {"id": f"batch_req_{i}", "custom_id": custom_id, "error": None}
            if code in ENVELOPE_FAULTS:
                answer = envelope(code, request["body"])
                if isinstance(answer, bytes):  # not JSON: the line carries the page as a string
                    answer = answer.decode()
                line["response"] = {"status_code": 200, "request_id": f"req_{i}", "body": answer}
                out.append(line)
            elif code == 200:
                prompt = request["body"]["messages"][-1]["content"]
                line["response"] = {
                    "status_code": 200,
                    "request_id": f"req_{i}",
                    "body": {
                        "id": f"chatcmpl-{i}",
                        "object": "chat.completion",
                        "model": request["body"]["model"],
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": f"answer to {prompt}"},
                            }
                        ],
                        "usage": {"prompt_tokens": 10 + i, "completion_tokens": 5, "total_tokens": 15 + i},
                    },
                }
                out.append(line)
            elif code == 0:
                line["response"] = None
                line["error"] = {"code": "batch_expired", "message": "not executed before the window expired"}
                err.append(line)
            else:
                message = "Invalid 'messages'" if code < 500 else "The server had an error"
                line["response"] = {
                    "status_code": code,
                    "request_id": f"req_{i}",
                    "body": {
                        "error": {"message": message, "type": "invalid_request_error" if code < 500 else "server_error"}
                    },
                }
                err.append(line)
        return (
            b"".join(json.dumps(x).encode() + b"\n" for x in out),
            b"".join(json.dumps(x).encode() + b"\n" for x in err),
        )

    # ------------------------------------------------------------------ HTTP

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code, payload, content_type="application/json"):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self):
                fake.requests.append((self.command, self.path))
                fake.auth_headers.append(self.headers.get("Authorization", ""))
                if fake.api_key is not None and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    error = {"message": "Incorrect API key provided: sk-***0000.", "code": "invalid_api_key"}
                    self._reply(401, {"error": error})
                    return False
                return True

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not self._record():
                    return
                if self.path == "/v1/files":
                    self._reply(200, fake.upload(self.headers["Content-Type"], body))
                elif self.path == "/v1/batches" and fake.fail_batch_creates > 0:
                    fake.fail_batch_creates -= 1
                    self._reply(500, {"error": {"message": "injected failure"}})
                elif self.path == "/v1/batches":
                    self._reply(200, fake.create_batch(json.loads(body)))
                else:
                    self._reply(404, {"error": {"message": f"no route {self.path}"}})

            def do_GET(self):
                if not self._record():
                    return
                if m := re.fullmatch(r"/v1/batches/([\w-]+)", self.path):
                    if m.group(1) not in fake.batches:
                        self._reply(404, {"error": {"message": "no such batch"}})
                    else:
                        self._reply(200, fake.retrieve_batch(m.group(1)))
                elif m := re.fullmatch(r"/v1/files/([\w-]+)/content", self.path):
                    if m.group(1) not in fake.files:
                        self._reply(404, {"error": {"message": "no such file"}})
                    else:
                        self._reply(200, fake.files[m.group(1)], "application/octet-stream")
                else:
                    self._reply(404, {"error": {"message": f"no route {self.path}"}})

        return Handler
