"""Functional Correctness pairs from reference solutions: plant a bug, keep the pair.

Two ways, same validation (`transforms.code.planted.bug_reject`): the mutant must parse, differ from the
original in more than whitespace and comments, add no comment, and keep the same
functions (none added or removed).

`MutatePairs` (stage `mutate`): deterministic AST mutations
    (`transforms.code.mutations`), seeded by the pair id; operator, location and
    the replaced snippet go to `label_details.mutation`. Reason `no_valid_mutant`.
    A pair with tests keeps the next candidate mutants too (`pool`), for
    `transforms.execution.stage.VerifyByExecution` to try.
`BugTask` (stage `introduce_bug`): the `bug_introduction` template through the
    LLM layer (run it with `transforms.llm.stage.RunLLMTask`). Reasons
    `bug_unparseable` (the answer), `bug_unparseable_code`, `bug_no_difference`,
    `bug_adds_comment`, `bug_structure_changed`, plus `llm_error`, `awaiting_batch`.
"""

__all__ = ["MUTATE_STAGE", "BugIntroduction", "BugTask", "MutatePairs", "bug_reject", "mutant_pair"]

import dataclasses
import functools
import json
from collections.abc import Sequence

import apache_beam as beam

from schemas.llm import EndpointConfig, LabelConfig, LLMResult
from schemas.records import PairRecord, RejectRecord
from transforms.code.planted import MUTATE_STAGE, bug_reject, mutant_pair
from transforms.llm.parsing import ParseFailure, parse_answer
from transforms.llm.requests import build_request, derived_seed, merge_details
from transforms.llm.stage import Plan, RunLLMTask, for_config, transport_reject


BUG_STAGE = "introduce_bug"
BUG_UNPARSEABLE = "bug_unparseable"


@dataclasses.dataclass
class MutatePairs(beam.PTransform):
    """Fills `rejected` with an AST mutant; see the module docstring.

    Attributes:
        operators: the mutation operators to draw from.
        seed: mixed with each pair id to seed its mutation.
        pool: the most candidate mutants kept (in `mutants`) for a pair with tests.
        timeout_s: the most one pair may take (parse and mutate).
    """

    operators: tuple[str, ...]
    seed: int = 77
    pool: int = 1
    timeout_s: float = 60.0

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns StageOutputs
        from transforms.code.stages import isolated_stage

        mutate = functools.partial(mutant_pair, operators=self.operators, seed=self.seed, pool=self.pool)
        return isolated_stage(pairs, mutate, MUTATE_STAGE, self.timeout_s, threshold=0.05)


@dataclasses.dataclass(frozen=True)
class BugTask:
    """The LLM way: ask the model to plant functional bugs (an `LLMTask`)."""

    endpoint: EndpointConfig
    max_tokens: int = 2048
    seed: int = 77
    stage: str = BUG_STAGE

    def plan(self, pair: PairRecord) -> Plan:
        """One bug-introduction request per pair."""
        context = {"language": pair.language, "problem": pair.input, "solution": pair.chosen}
        request = build_request(
            self.endpoint,
            "bug_introduction",
            context,
            temperature=0.7,
            top_p=0.95,
            max_tokens=self.max_tokens,
            seed=derived_seed(self.seed, pair.idx, "bug"),
        )
        return Plan(((self.endpoint.name, request),))

    def finish(self, pair: PairRecord, results: Sequence[LLMResult]) -> PairRecord | RejectRecord:
        """Validates the buggy code and makes it the rejected side."""
        problem = transport_reject(BUG_STAGE, pair.idx, results)
        if problem:
            return problem
        answer = parse_answer(results[0].text, "bug_introduction", self.endpoint.output_mode)
        if isinstance(answer, ParseFailure):
            return RejectRecord.make(BUG_STAGE, BUG_UNPARSEABLE, pair.idx, answer.reason, {"raw": results[0].text})
        buggy = answer.buggy_code
        if pair.chosen.endswith("\n") and not buggy.endswith("\n"):
            buggy += "\n"  # parsers strip the final newline; keep the sides' endings alike
        reason = bug_reject(pair.chosen, buggy, pair.language)
        if reason:
            payload = {"buggy_code": buggy, "explanation": answer.bug_explanation}
            code = "bug_unparseable_code" if reason == "unparseable" else f"bug_{reason}"
            return RejectRecord.make(BUG_STAGE, code, pair.idx, reason, payload)
        details = json.loads(json.dumps({"explanation": answer.bug_explanation}))
        return pair._replace(
            rejected=buggy, label_details=merge_details(pair.label_details, "bug_introduction", details)
        )


class BugIntroduction(RunLLMTask):
    """Plants bugs with the LLM (`RunLLMTask` over `BugTask`)."""

    @classmethod
    def from_config(cls, task: BugTask, label_cfg: LabelConfig) -> "BugIntroduction":
        """Uses the config's endpoints, cache, mode and batch size."""
        return for_config(cls, task, label_cfg)
