"""Beam stages over the pure tree-sitter functions: syntax filter and function pairs.

`FilterSyntax` (stage `syntax_filter`): PCollection[PairRecord] → `CodeStageOutputs`.
    Parses chosen and rejected code (`transforms.code.syntax.syntax_reject`);
    reasons `syntax_error`, `too_shallow`, `old_too_broken`, `empty_after_comments`,
    `too_large_to_parse`, and `parse_failed` when the parser raised, crashed or
    ran past `timeout_s` (the parse runs in a long-lived child process with a
    per-element timeout, `transforms.isolation`, so a pathological file cannot
    take the worker down).

`FocusChangedFunctions` (stage `function_pairs`): one pair per function whose
    body changed (`transforms.code.functions.changed_functions`), each side the
    function with its enclosing class or namespace signature as context; the
    function's name goes to `label_details.function`. Reason `no_function_changed`
    (the change is outside any function, or only adds/removes functions). Its
    `kept` output counts the inputs that yielded pairs (the manifest's `out`);
    `main` holds the pairs, one or more per kept input.
"""

__all__ = [
    "CodeStageOutputs",
    "FilterSyntax",
    "FocusChangedFunctions",
    "function_pairs",
    "isolated_stage",
]

import dataclasses
import functools
from collections.abc import Callable
from typing import NamedTuple

import apache_beam as beam

from schemas.records import PairRecord, RejectRecord
from transforms.commit_filters import record_id
from transforms.isolation import ChildProcess
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


class _IsolatedFn(beam.DoFn):
    """Runs a pure `pair → pair | reject` function in a child process; counts here."""

    def __init__(self, fn: Callable[[PairRecord], PairRecord | RejectRecord], stage: str, timeout_s: float) -> None:
        self._fn, self._stage, self._timeout_s = fn, stage, timeout_s

    def setup(self) -> None:
        from transforms.code.parsing import load_parsers

        self._child = ChildProcess(self._fn, self._timeout_s, prepare=load_parsers)
        self._count = beam_counter(self._stage)

    def process(self, pair: PairRecord):
        self._count("in", 1)
        try:
            out = self._child(pair)
        except Exception:
            self._count(f"rejected:{PARSE_FAILED}", 1)
            raise
        self._count(f"rejected:{out.reason}" if isinstance(out, RejectRecord) else "out", 1)
        yield out

    def teardown(self) -> None:
        self._child.close()


def isolated_stage(pairs: beam.PCollection, fn: Callable, stage: str, timeout_s: float,
                   threshold: float) -> CodeStageOutputs:  # fmt: skip
    """Applies `fn` to each pair in a child process (`transforms.isolation`).

    A pair on which the child raised, crashed or ran past `timeout_s` becomes a
    `parse_failed` reject; more than `threshold` of them fails the job (a bug).
    """
    good, bad = pairs | "Run" >> beam.ParDo(_IsolatedFn(fn, stage, timeout_s)).with_exception_handling(
        threshold=threshold
    )
    kept, rejected = good | "SplitRejects" >> beam.Partition(_split, 2)
    failed = bad | "Failed" >> beam.Map(_failed, stage)
    return CodeStageOutputs(kept, (rejected, failed) | "AllRejects" >> beam.Flatten(), kept)


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
        from transforms.code.syntax import syntax_checked

        check = functools.partial(syntax_checked, cfg=self.cfg, stage=self.stage)
        return isolated_stage(pairs, check, self.stage, self.timeout_s, self.threshold)


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
