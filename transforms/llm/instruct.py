"""`SynthesizeInstruction`: write the `input` (the prompt) of a pair from its code.

The template `instruction` sees the old and new code and writes the task a
developer would have been given, in one of five problem styles chosen from the
pair's id (so the choice is stable and spread evenly), without hinting which
version is better.

Reject reasons: `instruction_unparseable`, `too_long_for_llm`, `llm_error`,
`awaiting_batch`.
"""

__all__ = ["STAGE", "SynthesizeInstruction", "InstructTask"]

import dataclasses
from collections.abc import Sequence

from schemas.llm import EndpointConfig, LabelConfig, LLMResult
from schemas.records import PairRecord, RejectRecord
from transforms.llm.parsing import ParseFailure, parse_answer
from transforms.llm.requests import build_request, derived_seed, merge_details, too_long
from transforms.llm.stage import Plan, RunLLMTask, for_config, transport_reject
from transforms.llm.templates import problem_style


STAGE = "synthesize_instruction"
UNPARSEABLE = "instruction_unparseable"


@dataclasses.dataclass(frozen=True)
class InstructTask:
    """The pure part of `SynthesizeInstruction` (see the module docstring)."""

    endpoint: EndpointConfig
    max_tokens: int = 512
    max_prompt_chars: int = 24_000
    seed: int = 77
    stage: str = STAGE

    def plan(self, pair: PairRecord) -> Plan | RejectRecord:
        """One instruction request per pair."""
        problem = too_long(STAGE, pair, self.max_prompt_chars)
        if problem:
            return problem
        context = {
            "language": pair.language,
            "old_code": pair.rejected,
            "new_code": pair.chosen,
            "style": problem_style(pair.idx),
        }
        seed = derived_seed(self.seed, pair.idx, "instruct")
        request = build_request(
            self.endpoint, "instruction", context, temperature=0.7, top_p=0.95, max_tokens=self.max_tokens, seed=seed
        )
        return Plan(((self.endpoint.name, request),))

    def finish(self, pair: PairRecord, results: Sequence[LLMResult]) -> PairRecord | RejectRecord:
        """Fills `input` from the parsed instruction."""
        problem = transport_reject(STAGE, pair.idx, results)
        if problem:
            return problem
        answer = parse_answer(results[0].text, "instruction", self.endpoint.output_mode)
        if isinstance(answer, ParseFailure) or not answer.instruction.strip():
            reason = answer.reason if isinstance(answer, ParseFailure) else "empty instruction"
            return RejectRecord.make(STAGE, UNPARSEABLE, pair.idx, reason, {"raw": results[0].text})
        details = {"style": problem_style(pair.idx), "description": answer.description}
        return pair._replace(
            input=answer.instruction.strip(), label_details=merge_details(pair.label_details, "instruction", details)
        )


class SynthesizeInstruction(RunLLMTask):
    """Writes each pair's instruction through the cached LLM client (`RunLLMTask` over `InstructTask`)."""

    @classmethod
    def from_config(cls, task: InstructTask, label_cfg: LabelConfig) -> "SynthesizeInstruction":
        """Uses the config's endpoints, cache, mode and batch size."""
        return for_config(cls, task, label_cfg)
