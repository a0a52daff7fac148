"""`serve`: the audit page on loopback, with the standard library's HTTP server.

Routes:
    GET  /          redirect to the first pair without a verdict (`/?i=N`, 1-based)
    GET  /?i=N      the page of pair N (`pipelines.audit.page.render_page`)
    GET  /api/state JSON: total, reviewed, resume position and every stored review
    POST /api/verdict  JSON `{idx, verdict, note?}` → the stored review
    POST /api/note     JSON `{idx, note}` → the stored review

Why loopback only: the page has no authentication and writes a person's verdicts,
so `serve` refuses any host that is not a loopback address (reach it from another
machine through `ssh -L`). More checks close the holes a loopback server still has
against a web page open in the same browser:

- `Host` must be the server's own `host:port` (or `localhost:port`), else 421: a
  page on a rebound DNS name reaches the socket but names a foreign host.
- A POST's `Origin`, when there is one, must be the server's own
  (`http://host:port`), else 403. Browsers send `Origin` on every POST, the page's
  own `fetch` included, so a cross-site request always carries a foreign one (or
  `null`). A POST with no `Origin` does not come from a browser (curl, a script on
  this machine, which could write the SQLite file anyway) and is allowed, the
  `Host` check still applying.
- POSTs must be `application/json` (415): a cross-site form cannot send that, and
  a cross-site `fetch` needs a CORS preflight this server never grants.

Every page carries a Content-Security-Policy that allows only its own inline style
and script and requests to itself.

No request can end the server or drop a connection unanswered: bodies are checked
by `pipelines.audit.api` (400 for a malformed one, 411 without a length, 413 over
`api.MAX_BODY`), http.server's own refusals are answered as JSON too, and anything
unexpected is a 500 with the traceback in the server's log. Every socket read and
write has a timeout (`read_timeout`): a client that stalls in the request line or
headers is disconnected, one that stalls in the body gets a 408, so a stalled
request holds its thread for at most that long per read. The timeout bounds each
read, not the whole request: a local process trickling a byte at a time could hold
a thread longer, which a loopback-only server accepts.

`ThreadingHTTPServer` serves each connection in a thread (one request each, HTTP/1.0);
the verdict store opens a connection per call, so threads share nothing but the
read-only audit set.
"""

__all__ = ["DEFAULT_READ_TIMEOUT_S", "AuditServer", "check_loopback", "serve"]

import dataclasses
import ipaddress
import json
import math
import os
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipelines.audit.api import POST_ROUTES, ROUTE_VERDICT, RequestError, body_length, parse_post
from pipelines.audit.page import render_page
from pipelines.audit.records import STORE_FILE, load_audit
from pipelines.audit.store import VerdictStore, first_unreviewed
from schemas.errors import AuditError


DEFAULT_READ_TIMEOUT_S = 10.0
"""How long a socket read or write may wait before the connection is given up."""

_LINGER_S = 2.0
_LINGER_BYTES = 1 << 20
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
        read_timeout: Seconds a socket read or write may wait; a client that
            stalls longer is cut off (see the module docstring).

    Raises:
        AuditError: a non-loopback host, a read timeout that is not a positive
            number, or no audit set in `audit_dir`.
    """

    def __init__(
        self, audit_dir: str, host: str = "127.0.0.1", port: int = 0, read_timeout: float = DEFAULT_READ_TIMEOUT_S
    ) -> None:
        address = check_loopback(host)
        if not (isinstance(read_timeout, int | float) and math.isfinite(read_timeout) and read_timeout > 0):
            raise AuditError(f"read timeout {read_timeout!r}: expected a positive number of seconds")
        self.read_timeout = float(read_timeout)
        self.pairs = load_audit(audit_dir)
        if not self.pairs:
            raise AuditError(f"{audit_dir}: the audit set is empty")
        self.idxs = frozenset(pair.idx for pair in self.pairs)
        self.store = VerdictStore(os.path.join(audit_dir, STORE_FILE))
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        super().__init__((address, port), _Handler)
        bound, port = self.server_address[:2]
        shown = f"[{bound}]" if ":" in bound else bound
        # The Host headers answered (a rebound DNS name is another host; browsers pin localhost to loopback) and
        # the Origins a POST may come from: the page itself.
        self.allowed_hosts = frozenset({f"{shown}:{port}", f"localhost:{port}"})
        self.allowed_origins = frozenset(f"http://{h}" for h in self.allowed_hosts)

    def handle_error(self, request: socket.socket, client_address: tuple) -> None:
        """Logs a connection that failed; the server and its other threads carry on.

        A client that went away or stalled mid-answer gets one line; anything
        else (a bug) gets the traceback.
        """
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            print(f"codepref audit serve: {client_address[0]}: connection dropped ({exc!r})", file=sys.stderr)
        else:
            super().handle_error(request, client_address)

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

    def setup(self) -> None:
        # Every read and write on the connection waits at most this long; http.server itself drops a connection
        # that stalls in the request line or headers, and `_read_body` answers 408 for one that stalls in the body.
        self.timeout = self.server.read_timeout
        self._answered = False
        self._unread_body = False
        super().setup()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if isinstance(code, HTTPStatus | int) and int(code) >= 400:
            super().log_request(code, size)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (malformed request line or headers, unknown method), as JSON."""
        self.close_connection = True
        self._json(code, {"error": (message or self.responses.get(code, ("error",))[0])[:300]})

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self._answered = True
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

    def _guarded(self, handle: Callable[[], None]) -> None:
        """Runs a route: a `RequestError` is its answer, anything unexpected a 500; the server carries on."""
        try:
            handle()
        except RequestError as exc:
            self._json(exc.status, {"error": str(exc)})
            if self._unread_body:
                self._linger()
        except (ConnectionError, TimeoutError):
            raise  # the client went away or stalled mid-answer: http.server and `handle_error` drop the connection
        except Exception as exc:  # the last line of defence: a bug answers 500 instead of a dropped connection
            self.log_error("internal error on %s %r; traceback follows", self.command, self.path[:200])
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            if not self._answered:
                error = f"internal error ({type(exc).__name__}); the server's log has the traceback"
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": error})

    def _linger(self) -> None:
        """Half-closes, then discards what the client still sends, for a bounded time.

        Closing a socket with unread bytes resets the connection, and a reset can
        reach the client before it has read the answer; refusing a body without
        reading it (413, 411, 415) therefore waits for the client to finish.
        """
        deadline = time.monotonic() + min(self.timeout, _LINGER_S)
        discarded = 0
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            while discarded < _LINGER_BYTES and (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                discarded += len(chunk)
        except OSError:
            pass  # the client is gone or slow: the answer was sent, the connection closes either way

    def _check_host(self) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1 or hosts[0].strip().lower() not in self.server.allowed_hosts:
            raise RequestError(
                HTTPStatus.MISDIRECTED_REQUEST,
                "unexpected Host header: this server answers " + " or ".join(sorted(self.server.allowed_hosts)),
            )

    def _check_origin(self) -> None:
        origins = self.headers.get_all("Origin")
        if origins is None:
            return  # not a browser's request (see the module docstring)
        if len(origins) != 1 or origins[0] not in self.server.allowed_origins:
            raise RequestError(HTTPStatus.FORBIDDEN, f"Origin {origins[0][:100]!r} is not this server")

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._guarded(self._get)

    do_HEAD = do_GET  # noqa: N815

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self._guarded(self._post)

    def _get(self) -> None:
        self._check_host()
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/api/state":
            self._json(HTTPStatus.OK, self.server.state())
        elif url.path == "/":
            self._page(urllib.parse.parse_qs(url.query).get("i", [None])[0])
        elif url.path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        else:
            raise RequestError(HTTPStatus.NOT_FOUND, f"no route {url.path[:200]}")

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

    def _post(self) -> None:
        self._unread_body = True
        self._check_host()
        self._check_origin()
        route = urllib.parse.urlsplit(self.path).path
        if route not in POST_ROUTES:
            raise RequestError(HTTPStatus.NOT_FOUND, f"no route {route[:200]}")
        if self.headers.get_content_type() != "application/json":
            raise RequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
        length = body_length(
            self.headers.get_all("Content-Length") or [], self.headers.get_all("Transfer-Encoding") or []
        )
        post = parse_post(route, self._read_body(length), self.server.idxs)
        store = self.server.store
        if post.route == ROUTE_VERDICT:
            review = store.mark(post.idx, post.verdict, post.note)
        else:
            review = store.set_note(post.idx, post.note)
        state = self.server.state()
        progress = {"reviewed": state["reviewed"], "total": state["total"]}
        self._json(HTTPStatus.OK, {**dataclasses.asdict(review), **progress})

    def _read_body(self, length: int) -> bytes:
        try:
            raw = self.rfile.read(length)
        except TimeoutError:
            self._unread_body = False  # lingering would only wait for the stalled client again
            raise RequestError(
                HTTPStatus.REQUEST_TIMEOUT, f"the request stalled: no data for {self.timeout:g} s"
            ) from None
        self._unread_body = False
        if len(raw) < length:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"the body ended after {len(raw)} of {length} bytes")
        return raw


def serve(
    audit_dir: str,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
    read_timeout: float = DEFAULT_READ_TIMEOUT_S,
) -> None:
    """Serves the audit page of `audit_dir` until interrupted (Ctrl-C).

    Args:
        audit_dir: A folder holding `audit.jsonl`.
        host: A loopback address; anything else is refused.
        port: The port; 0 picks a free one.
        on_ready: Called with the page's URL once the server listens; by default
            the URL is printed to stdout.
        read_timeout: Seconds a socket read or write may wait before a stalled
            client is cut off.

    Raises:
        AuditError: a non-loopback host, a read timeout that is not a positive
            number, or no audit set in `audit_dir`.
    """
    if threading.current_thread() is threading.main_thread():
        # A process started in the background of a shell inherits SIGINT ignored; Ctrl-C must still stop it.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    with AuditServer(audit_dir, host, port, read_timeout) as server:
        (on_ready or (lambda url: print(url, flush=True)))(server.url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("codepref audit serve: stopped", file=sys.stderr)
