"""`serve`: the audit page on loopback, with the standard library's HTTP server.

Routes:
    GET  /          redirect to the first pair without a verdict (`/?i=N`, 1-based)
    GET  /?i=N      the page of pair N (`pipelines.audit.page.render_page`)
    GET  /api/state JSON: total, reviewed, resume position and every stored review
    POST /api/verdict  JSON `{idx, verdict, note?}` → the stored review
    POST /api/note     JSON `{idx, note}` → the stored review

Why loopback only: the page has no authentication and writes a person's verdicts,
so `serve` refuses any host that is not a loopback address (reach it from another
machine through `ssh -L`). Two more checks close the holes a loopback server
still has against a web page open in the same browser: the `Host` header must be
the loopback address the server is on (DNS rebinding), and POSTs must be
`application/json` (a cross-site form cannot send that without a CORS preflight,
which this server never grants). Every page carries a Content-Security-Policy
that allows only its own inline style and script and requests to itself.

`ThreadingHTTPServer` serves each request in a thread; the verdict store opens a
connection per call, so threads share nothing but the read-only audit set.
"""

__all__ = ["AuditServer", "check_loopback", "serve"]

import dataclasses
import ipaddress
import json
import os
import signal
import socket
import sys
import threading
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipelines.audit.page import render_page
from pipelines.audit.records import STORE_FILE, AuditError, load_audit
from pipelines.audit.store import VerdictStore, first_unreviewed


_MAX_BODY = 256 * 1024
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def check_loopback(host: str) -> str:
    """Returns the loopback IP address to bind for `host`.

    Only IP literals in 127.0.0.0/8 or ::1, and the name `localhost` (taken as
    127.0.0.1, not resolved, since a hosts file could map it elsewhere), are
    accepted.

    Raises:
        AuditError: `host` is anything else, including `0.0.0.0` and `::`.
    """
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise AuditError(
            f"refusing to serve the audit page on {host!r}: it has no authentication, so it binds to a loopback "
            "address only (127.0.0.1, ::1 or localhost); from another machine, use `ssh -L PORT:127.0.0.1:PORT`"
        )
    return str(address)


class AuditServer(ThreadingHTTPServer):
    """The audit page of one audit folder, bound to a loopback address.

    Args:
        audit_dir: A folder holding `audit.jsonl` (and `verdicts.sqlite`, created
            when missing).
        host: A loopback address (see `check_loopback`).
        port: The port; 0 picks a free one (see `url`).

    Raises:
        AuditError: a non-loopback host, or no audit set in `audit_dir`.
    """

    def __init__(self, audit_dir: str, host: str = "127.0.0.1", port: int = 0) -> None:
        address = check_loopback(host)
        self.pairs = load_audit(audit_dir)
        if not self.pairs:
            raise AuditError(f"{audit_dir}: the audit set is empty")
        self.idxs = frozenset(pair.idx for pair in self.pairs)
        self.store = VerdictStore(os.path.join(audit_dir, STORE_FILE))
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        super().__init__((address, port), _Handler)

    @property
    def url(self) -> str:
        """The page's base URL, e.g. `http://127.0.0.1:8765/`."""
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def state(self) -> dict[str, Any]:
        """Progress and every review, as served by `/api/state`."""
        reviews = self.store.all()
        idxs = [p.idx for p in self.pairs]
        return {
            "total": len(idxs),
            "reviewed": sum(1 for i in idxs if i in reviews and reviews[i].verdict),
            "resume": first_unreviewed(idxs, reviews),
            "reviews": {i: dataclasses.asdict(reviews[i]) for i in idxs if i in reviews},
        }


class _Handler(BaseHTTPRequestHandler):
    server: AuditServer
    server_version = "codepref-audit"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if isinstance(code, HTTPStatus | int) and int(code) >= 400:
            super().log_request(code, size)

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", _CSP)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _host_ok(self) -> bool:
        host, port = self.server.server_address[:2]
        allowed = {f"{host}:{port}", f"[{host}]:{port}", f"localhost:{port}"}  # browsers pin localhost to loopback
        if self.headers.get("Host", "") in allowed:
            return True
        self._json(HTTPStatus.MISDIRECTED_REQUEST, {"error": "unexpected Host header"})
        return False

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if not self._host_ok():
            return
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/api/state":
            self._json(HTTPStatus.OK, self.server.state())
        elif url.path == "/":
            self._page(urllib.parse.parse_qs(url.query).get("i", [None])[0])
        elif url.path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {url.path}"})

    do_HEAD = do_GET  # noqa: N815

    def _page(self, number: str | None) -> None:
        pairs = self.server.pairs
        reviews = self.server.store.all()
        if number is None:
            resume = first_unreviewed([p.idx for p in pairs], reviews)
            self._send(HTTPStatus.FOUND, b"", "text/plain", {"Location": f"/?i={(resume or 0) + 1}"})
            return
        statuses = [(reviews[p.idx].verdict if p.idx in reviews else None) for p in pairs]
        try:
            position = min(max(int(number), 1), len(pairs)) - 1
        except ValueError:
            position = 0
        banner = f"All {len(pairs)} pairs have a verdict." if all(statuses) else None
        page = render_page(pairs[position], position, statuses, reviews, banner)
        self._send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        if not self._host_ok():
            return
        if self.headers.get_content_type() != "application/json":
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send application/json"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= _MAX_BODY:
            self._json(HTTPStatus.BAD_REQUEST, {"error": f"body must be 1 to {_MAX_BODY} bytes"})
            return
        try:
            body = json.loads(self.rfile.read(length))
            idx = body["idx"]
        except (ValueError, KeyError, TypeError):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "expected a JSON object with idx"})
            return
        if idx not in self.server.idxs:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"idx {idx!r} is not in the audit set"})
            return
        note = body.get("note")
        if note is not None and not isinstance(note, str):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "note must be a string"})
            return
        store = self.server.store
        try:
            if self.path == "/api/verdict":
                review = store.mark(idx, body.get("verdict"), note)
            elif self.path == "/api/note":
                review = store.set_note(idx, note or "")
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {self.path}"})
                return
        except AuditError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        state = self.server.state()
        progress = {"reviewed": state["reviewed"], "total": state["total"]}
        self._json(HTTPStatus.OK, {**dataclasses.asdict(review), **progress})


def serve(
    audit_dir: str, host: str = "127.0.0.1", port: int = 0, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serves the audit page of `audit_dir` until interrupted (Ctrl-C).

    Args:
        audit_dir: A folder holding `audit.jsonl`.
        host: A loopback address; anything else is refused.
        port: The port; 0 picks a free one.
        on_ready: Called with the page's URL once the server listens; by default
            the URL is printed to stdout.

    Raises:
        AuditError: a non-loopback host, or no audit set in `audit_dir`.
    """
    if threading.current_thread() is threading.main_thread():
        # A process started in the background of a shell inherits SIGINT ignored; Ctrl-C must still stop it.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    with AuditServer(audit_dir, host, port) as server:
        (on_ready or (lambda url: print(url, flush=True)))(server.url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("codepref audit serve: stopped", file=sys.stderr)
