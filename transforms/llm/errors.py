"""Faults of the LLM layer that end a run, and finding them again through Beam's wrapping.

Two ways an LLM problem ends a run instead of turning it into rejects (both
classes live in `schemas.errors`, under `CodeprefError`):

* `EndpointError`: an endpoint refused the run itself: 401 (the key is wrong),
  403 (the key may not use the model) or 404 (no such model, or a wrong
  `base_url`), or the key's environment variable is unset. Every further request
  would fail the same way, and caching such an answer would poison later runs, so
  `LLMClient` caches nothing for it and raises at once. Its message names the
  endpoint, the HTTP status and the environment variable of the key, never the
  key: `endpoint gpt: 401 Unauthorized: check OPENAI_API_KEY`.
* `LLMErrorShareError`: the run finished and wrote its manifest, but some LLM
  stage rejected more than `max_llm_error_share` of its pairs as `llm_error`
  (`llm_error_share_problems`), which says the endpoint was down or broken rather
  than the pairs bad.

An exception raised in a DoFn reaches the pipeline's caller wrapped by Beam (in a
`RuntimeError` carrying the worker's traceback text when the DoFn ran in another
process, or on Dataflow). `find_endpoint_error` recovers the `EndpointError` from
the exception, its causes or that text, so the command line prints the one clear
message rather than a Beam traceback. Beam also logs the failure, with tracebacks,
in the process that ran the DoFn and again where the runner relays worker logs;
`quiet_endpoint_error_logs` (installed by the command line and by the LLM stage's
DoFn in each worker) shortens each such record to the one line of the error.
"""

__all__ = [
    "check_llm_error_share",
    "find_endpoint_error",
    "llm_error_share_problems",
    "quiet_endpoint_error_logs",
    "redact",
]

import logging
import re
from collections.abc import Mapping
from typing import Any

from schemas.errors import EndpointError, LLMErrorShareError


LLM_ERROR = "llm_error"
_WRAPPED = re.compile(r"EndpointError: (endpoint [^\n]*)")
_BEAM_NOTE = re.compile(r"(?: \[while running '[^\n]*?'\])+$")
_KEY_LIKE = re.compile(r"\S*\*{3,}\S*|\b(?:sk|pk|rk|key|hf|api)[-_][\w*\-.]{6,}", re.IGNORECASE)


class _OneLineEndpointErrors(logging.Filter):
    """Rewrites a log record about an `EndpointError` to its one-line message, without a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        found = find_endpoint_error(exc) if exc is not None else None
        if found is None:
            try:
                text = record.getMessage()
            except (TypeError, ValueError):  # a malformed record: leave it to the handler
                return True
            if "EndpointError: endpoint " in text:
                found = find_endpoint_error(Exception(text))
        if found is not None:
            record.msg, record.args = str(found), ()
            record.exc_info = record.exc_text = record.stack_info = None
        return True


def quiet_endpoint_error_logs() -> None:
    """Adds the one-line filter for `EndpointError` records to every root log handler (once each)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _OneLineEndpointErrors) for f in handler.filters):
            handler.addFilter(_OneLineEndpointErrors())


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Returns `text` with every secret value and every key-like token (`sk-...`, `abc***xyz`) replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _KEY_LIKE.sub("[redacted]", text)


def find_endpoint_error(exc: BaseException) -> EndpointError | None:
    """Returns the `EndpointError` behind an exception, however Beam wrapped it, or None.

    Looks at the exception, its `__cause__` and `__context__` chain, and the text
    of each (a worker's traceback arrives as text), and drops Beam's
    ` [while running '...']` notes from the message.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, EndpointError):
            message = str(current).strip().splitlines()[0] if str(current).strip() else ""
            return EndpointError(_BEAM_NOTE.sub("", message))
        match = _WRAPPED.search(str(current))
        if match:  # a traceback as text; in a relayed worker log entry, escaped (`\n`, `\'`)
            message = match.group(1).split("\\n")[0].replace("\\'", "'").replace('\\"', '"')
            return EndpointError(_BEAM_NOTE.sub("", message.strip()))
        todo += [current.__cause__, current.__context__]
    return None


def llm_error_share_problems(manifest: Mapping[str, Any], max_share: float) -> list[str]:
    """Returns one line per LLM stage that rejected more than `max_share` of its input as `llm_error`.

    Args:
        manifest: a run's manifest; its `llm` section names the LLM stages.
        max_share: the largest allowed share, 0 to 1 (a share equal to it passes).

    Returns:
        Lines such as `rate_commits: 9 of 10 pairs (90%) rejected as llm_error, over
        max_llm_error_share 0.5 (errors: server_error 9)`; empty when every stage passes.
    """
    llm = manifest.get("llm") or {}
    problems = []
    for stage in manifest.get("stages", []):
        if stage["name"] not in llm or not stage["in"]:
            continue
        failed = stage["rejected"].get(LLM_ERROR, 0)
        if failed / stage["in"] > max_share:
            errors = ", ".join(f"{kind} {n}" for kind, n in sorted(llm[stage["name"]].get("errors", {}).items()))
            problems.append(
                f"{stage['name']}: {failed} of {stage['in']} pairs ({failed / stage['in']:.0%}) rejected as "
                f"{LLM_ERROR}, over max_llm_error_share {max_share:g}" + (f" (errors: {errors})" if errors else "")
            )
    return problems


def check_llm_error_share(manifest: dict[str, Any], max_share: float) -> None:
    """Raises when some LLM stage of a finished run rejected too many pairs as `llm_error`.

    Raises:
        LLMErrorShareError: see `llm_error_share_problems`; it carries the manifest.
    """
    problems = llm_error_share_problems(manifest, max_share)
    if problems:
        raise LLMErrorShareError(problems, manifest)
