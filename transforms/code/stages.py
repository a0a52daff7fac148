"""Beam stages over the pure tree-sitter functions: syntax filter and function pairs.

Both parse in a long-lived child process with a per-element timeout
(`isolated_stage`, `transforms.isolation`), so a pathological file cannot take
the worker down: a pair on which the parser raised, crashed or ran past
`timeout_s` becomes one `parse_failed` reject (its detail says which), and more
than `threshold` of them fails the job (a bug). The functions that run in the
child live in Beam-free modules (`transforms.code.syntax`,
`transforms.code.functions`).

`FilterSyntax` (stage `syntax_filter`): PCollection[PairRecord] → `transforms.manifest.StageOutputs`.
    Parses chosen and rejected code (`transforms.code.syntax.syntax_reject`);
    reasons `syntax_error`, `too_shallow`, `old_too_broken`, `empty_after_comments`,
    `too_large_to_parse`, and `parse_failed`.

`FocusChangedFunctions` (stage `function_pairs`): one pair per function whose
    body changed (`transforms.code.functions.function_pairs`), each side the
    function with its enclosing class or namespace signature as context; the
    function's name goes to `label_details.function`. Reasons
    `no_function_changed` (the change is outside any function, or only
    adds/removes functions) and `parse_failed`. Its report's `out` holds the ids
    of the inputs that yielded pairs (the manifest's `out`) and `expands`; `main`
    holds the pairs, one or more per kept input.
"""

__all__ = [
    "FilterSyntax",
    "FocusChangedFunctions",
    "function_pairs",
    "isolated_stage",
]

import dataclasses
import functools
import operator
from collections.abc import Callable

import apache_beam as beam

from schemas.records import PairRecord, RejectRecord
from transforms.code.functions import focused_pairs, function_pairs
from transforms.isolation import ChildProcess
from transforms.manifest import StageOutputs, StageReport, count_input
from transforms.metrics import beam_counter


SYNTAX_STAGE = "syntax_filter"
FUNCTION_STAGE = "function_pairs"
PARSE_FAILED = "parse_failed"


class _IsolatedFn(beam.DoFn):
    """Runs a pure `pair → pair | reject` function in a child process; counts here.

    With `expands`, the function is `pair → [pairs] | reject`, and a pair it
    keeps comes out as `(pair.idx, [pairs])`.
    """

    def __init__(self, fn: Callable[[PairRecord], object], stage: str, timeout_s: float, expands: bool) -> None:
        self._fn, self._stage, self._timeout_s, self._expands = fn, stage, timeout_s, expands

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
        if isinstance(out, RejectRecord):
            self._count(f"rejected:{out.reason}", 1)
            yield out
            return
        self._count("out", 1)
        yield (pair.idx, out) if self._expands else out

    def teardown(self) -> None:
        self._child.close()


def isolated_stage(
    pairs: beam.PCollection, fn: Callable, stage: str, timeout_s: float, threshold: float, expands: bool = False
) -> StageOutputs:
    """Applies `fn` to each pair in a child process (`transforms.isolation`); returns stage `stage`'s outputs.

    `fn` returns a pair or a `RejectRecord`; with `expands`, a list of one or
    more pairs or a `RejectRecord`, and then `main` holds the pairs and the
    report's `out` the ids of the input pairs that yielded them (otherwise `out`
    is `main`).
    A pair on which the child raised, crashed or ran past `timeout_s` becomes a
    `parse_failed` reject; more than `threshold` of them fails the job (a bug).
    """
    good, bad = pairs | "Run" >> beam.ParDo(_IsolatedFn(fn, stage, timeout_s, expands)).with_exception_handling(
        threshold=threshold
    )
    passed, rejected = good | "SplitRejects" >> beam.Partition(_split, 2)
    failed = bad | "Failed" >> beam.Map(_failed, stage)
    rejected = (rejected, failed) | "AllRejects" >> beam.Flatten()
    main = kept = passed
    if expands:
        main = passed | "Pairs" >> beam.FlatMap(operator.itemgetter(1))
        kept = passed | "KeptIds" >> beam.Map(operator.itemgetter(0))
    report = StageReport(stage, count_input(pairs, ""), kept, rejected, expands=expands)
    return StageOutputs(main, rejected, (report,))


def _split(element: object, _: int) -> int:
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

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns StageOutputs
        from transforms.code.syntax import syntax_checked

        check = functools.partial(syntax_checked, cfg=self.cfg, stage=self.stage)
        return isolated_stage(pairs, check, self.stage, self.timeout_s, self.threshold)


@dataclasses.dataclass
class FocusChangedFunctions(beam.PTransform):
    """Turns whole-file pairs into one pair per changed function; see the module docstring.

    Attributes:
        timeout_s: the most one pair's parse may take.
        threshold: the share of parse failures above which the job fails (a bug).
    """

    timeout_s: float = 60.0
    threshold: float = 0.05

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns StageOutputs
        focus = functools.partial(focused_pairs, stage=FUNCTION_STAGE)
        return isolated_stage(pairs, focus, FUNCTION_STAGE, self.timeout_s, self.threshold, expands=True)
