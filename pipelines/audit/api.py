"""The audit server's JSON API requests, checked by pure functions (no sockets).

`pipelines.audit.server` reads the headers and the body and hands them here; every
check either returns the parsed value or raises `RequestError` with the HTTP status
and a message that says what was wrong, which the server answers as
`{"error": message}`. Nothing in a request can make these functions raise anything
else, so a bad request gets an answer, never a dropped connection.

Statuses:
    400 a malformed body (not UTF-8, not JSON, nested too deeply, not an object;
        `idx` missing or not a string, `verdict` not one of `VERDICTS`, `note` not
        a string) or a malformed `Content-Length` (not a decimal number, negative,
        zero, several different values)
    404 `idx` is not in the audit set
    411 no `Content-Length`, or a `Transfer-Encoding` (chunked) body
    413 a `Content-Length` over the body limit (`MAX_BODY`)
"""

__all__ = [
    "MAX_BODY",
    "POST_ROUTES",
    "ROUTE_NOTE",
    "ROUTE_VERDICT",
    "Post",
    "RequestError",
    "body_length",
    "parse_post",
]

import json
import re
from collections.abc import Collection, Sequence
from http import HTTPStatus
from typing import Any, NamedTuple

from pipelines.audit.store import VERDICTS


MAX_BODY = 256 * 1024
"""The largest request body accepted, in bytes (a verdict and a note are far smaller)."""

ROUTE_VERDICT = "/api/verdict"
"""POST `{idx, verdict, note?}`: stores a verdict (and the note, when given)."""

ROUTE_NOTE = "/api/note"
"""POST `{idx, note}`: stores a note, keeping the verdict."""

POST_ROUTES: tuple[str, ...] = (ROUTE_VERDICT, ROUTE_NOTE)

_DIGITS = re.compile(r"[0-9]+")
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number"}


class RequestError(Exception):
    """A request the server refuses: `status` is the HTTP status, the message says why.

    Args:
        status: The HTTP status to answer with.
        message: What was wrong, for the `error` field of the answer.
    """

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class Post(NamedTuple):
    """A checked API POST: the route, the pair's idx and the values to store."""

    route: str
    idx: str
    verdict: str | None
    note: str | None


def _json_type(value: Any) -> str:  # noqa: ANN401 - any JSON value
    if value is None:
        return "null"
    return _JSON_TYPES.get(type(value), "a number")


def body_length(content_length: Sequence[str], transfer_encoding: Sequence[str], max_body: int = MAX_BODY) -> int:
    """The body's length in bytes, from a request's `Content-Length` headers.

    Only a plain decimal `Content-Length` is taken: `int()` would also accept
    `+5`, `1_0` and ` 5 `, and a chunked body has no length to cap before reading.

    Args:
        content_length: Every `Content-Length` header value of the request.
        transfer_encoding: Every `Transfer-Encoding` header value of the request.
        max_body: The largest body accepted.

    Returns:
        The length, 1 to `max_body`.

    Raises:
        RequestError: 411 for a chunked body or no length, 413 for a length over
            `max_body`, 400 for anything that is not one positive decimal number.
    """
    if transfer_encoding:
        raise RequestError(
            HTTPStatus.LENGTH_REQUIRED,
            f"Transfer-Encoding {transfer_encoding[0][:40]!r} is not accepted: send the body with a Content-Length",
        )
    values = {value.strip(" \t") for value in content_length}
    if not values:
        raise RequestError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is missing")
    if len(values) > 1:
        raise RequestError(HTTPStatus.BAD_REQUEST, "conflicting Content-Length headers")
    (value,) = values
    if not _DIGITS.fullmatch(value):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"Content-Length {value[:40]!r} is not a non-negative integer")
    digits = value.lstrip("0") or "0"
    length = int(digits) if len(digits) <= 18 else max_body + 1  # never int() thousands of digits
    if length == 0:
        raise RequestError(HTTPStatus.BAD_REQUEST, "the body is empty: expected a JSON object")
    if length > max_body:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the body is {value if len(value) <= 18 else 'over ' + str(max_body)} bytes; at most {max_body} "
            "are accepted",
        )
    return length


def parse_post(route: str, raw: bytes, idxs: Collection[str]) -> Post:
    """Parses and checks the body of a POST to `route` (one of `POST_ROUTES`).

    Args:
        route: `ROUTE_VERDICT` or `ROUTE_NOTE`.
        raw: The body as received.
        idxs: The idx of every pair in the audit set.

    Returns:
        The checked request; `verdict` is None for `ROUTE_NOTE`, `note` is None
        when a verdict came without one (the stored note is then kept).

    Raises:
        RequestError: 400 for a malformed body (see the module docstring), 404
            for an idx that is not in the audit set.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        body = json.loads(text)
    except RecursionError:
        raise RequestError(HTTPStatus.BAD_REQUEST, "the body is nested too deeply") from None
    except ValueError as exc:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"the body is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"expected a JSON object, got {_json_type(body)}")
    idx, note = body.get("idx"), body.get("note")
    if "idx" not in body:
        raise RequestError(HTTPStatus.BAD_REQUEST, "idx is missing")
    if not isinstance(idx, str):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"idx must be a string, got {_json_type(idx)}")
    if note is not None and not isinstance(note, str):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"note must be a string, got {_json_type(note)}")
    verdict = None
    if route == ROUTE_VERDICT:
        verdict = body.get("verdict")
        if not isinstance(verdict, str) or verdict not in VERDICTS:
            shown = repr(verdict[:40]) if isinstance(verdict, str) else _json_type(verdict)
            raise RequestError(HTTPStatus.BAD_REQUEST, f"verdict {shown}: expected one of {', '.join(VERDICTS)}")
    elif note is None:
        raise RequestError(HTTPStatus.BAD_REQUEST, "note is missing")
    if idx not in idxs:
        raise RequestError(HTTPStatus.NOT_FOUND, f"idx {idx[:200]!r} is not in the audit set")
    return Post(route, idx, verdict, note)
