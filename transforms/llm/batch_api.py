"""OpenAI Batch API: export requests, submit, poll, and collect the answers into the cache.

The Batch API answers chat requests within 24 hours at half the price. It is keyed
by the same request hashes as the live path, so a run after `collect` finds every
answered request in the cache and calls the endpoint only for the rest.

Workflow:

1. `export_requests` writes `requests-00000.jsonl`, `requests-00001.jsonl`, ...: one
   line per request, `{"custom_id": <request key>, "method": "POST",
   "url": "/v1/chat/completions", "body": <chat-completions body>}`, sorted by
   custom_id, each file within the API's limits (50,000 requests, 200 MB).
2. `submit` uploads each file and creates one batch per file, recording them in a
   JSON state file. Files are identified by their sha256, so re-running `submit`
   never submits the same content twice, and a run that stopped between the upload
   and the batch creation resumes from the uploaded file.
3. `status` refreshes each batch's status and request counts into the state file.
4. `collect` imports the output and error files of each finished batch (`completed`,
   and the partial results of `expired` or `cancelled` ones) into a `ResponseCache`:

   * HTTP 200 with a text answer → `{"text", "error": None, "detail": "",
     "prompt_tokens", "completion_tokens"}`;
   * any other 4xx except 429, 401, 403 and 404 → `{"text": None, "error":
     "bad_request", "detail": <message>, "prompt_tokens": 0, "completion_tokens": 0}`,
     a terminal answer;
   * 429, 5xx, 401, 403, 404 (refusals of the key or the model: a live run stops
     on them with a clear message instead of finding them cached), lines without a
     response (for example `batch_expired`), malformed answers (the checks of
     `transforms.llm.client.envelope_answer`: no choices, no message, no text
     content), and unreadable lines are not cached, so a live run retries them.

`submit`, `status` and `collect` raise `schemas.errors.EndpointError` when
the API answers 401, 403 or 404, naming the endpoint, the status and the key's
environment variable.

The client is built from the `EndpointConfig` with the SDK's retries off; the API key
is read from the environment variable the config names and is never written to the
state file, the cache or the logs. The state file holds only ids, paths, hashes,
statuses and counts.
"""

__all__ = [
    "BATCH_URL",
    "COLLECTABLE_STATUSES",
    "MAX_BYTES_PER_FILE",
    "MAX_REQUESTS_PER_FILE",
    "TERMINAL_STATUSES",
    "batch_line",
    "collect",
    "export_requests",
    "parse_output_line",
    "status",
    "submit",
]

import datetime
import functools
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from schemas.llm import EndpointConfig
from transforms.llm.cache import ResponseCache
from transforms.llm.client import FATAL_KINDS, MalformedEnvelopeError, endpoint_error, envelope_answer


_LOG = logging.getLogger(__name__)

BATCH_URL = "/v1/chat/completions"
COMPLETION_WINDOW = "24h"
MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 200 * 1024 * 1024
TERMINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})
COLLECTABLE_STATUSES = frozenset({"completed", "expired", "cancelled"})
ERROR_BAD_REQUEST = "bad_request"
STATE_VERSION = 1
_FILE_NAME = "requests-{:05d}.jsonl"
_DETAIL_CHARS = 500
_PUT_CHUNK = 1000


# --------------------------------------------------------------------------- export


def batch_line(custom_id: str, body: Mapping[str, Any]) -> bytes:
    """Returns one Batch API input line (UTF-8 JSON, sorted keys, newline-terminated).

    Raises:
        ValueError: the body holds text that is not valid UTF-8 (a lone surrogate).
    """
    record = {"custom_id": custom_id, "method": "POST", "url": BATCH_URL, "body": body}
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError as e:
        raise ValueError(f"request {custom_id} is not valid UTF-8: {e}") from None


def _sorted_unique_lines(items: Iterable[tuple[str, Mapping[str, Any]]], presorted: bool) -> Iterator[bytes]:
    """Yields each custom_id's line once, in custom_id order.

    Raises:
        ValueError: one custom_id with two different bodies, or (presorted) input out of order.
    """
    if presorted:
        previous: tuple[str, bytes] | None = None
        for custom_id, body in items:
            line = batch_line(custom_id, body)
            if previous is not None:
                if custom_id < previous[0]:
                    raise ValueError(f"input is not sorted by custom_id: {custom_id} after {previous[0]}")
                if custom_id == previous[0]:
                    _check_same(custom_id, previous[1], line)
                    continue
            previous = (custom_id, line)
            yield line
        return
    lines: dict[str, bytes] = {}
    for custom_id, body in items:
        line = batch_line(custom_id, body)
        if custom_id in lines:
            _check_same(custom_id, lines[custom_id], line)
        else:
            lines[custom_id] = line
    for custom_id in sorted(lines):
        yield lines.pop(custom_id)


def _check_same(custom_id: str, first: bytes, second: bytes) -> None:
    if first != second:
        raise ValueError(f"custom_id {custom_id} appears with two different bodies")


def export_requests(
    items: Iterable[tuple[str, Mapping[str, Any]]],
    out_dir: str,
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
    presorted: bool = False,
) -> list[str]:
    """Writes Batch API input files, sorted by custom_id and split within the limits.

    Unless `presorted`, every serialised line is held in memory to sort them (about
    the total size of the files written); with `presorted=True` the input is
    streamed and must already be sorted by custom_id. Earlier `requests-*.jsonl`
    files in `out_dir` beyond the ones written are removed, so the folder always
    holds exactly one export.

    Args:
        items: (custom_id, body) pairs: the request key, and the chat-completions
            request body. A repeated custom_id is written once.
        out_dir: the folder to write into: local (created if needed) or any Beam
            filesystem path such as `gs://bucket/batch`.
        max_requests: the most lines per file.
        max_bytes: the most bytes per file.
        presorted: the items already come in custom_id order.

    Returns:
        The paths written, in order.

    Raises:
        ValueError: a single line exceeds `max_bytes`, a custom_id repeats with a
            different body, or presorted input is out of order.
    """
    from apache_beam.io.filesystems import CompressionTypes, FileSystems

    if max_requests < 1 or max_bytes < 1:
        raise ValueError("max_requests and max_bytes must be positive")
    paths: list[str] = []
    out = None
    count = size = 0
    try:
        for line in _sorted_unique_lines(items, presorted):
            if len(line) > max_bytes:
                raise ValueError(f"one request is {len(line)} bytes, over max_bytes={max_bytes}")
            if out is None or count + 1 > max_requests or size + len(line) > max_bytes:
                if out is not None:
                    out.close()
                paths.append(FileSystems.join(out_dir, _FILE_NAME.format(len(paths))))
                out = FileSystems.create(paths[-1], "application/jsonl", CompressionTypes.UNCOMPRESSED)
                count = size = 0
            out.write(line)
            count += 1
            size += len(line)
    finally:
        if out is not None:
            out.close()
    existing = FileSystems.match([FileSystems.join(out_dir, "requests-*.jsonl")])[0].metadata_list
    written = {_FILE_NAME.format(i) for i in range(len(paths))}
    stale = sorted(m.path for m in existing if m.path.rstrip("/").rsplit("/", 1)[-1] not in written)
    if stale:
        _LOG.info("removing %d request files from an earlier export", len(stale))
        FileSystems.delete(stale)
    return paths


# --------------------------------------------------------------------------- state


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _load_state(state_path: str, endpoint: EndpointConfig, create: bool = False) -> dict:
    """Reads the state file, checking it belongs to `endpoint`'s server.

    Raises:
        FileNotFoundError: no state file and not `create`.
        ValueError: the state was written for another base_url, or by another version.
    """
    path = Path(state_path)
    if create and not path.exists():
        return {"version": STATE_VERSION, "endpoint": endpoint.name, "base_url": endpoint.base_url, "batches": []}
    state = json.loads(path.read_text(encoding="utf-8"))
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"{state_path}: unsupported state version {state.get('version')}")
    if state.get("base_url") != endpoint.base_url:
        raise ValueError(f"{state_path} tracks batches on {state.get('base_url')}, not {endpoint.base_url}")
    return state


def _save_state(state_path: str, state: dict) -> None:
    """Writes the state file atomically (temporary file, then rename)."""
    path = Path(state_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _open(path: str) -> Any:
    from apache_beam.io.filesystems import CompressionTypes, FileSystems

    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with _open(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _client(endpoint: EndpointConfig) -> Any:
    """Builds the SDK client: no SDK retries, the key only from the environment."""
    from openai import OpenAI

    api_key = (os.environ.get(endpoint.api_key_env) if endpoint.api_key_env else None) or "none"
    return OpenAI(base_url=endpoint.base_url, api_key=api_key, max_retries=0, timeout=endpoint.timeout_s)


def _stop_on_refusal(fn: Any) -> Any:
    """Turns a 401, 403 or 404 from the API into an `EndpointError` naming the endpoint (an argument of `fn`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            import openai

            if not isinstance(exc, openai.APIStatusError) or exc.status_code not in FATAL_KINDS:
                raise
            endpoint = next(a for a in (*args, *kwargs.values()) if isinstance(a, EndpointConfig))
            body = exc.body if isinstance(exc.body, dict) else {}
            what = f"check base_url {endpoint.base_url} and the file and batch ids in the state file"
            raise endpoint_error(endpoint, exc.status_code, str(body.get("message") or ""), what=what) from None

    return wrapper


# --------------------------------------------------------------------------- submit / status


@_stop_on_refusal
def submit(paths: Iterable[str], endpoint: EndpointConfig, state_path: str) -> dict:
    """Uploads each file and creates one batch per file, skipping files already submitted.

    The state file is rewritten after every upload and every batch creation, so an
    interrupted run loses nothing and a re-run resumes.

    Args:
        paths: Batch API input files, as written by `export_requests` (any Beam
            filesystem path; each is read into memory to upload it).
        endpoint: the endpoint whose server runs the batches.
        state_path: the local JSON state file (created if missing).

    Returns:
        The state: `{"version", "endpoint", "base_url", "batches": [...]}`, each batch
        `{"path", "sha256", "input_file_id", "batch_id", "created_at", "submitted_at",
        "status", "request_counts", "output_file_id", "error_file_id", "collected", ...}`.
    """
    state = _load_state(state_path, endpoint, create=True)
    client = _client(endpoint)
    by_sha = {entry["sha256"]: entry for entry in state["batches"]}
    for path in paths:
        sha = _file_sha256(path)
        entry = by_sha.get(sha)
        if entry is not None and entry.get("batch_id"):
            _LOG.info("%s already submitted as %s", path, entry["batch_id"])
            continue
        if entry is None:
            with _open(path) as f:
                uploaded = client.files.create(
                    file=(path.rsplit("/", 1)[-1], f.read(), "application/jsonl"), purpose="batch"
                )
            entry = {
                "path": str(path),
                "sha256": sha,
                "input_file_id": uploaded.id,
                "batch_id": None,
                "collected": False,
            }
            state["batches"].append(entry)
            by_sha[sha] = entry
            _save_state(state_path, state)
        batch = client.batches.create(
            input_file_id=entry["input_file_id"], endpoint=BATCH_URL, completion_window=COMPLETION_WINDOW
        )
        entry.update(batch_id=batch.id, created_at=batch.created_at, submitted_at=_now())
        _update_entry(entry, batch)
        _save_state(state_path, state)
        _LOG.info("submitted %s as batch %s", path, batch.id)
    return state


def _update_entry(entry: dict, batch: Any) -> None:
    """Copies a `Batch`'s status, counts, file ids and errors into a state entry."""
    counts = batch.request_counts
    entry["status"] = batch.status
    entry["request_counts"] = (
        {"total": counts.total, "completed": counts.completed, "failed": counts.failed} if counts else None
    )
    entry["output_file_id"] = batch.output_file_id
    entry["error_file_id"] = batch.error_file_id
    errors = getattr(batch.errors, "data", None) or []
    entry["errors"] = [f"{e.code}: {e.message}"[:_DETAIL_CHARS] for e in errors]
    entry["refreshed_at"] = _now()


def _refresh(client: Any, state: dict) -> None:
    for entry in state["batches"]:
        if entry.get("batch_id") and entry.get("status") not in TERMINAL_STATUSES:
            _update_entry(entry, client.batches.retrieve(entry["batch_id"]))


@_stop_on_refusal
def status(state_path: str, endpoint: EndpointConfig) -> list[dict]:
    """Refreshes every unfinished batch from the API and rewrites the state file.

    Args:
        state_path: the state file written by `submit`.
        endpoint: the endpoint the batches were submitted to.

    Returns:
        One dict per batch, as stored in the state file.
    """
    state = _load_state(state_path, endpoint)
    _refresh(_client(endpoint), state)
    _save_state(state_path, state)
    return state["batches"]


# --------------------------------------------------------------------------- collect


def _error_detail(body: Any, status_code: int) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if not message:
        message = body if isinstance(body, str) else json.dumps(body, sort_keys=True)
    return f"HTTP {status_code}: {message}"[:_DETAIL_CHARS]


def parse_output_line(record: Mapping[str, Any]) -> tuple[str | None, dict | None]:
    """Maps one Batch API output or error line to (custom_id, cache value).

    Args:
        record: the decoded line, `{"custom_id", "response": {"status_code", "body"}, "error"}`.

    Returns:
        The custom_id (None if absent) and the value to cache, or None when the line
        must not be cached (429, 5xx, 401, 403, 404, no response, a malformed answer).
    """
    custom_id = record.get("custom_id")
    response = record.get("response")
    if not custom_id or not isinstance(response, dict):
        return custom_id, None
    code = int(response.get("status_code") or 0)
    body = response.get("body")
    if 200 <= code < 300:
        try:
            text, prompt_tokens, completion_tokens = envelope_answer(body)
        except MalformedEnvelopeError:
            return custom_id, None
        return custom_id, {
            "text": text,
            "error": None,
            "detail": "",
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
        }
    if code in FATAL_KINDS:
        return custom_id, None
    if 400 <= code < 500 and code != 429:
        return custom_id, {
            "text": None,
            "error": ERROR_BAD_REQUEST,
            "detail": _error_detail(body, code),
            "prompt_tokens": 0,
            "completion_tokens": 0,
        }
    return custom_id, None


def _import_file(client: Any, file_id: str, cache: ResponseCache) -> dict[str, int]:
    """Streams one output or error file into the cache, `_PUT_CHUNK` values per write."""
    counts = {"imported": 0, "errors_cached": 0, "not_cached": 0}
    pending: dict[str, dict] = {}
    with client.files.with_streaming_response.content(file_id) as response:
        for raw in response.iter_lines():
            if not raw.strip():
                continue
            try:
                custom_id, value = parse_output_line(json.loads(raw))
            except ValueError:
                _LOG.warning("unreadable line in batch file %s", file_id)
                custom_id, value = None, None
            if value is None:
                counts["not_cached"] += 1
                continue
            counts["errors_cached" if value["error"] else "imported"] += 1
            pending[custom_id] = value
            if len(pending) >= _PUT_CHUNK:
                cache.put_many(pending)
                pending = {}
    if pending:
        cache.put_many(pending)
    return counts


@_stop_on_refusal
def collect(state_path: str, endpoint: EndpointConfig, cache: ResponseCache) -> dict[str, int]:
    """Imports the results of every finished, not yet collected batch into `cache`.

    Refreshes the batches first (as `status` does). A batch is marked collected only
    after both its files are imported, so an interrupted collect is simply re-run.

    Args:
        state_path: the state file written by `submit`.
        endpoint: the endpoint the batches were submitted to.
        cache: where the results go, keyed by custom_id.

    Returns:
        `{"imported", "errors_cached", "not_cached", "batches_collected"}`: answers
        cached, terminal 4xx errors cached, lines left for a live retry, and batches
        collected by this call.
    """
    state = _load_state(state_path, endpoint)
    client = _client(endpoint)
    _refresh(client, state)
    _save_state(state_path, state)
    totals = {"imported": 0, "errors_cached": 0, "not_cached": 0, "batches_collected": 0}
    for entry in state["batches"]:
        if entry.get("collected") or entry.get("status") not in COLLECTABLE_STATUSES:
            continue
        counts = {"imported": 0, "errors_cached": 0, "not_cached": 0}
        for file_id in (entry.get("output_file_id"), entry.get("error_file_id")):
            if file_id:
                for name, n in _import_file(client, file_id, cache).items():
                    counts[name] += n
        entry.update(collected=True, collected_at=_now(), collect_counts=counts)
        _save_state(state_path, state)
        for name, n in counts.items():
            totals[name] += n
        totals["batches_collected"] += 1
        _LOG.info("collected batch %s: %s", entry["batch_id"], counts)
    return totals
