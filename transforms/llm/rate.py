"""`RateCommits`: each rater endpoint scores how much a commit improves its criterion.

Input: `PairRecord`s built from commits (chosen = new code, rejected = old code).
Each rater sees the old and new code, the message and the diff (template
`commit_review`, temperature 0) and answers a 1–5 rating. The pair is kept when the
consensus rule holds (default: mean ≥ 4 and no rating < 3); `rating_mean` and the
ratings with their summaries go into provenance.

Reject reasons: `too_long_for_llm`, `rating_unparseable` (some rater's answer did
not parse; the raw answer is in the payload, never guessed), `low_rating`,
`llm_error`, `awaiting_batch`.
"""

__all__ = ["STAGE", "RateCommits", "RateTask", "consensus"]

import dataclasses
from collections.abc import Sequence

from schemas.llm import EndpointConfig, LabelConfig, LLMResult, RatingRule
from schemas.records import PairRecord, RejectRecord
from transforms.llm.parsing import ParseFailure, parse_answer
from transforms.llm.requests import build_request, derived_seed, merge_details, too_long, unified_diff
from transforms.llm.stage import Plan, RunLLMTask, for_config, transport_reject


STAGE = "rate_commits"
UNPARSEABLE = "rating_unparseable"
LOW_RATING = "low_rating"


def consensus(ratings: Sequence[int], rule: RatingRule) -> bool:
    """True when the ratings pass the rule: mean ≥ min_mean and each ≥ min_each."""
    return bool(ratings) and sum(ratings) / len(ratings) >= rule.min_mean and min(ratings) >= rule.min_each


@dataclasses.dataclass(frozen=True)
class RateTask:
    """The pure part of `RateCommits` (see the module docstring)."""

    raters: tuple[EndpointConfig, ...]
    rule: RatingRule
    max_tokens: int = 384
    max_prompt_chars: int = 24_000
    seed: int = 77
    stage: str = STAGE

    def plan(self, pair: PairRecord) -> Plan | RejectRecord:
        """One rating request per rater."""
        problem = too_long(STAGE, pair, self.max_prompt_chars)
        if problem:
            return problem
        context = {
            "criterion": pair.aspect,
            "language": pair.language,
            "old_code": pair.rejected,
            "new_code": pair.chosen,
            "message": pair.commit_message,
            "diff": unified_diff(pair.rejected, pair.chosen, pair.file_path or "file"),
        }
        seed = derived_seed(self.seed, pair.idx, "rate")
        sampling = {"temperature": 0.0, "top_p": 1.0, "max_tokens": self.max_tokens, "seed": seed}
        return Plan(tuple((e.name, build_request(e, "commit_review", context, **sampling)) for e in self.raters))

    def finish(self, pair: PairRecord, results: Sequence[LLMResult]) -> PairRecord | RejectRecord:
        """Applies the consensus rule to the parsed ratings."""
        problem = transport_reject(STAGE, pair.idx, results)
        if problem:
            return problem
        ratings, summaries = [], []
        for endpoint, result in zip(self.raters, results, strict=True):
            answer = parse_answer(result.text, "commit_review", endpoint.output_mode)
            if isinstance(answer, ParseFailure):
                payload = {"endpoint": endpoint.name, "raw": result.text}
                return RejectRecord.make(STAGE, UNPARSEABLE, pair.idx, f"{answer.reason}: {answer.detail}", payload)
            ratings.append(answer.rating)
            summaries.append(answer.summary)
        mean = sum(ratings) / len(ratings)
        if not consensus(ratings, self.rule):
            return RejectRecord.make(STAGE, LOW_RATING, pair.idx, f"ratings {ratings}, mean {mean:.2f}")
        details = [
            {"endpoint": e.name, "rating": r, "summary": s}
            for e, r, s in zip(self.raters, ratings, summaries, strict=True)
        ]
        return pair._replace(rating_mean=mean, label_details=merge_details(pair.label_details, "ratings", details))


class RateCommits(RunLLMTask):
    """Rates commit pairs through the cached LLM client (`RunLLMTask` over `RateTask`)."""

    @classmethod
    def from_config(cls, task: RateTask, label_cfg: LabelConfig) -> "RateCommits":
        """Uses the config's endpoints, cache, mode and batch size."""
        return for_config(cls, task, label_cfg)
