"""Beam stages over the pure tree-sitter functions: syntax filter and function pairs.

`FilterSyntax` (stage `syntax_filter`): PCollection[PairRecord] → `CodeStageOutputs`.
    Parses chosen and rejected code (`transforms.code.syntax.syntax_reject`);
    reasons `syntax_error`, `too_shallow`, `old_too_broken`, `empty_after_comments`,
    `too_large_to_parse`, and `parse_failed` when the parser raised, crashed or
    ran past `timeout_s` (the parse runs in a long-lived subprocess with a
    per-element timeout, so a pathological file cannot take the worker down).

`FocusChangedFunctions` (stage `function_pairs`): one pair per function whose
    body changed (`transforms.code.functions.changed_functions`), each side the
    function with its enclosing class or namespace signature as context; the
    function's name goes to `label_details.function`. Reason `no_function_changed`
    (the change is outside any function, or only adds/removes functions). Its
    `kept` output counts the inputs that yielded pairs (the manifest's `out`);
    `main` holds the pairs, one or more per kept input.
"""

__all__ = ["CodeStageOutputs", "FilterSyntax", "FocusChangedFunctions", "function_pairs"]

import dataclasses
from typing import NamedTuple

import apache_beam as beam

from schemas.records import PairRecord, RejectRecord
from transforms.commit_filters import record_id
from transforms.metrics import beam_counter


SYNTAX_STAGE = "syntax_filter"
FUNCTION_STAGE = "function_pairs"
PARSE_FAILED = "parse_failed"
NO_FUNCTION_CHANGED = "no_function_changed"


class CodeStageOutputs(NamedTuple):
    """Outputs of a code stage: passed elements, rejects, and inputs kept."""

    main: beam.PCollection
    rejected: beam.PCollection
    kept: beam.PCollection


class _SyntaxFn(beam.DoFn):
    def __init__(self, cfg: object, stage: str) -> None:
        self._cfg, self._stage = cfg, stage

    def setup(self) -> None:
        from transforms.code.parsing import GRAMMARS, get_parser

        for language in GRAMMARS:
            get_parser(language)
        self._count = beam_counter(self._stage)

    def process(self, pair: PairRecord):
        from transforms.code.syntax import syntax_reject

        self._count("in", 1)
        problem = syntax_reject(pair.chosen, pair.rejected, pair.language, self._cfg)
        if problem:
            self._count(f"rejected:{problem[0]}", 1)
            yield RejectRecord.make(self._stage, problem[0], pair.idx, problem[1])
        else:
            self._count("out", 1)
            yield pair


def _split(element: PairRecord | RejectRecord, _: int) -> int:
    return 1 if isinstance(element, RejectRecord) else 0


def _failed(bad: tuple, stage: str) -> RejectRecord:
    element, error = bad
    detail = error[1] if isinstance(error, tuple) and len(error) > 1 else str(error)
    return RejectRecord.make(stage, PARSE_FAILED, getattr(element, "idx", ""), str(detail)[:500])


@dataclasses.dataclass
class FilterSyntax(beam.PTransform):
    """Drops pairs whose code fails the syntax checks; see the module docstring.

    Attributes:
        cfg: a `transforms.code.syntax.SyntaxConfig`.
        stage: the stage's name (a pipeline may filter several streams).
        timeout_s: the most one pair's parse may take.
        threshold: the share of parse failures above which the job fails (a bug).
    """

    cfg: object
    stage: str = SYNTAX_STAGE
    timeout_s: float = 60.0
    threshold: float = 0.05

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns CodeStageOutputs
        good, bad = pairs | "Parse" >> beam.ParDo(_SyntaxFn(self.cfg, self.stage)).with_exception_handling(
            use_subprocess=True, timeout=self.timeout_s, threshold=self.threshold
        )
        kept, rejected = good | "SplitRejects" >> beam.Partition(_split, 2)
        failed = bad | "ParseFailed" >> beam.Map(_failed, self.stage)
        rejected = (rejected, failed) | "AllRejects" >> beam.Flatten()
        return CodeStageOutputs(kept, rejected, kept)


def function_pairs(pair: PairRecord) -> list[PairRecord]:
    """Returns one focused pair per changed function of a whole-file pair."""
    import json

    from transforms.code.functions import changed_functions, focused_snippet

    pairs = []
    for change in changed_functions(pair.rejected, pair.chosen, pair.language):
        details = json.loads(pair.label_details) if pair.label_details else {}
        details["function"] = {"name": change.qualified_name, "kind": change.new.kind,
                               "lines": [change.new.start_line, change.new.end_line]}  # fmt: skip
        pairs.append(
            pair._replace(
                idx=record_id(pair.idx, change.qualified_name),
                chosen=focused_snippet(change.new, pair.language),
                rejected=focused_snippet(change.old, pair.language),
                label_details=json.dumps(details, ensure_ascii=False, sort_keys=True),
            )
        )
    return pairs


class _FunctionPairsFn(beam.DoFn):
    def setup(self) -> None:
        self._count = beam_counter(FUNCTION_STAGE)

    def process(self, pair: PairRecord):
        self._count("in", 1)
        focused = function_pairs(pair)
        if not focused:
            self._count(f"rejected:{NO_FUNCTION_CHANGED}", 1)
            yield beam.pvalue.TaggedOutput("rejected", RejectRecord.make(FUNCTION_STAGE, NO_FUNCTION_CHANGED, pair.idx))
            return
        self._count("out", 1)
        yield beam.pvalue.TaggedOutput("kept", pair.idx)
        yield from focused


@dataclasses.dataclass
class FocusChangedFunctions(beam.PTransform):
    """Turns whole-file pairs into one pair per changed function; see the module docstring."""

    timeout_s: float = 60.0

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns CodeStageOutputs
        out = pairs | "Focus" >> beam.ParDo(_FunctionPairsFn()).with_outputs("rejected", "kept", main="pairs")
        return CodeStageOutputs(out.pairs, out.rejected, out.kept)
