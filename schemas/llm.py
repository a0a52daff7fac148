"""Records and boundary models of the LLM layer.

`EndpointConfig` is validated from YAML; `LLMRequest` is the canonical request a
stage asks for, and `request_key` its cache key; `LLMResult` is what comes back,
from the cache or the endpoint. The answer models are the JSON schemas an
endpoint is asked to follow, and what a JSON answer is validated against.
"""

__all__ = [
    "BugAnswer",
    "EndpointConfig",
    "InstructionAnswer",
    "JudgeAnswer",
    "JudgeRule",
    "LabelConfig",
    "LLMRequest",
    "LLMResult",
    "OutputMode",
    "ProblemAnswer",
    "RatingAnswer",
    "RatingRule",
    "request_key",
]

import hashlib
import json
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field


OutputMode = Literal["json_schema", "json_object_schema", "tags"]


class EndpointConfig(BaseModel):
    """One OpenAI-compatible endpoint, as written in the LLM YAML config.

    The API key is never in the config: `api_key_env` names the environment
    variable that holds it (None for a local server that needs none).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    base_url: str = Field(min_length=1)
    model: str = Field(min_length=1)
    api_key_env: str | None = None
    output_mode: OutputMode = "json_schema"
    max_concurrency: int = Field(default=4, ge=1)
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    timeout_s: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_base_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=60.0, gt=0)
    input_usd_per_mtok: float | None = Field(default=None, ge=0)
    output_usd_per_mtok: float | None = Field(default=None, ge=0)


class LLMRequest(NamedTuple):
    """A canonical chat request; every field is part of the cache key.

    Attributes:
        model: the model name sent to the endpoint.
        messages: (role, content) pairs.
        temperature, top_p, max_tokens, seed: sampling parameters.
        template: the prompt template's name.
        template_version: its version; a new wording is a new key.
        sample_index: which of n samples this is (n votes per pair).
        output_mode: how the answer is structured.
        response_schema: the JSON schema text asked for, or "" in tags mode.
    """

    model: str
    messages: tuple[tuple[str, str], ...]
    temperature: float
    top_p: float
    max_tokens: int
    seed: int | None
    template: str
    template_version: str
    sample_index: int
    output_mode: str
    response_schema: str


def request_key(request: LLMRequest) -> str:
    """Returns the sha256 hex digest of the request's canonical JSON."""
    blob = json.dumps(request._asdict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


class LLMResult(NamedTuple):
    """The outcome of one request.

    Attributes:
        key: the request's cache key.
        text: the answer's text, or None when it failed.
        error: None, or the failure kind: `timeout`, `rate_limited`, `server_error`,
            `connection`, `malformed_*` (a 200 without an answer; see
            `transforms.llm.client`), `bad_request` (terminal, cached) or `awaiting_batch`.
        detail: a short description of the failure.
        prompt_tokens: tokens in, as the endpoint counted them.
        completion_tokens: tokens out.
        cached: True when it came from the cache.
    """

    key: str
    text: str | None
    error: str | None = None
    detail: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False


class RatingAnswer(BaseModel):
    """A commit review: how much the change improves one criterion, 1 to 5."""

    summary: str
    rating: int = Field(ge=1, le=5)


class InstructionAnswer(BaseModel):
    """An instruction synthesised from an (old, new) pair."""

    description: str
    instruction: str


class ProblemAnswer(BaseModel):
    """A problem statement recovered from (chosen, rejected) solutions."""

    description: str
    problem_statement: str


class BugAnswer(BaseModel):
    """Code with functional bugs introduced, and what they are."""

    buggy_code: str
    bug_explanation: str


class JudgeAnswer(BaseModel):
    """A pairwise verdict on one criterion."""

    evaluation: str
    verdict: Literal["A", "B", "TIE"]


class RatingRule(BaseModel):
    """Consensus keep rule of `RateCommits`: mean ≥ min_mean and every rating ≥ min_each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_mean: float = Field(default=4.0, ge=1, le=5)
    min_each: int = Field(default=3, ge=1, le=5)


class JudgeRule(BaseModel):
    """Keep rule of `JudgePairs`, over n votes with the A/B order alternating."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: int = Field(default=8, ge=1)
    temperature: float = Field(default=0.8, ge=0)
    top_p: float = Field(default=0.95, gt=0, le=1)
    min_matches: int = Field(default=6, ge=0)
    max_contradictions: int = Field(default=1, ge=0)
    max_errors: int = Field(default=2, ge=0)


class LabelConfig(BaseModel):
    """The `llm:` part of a config: endpoints, cache and the three labelling stages.

    `raters` name the endpoints whose ratings form the consensus; `instruct` and
    `judge` name one endpoint each (default: the first endpoint). `sample_fraction`
    labels only a stable, hash-chosen share of the pairs (for pilots and demos).
    `max_llm_error_share` (0 to 1, default 0.5) is the largest share of an LLM
    stage's pairs that may be rejected `llm_error`; a run over it writes its
    manifest, then fails (`schemas.errors.LLMErrorShareError`). `batch_size` is
    how many elements a stage looks up in the cache and starts together; the
    requests of all batches and stages share each endpoint's `max_concurrency`
    (`transforms.llm.stage`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoints: tuple[EndpointConfig, ...] = Field(min_length=1)
    cache: str = "llm-cache.sqlite"
    mode: Literal["live", "export", "cache_only"] = "live"
    raters: tuple[str, ...] = ()
    instruct: str | None = None
    judge: str | None = None
    rating: RatingRule = RatingRule()
    judging: JudgeRule = JudgeRule()
    rating_max_tokens: int = Field(default=384, ge=16)
    instruction_max_tokens: int = Field(default=512, ge=16)
    judge_max_tokens: int = Field(default=1024, ge=16)
    max_prompt_chars: int = Field(default=24_000, ge=1000)
    sample_fraction: float = Field(default=1.0, gt=0, le=1)
    batch_size: int = Field(default=16, ge=1)
    max_llm_error_share: float = Field(default=0.5, ge=0, le=1)
    seed: int = 77

    def endpoint(self, name: str | None) -> EndpointConfig:
        """Returns the endpoint called `name` (None: the first one).

        Raises:
            ValueError: no endpoint has that name.
        """
        if name is None:
            return self.endpoints[0]
        for endpoint in self.endpoints:
            if endpoint.name == name:
                return endpoint
        raise ValueError(f"no endpoint named {name!r}; known: {', '.join(e.name for e in self.endpoints)}")

    def rater_endpoints(self) -> tuple[EndpointConfig, ...]:
        """The endpoints whose ratings form the consensus."""
        return tuple(self.endpoint(n) for n in self.raters) if self.raters else (self.endpoints[0],)
