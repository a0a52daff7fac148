"""`JudgePairs`: n pairwise votes per pair, with the A/B order alternating.

Vote i shows the chosen code as A when i is even and as B when i is odd, so half
the votes see each order and a judge that always answers "A" nets no preference.
Each verdict maps back to the underlying side: a `match` picks chosen, a
`contradiction` picks rejected, `tie`, or `error` (the answer did not parse; the
raw text is kept, never guessed).

Statistics kept in provenance: matches, contradictions, ties, errors, and in
`label_details.judge`: every verdict with its order and rationale, `a_rate` (share
of valid votes for position A) and `position_consistency` (share of vote pairs
2k, 2k+1 — the same pair in both orders — that pick the same side).

Keep rule (config): errors ≤ max_errors, matches ≥ min_matches and contradictions
≤ max_contradictions. Reject reasons: `judge_unparseable` (too many errors),
`judge_disagrees`, `too_long_for_llm`, `llm_error`, `awaiting_batch`.
"""

__all__ = ["STAGE", "JudgePairs", "JudgeTask", "VoteStats", "aggregate_votes", "chosen_first"]

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

from schemas.llm import EndpointConfig, JudgeRule, LabelConfig, LLMRequest, LLMResult
from schemas.records import PairRecord, RejectRecord
from transforms.llm.parsing import ParseFailure, parse_answer
from transforms.llm.requests import build_request, derived_seed, merge_details, too_long
from transforms.llm.stage import Plan, RunLLMTask, for_config, transport_reject


STAGE = "judge_pairs"
UNPARSEABLE = "judge_unparseable"
DISAGREES = "judge_disagrees"


def chosen_first(sample_index: int) -> bool:
    """True when vote `sample_index` shows the chosen code as A."""
    return sample_index % 2 == 0


class VoteStats(NamedTuple):
    """Aggregated votes of one pair."""

    matches: int
    contradictions: int
    ties: int
    errors: int
    a_rate: float | None
    position_consistency: float | None


def _side(verdict: str | None, first: bool) -> str | None:
    if verdict is None:
        return None
    if verdict == "TIE":
        return "tie"
    return "chosen" if (verdict == "A") == first else "rejected"


def aggregate_votes(verdicts: Sequence[str | None]) -> VoteStats:
    """Aggregates verdicts (`A`, `B`, `TIE` or None for an error), vote i in order i."""
    sides = [_side(v, chosen_first(i)) for i, v in enumerate(verdicts)]
    valid = [v for v in verdicts if v is not None]
    a_rate = sum(v == "A" for v in valid) / len(valid) if valid else None
    both = [(sides[i], sides[i + 1]) for i in range(0, len(sides) - 1, 2) if sides[i] and sides[i + 1]]
    consistency = sum(a == b for a, b in both) / len(both) if both else None
    return VoteStats(
        matches=sides.count("chosen"),
        contradictions=sides.count("rejected"),
        ties=sides.count("tie"),
        errors=sides.count(None),
        a_rate=a_rate,
        position_consistency=consistency,
    )


@dataclasses.dataclass(frozen=True)
class JudgeTask:
    """The pure part of `JudgePairs` (see the module docstring)."""

    endpoint: EndpointConfig
    rule: JudgeRule
    max_tokens: int = 1024
    max_prompt_chars: int = 24_000
    seed: int = 77
    stage: str = STAGE

    def plan(self, pair: PairRecord) -> Plan | RejectRecord:
        """`rule.samples` votes, the order alternating."""
        problem = too_long(STAGE, pair, self.max_prompt_chars, with_input=True)
        if problem:
            return problem
        requests = []
        rendered: dict[bool, LLMRequest] = {}  # the votes of one order differ only in seed and index
        for i in range(self.rule.samples):
            first, seed = chosen_first(i), derived_seed(self.seed, pair.idx, "judge", i)
            if first in rendered:
                request = rendered[first]._replace(seed=seed, sample_index=i)
            else:
                context = {
                    "criterion": pair.aspect,
                    "language": pair.language,
                    "prompt": pair.input,
                    "completion_a": pair.chosen if first else pair.rejected,
                    "completion_b": pair.rejected if first else pair.chosen,
                }
                request = rendered[first] = build_request(
                    self.endpoint,
                    "pairwise_judge",
                    context,
                    temperature=self.rule.temperature,
                    top_p=self.rule.top_p,
                    max_tokens=self.max_tokens,
                    seed=seed,
                    sample_index=i,
                )
            requests.append((self.endpoint.name, request))
        return Plan(tuple(requests))

    def finish(self, pair: PairRecord, results: Sequence[LLMResult]) -> PairRecord | RejectRecord:
        """Aggregates the votes and applies the keep rule."""
        problem = transport_reject(STAGE, pair.idx, results)
        if problem:
            return problem
        verdicts: list[str | None] = []
        votes = []
        for i, result in enumerate(results):
            answer = parse_answer(result.text, "pairwise_judge", self.endpoint.output_mode)
            if isinstance(answer, ParseFailure):
                verdicts.append(None)
                votes.append({"chosen_first": chosen_first(i), "error": answer.reason, "raw": result.text})
            else:
                verdicts.append(answer.verdict)
                votes.append(
                    {"chosen_first": chosen_first(i), "verdict": answer.verdict, "rationale": answer.evaluation}
                )
        stats = aggregate_votes(verdicts)
        details = {"votes": votes, "a_rate": stats.a_rate, "position_consistency": stats.position_consistency}
        labelled = pair._replace(
            judge_matches=stats.matches,
            judge_contradictions=stats.contradictions,
            judge_ties=stats.ties,
            judge_errors=stats.errors,
            label_details=merge_details(pair.label_details, "judge", details),
        )
        summary = (
            f"matches {stats.matches}, contradictions {stats.contradictions}, ties {stats.ties}, errors {stats.errors}"
        )
        if stats.errors > self.rule.max_errors:
            return RejectRecord.make(STAGE, UNPARSEABLE, pair.idx, summary, labelled.to_row())
        if stats.matches < self.rule.min_matches or stats.contradictions > self.rule.max_contradictions:
            return RejectRecord.make(STAGE, DISAGREES, pair.idx, summary, labelled.to_row())
        return labelled


class JudgePairs(RunLLMTask):
    """Judges pairs through the cached LLM client (`RunLLMTask` over `JudgeTask`)."""

    @classmethod
    def from_config(cls, task: JudgeTask, label_cfg: LabelConfig) -> "JudgePairs":
        """Uses the config's endpoints, cache, mode and batch size."""
        return for_config(cls, task, label_cfg)
