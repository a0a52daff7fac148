"""Pure helpers shared by the labelling stages: requests, seeds, details."""

__all__ = ["TOO_LONG", "build_request", "derived_seed", "merge_details", "too_long", "unified_diff"]

import difflib
import hashlib
import json
from typing import Any

from schemas.llm import EndpointConfig, LLMRequest
from schemas.records import PairRecord, RejectRecord
from transforms.llm.templates import render_messages, response_schema, template_version


TOO_LONG = "too_long_for_llm"


def too_long(stage: str, pair: PairRecord, limit: int, with_input: bool = False) -> RejectRecord | None:
    """Rejects a pair whose code (and input) would make a prompt over `limit` characters."""
    size = len(pair.chosen) + len(pair.rejected) + (len(pair.input) if with_input else 0)
    return RejectRecord.make(stage, TOO_LONG, pair.idx, f"{size} chars > {limit}") if size > limit else None


def derived_seed(*parts: object) -> int:
    """A 31-bit seed derived from content, so sampling is reproducible per request."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()
    return int(digest[:8], 16) & 0x7FFFFFFF


def build_request(
    endpoint: EndpointConfig,
    template: str,
    context: dict[str, Any],
    *,
    temperature: float,
    top_p: float,
    max_tokens: int,
    seed: int | None,
    sample_index: int = 0,
) -> LLMRequest:
    """Renders a template for an endpoint into a canonical `LLMRequest`."""
    mode = endpoint.output_mode
    return LLMRequest(
        model=endpoint.model,
        messages=render_messages(template, output_mode=mode, **context),
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        seed=seed,
        template=template,
        template_version=template_version(template),
        sample_index=sample_index,
        output_mode=mode,
        response_schema="" if mode == "tags" else response_schema(template),
    )


def unified_diff(old: str, new: str, path: str, max_chars: int = 12_000) -> str:
    """Returns a unified diff of old → new, cut to `max_chars`."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=2
    )
    text = "".join(lines)
    return text if len(text) <= max_chars else text[:max_chars] + "\n[diff cut]\n"


def merge_details(existing: str | None, key: str, value: Any) -> str:
    """Adds `key: value` to a pair's JSON `label_details`."""
    details = json.loads(existing) if existing else {}
    details[key] = value
    return json.dumps(details, ensure_ascii=False, sort_keys=True)
