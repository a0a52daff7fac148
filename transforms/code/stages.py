"""Beam stages over the pure tree-sitter functions: syntax filter and function pairs.

Both parse in long-lived child processes, one per CPU, with a per-element
timeout (`isolated_stage`, `transforms.isolation.ChildPool`), so a pathological file cannot take
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
import traceback
from collections.abc import Callable

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from schemas.records import PairRecord, RejectRecord
from transforms.code.functions import focused_pairs, function_pairs
from transforms.isolation import ChildPool
from transforms.manifest import StageOutputs, StageReport, count_input
from transforms.metrics import beam_counter


SYNTAX_STAGE = "syntax_filter"
FUNCTION_STAGE = "function_pairs"
PARSE_FAILED = "parse_failed"
TAG_FAILED = "failed"


class _IsolatedFn(beam.DoFn):
    """Runs a pure `pair → pair | reject` function in a pool of child processes; counts here.

    A pair's result comes out when its child answers, in a later `process` or
    in `finish_bundle`, with the pair's own window. A pair on which the child
    raised, crashed or timed out comes out on `TAG_FAILED` as a `parse_failed`
    reject. With `expands`, the function is `pair → [pairs] | reject`, and a
    pair it keeps comes out as `(pair.idx, [pairs])`.
    """

    def __init__(self, fn: Callable[[PairRecord], object], stage: str, timeout_s: float, expands: bool) -> None:
        self._fn, self._stage, self._timeout_s, self._expands = fn, stage, timeout_s, expands

    def setup(self) -> None:
        from transforms.code.parsing import load_parsers

        self._pool = ChildPool(self._fn, self._timeout_s, prepare=load_parsers)
        self._pending: dict[int, tuple[PairRecord, object, object]] = {}
        self._next_key = 0
        self._count = beam_counter(self._stage)

    def process(self, pair: PairRecord, window=beam.DoFn.WindowParam, timestamp=beam.DoFn.TimestampParam):
        self._count("in", 1)
        key, self._next_key = self._next_key, self._next_key + 1
        self._pending[key] = (pair, window, timestamp)
        for outcome in self._pool.submit(key, pair):
            yield self._output(*outcome)

    def finish_bundle(self):
        for outcome in self._pool.drain():
            yield self._output(*outcome)

    def _output(self, key: int, out: object, error: Exception | None):
        pair, window, timestamp = self._pending.pop(key)
        if error is not None:
            self._count(f"rejected:{PARSE_FAILED}", 1)
            detail = "".join(traceback.format_exception_only(error))[:500]
            value = RejectRecord.make(self._stage, PARSE_FAILED, pair.idx, detail)
        else:
            self._count(f"rejected:{out.reason}" if isinstance(out, RejectRecord) else "out", 1)
            value = (pair.idx, out) if self._expands and not isinstance(out, RejectRecord) else out
        value = WindowedValue(value, timestamp, [window])  # the element in hand may be another pair
        return beam.pvalue.TaggedOutput(TAG_FAILED, value) if error is not None else value

    def teardown(self) -> None:
        self._pool.close()


def isolated_stage(
    pairs: beam.PCollection, fn: Callable, stage: str, timeout_s: float, threshold: float, expands: bool = False
) -> StageOutputs:
    """Applies `fn` to each pair in child processes (`transforms.isolation`); returns stage `stage`'s outputs.

    `fn` returns a pair or a `RejectRecord`; with `expands`, a list of one or
    more pairs or a `RejectRecord`, and then `main` holds the pairs and the
    report's `out` the ids of the input pairs that yielded them (otherwise `out`
    is `main`).
    A pair on which the child raised, crashed or ran past `timeout_s` becomes a
    `parse_failed` reject; more than `threshold` of them fails the job (a bug).
    """
    ones = count_input(pairs, "")
    results = pairs | "Run" >> beam.ParDo(_IsolatedFn(fn, stage, timeout_s, expands)).with_outputs(
        TAG_FAILED, main="done"
    )
    passed, rejected = results.done | "SplitRejects" >> beam.Partition(_split, 2)
    _ = results[TAG_FAILED] | "Threshold" >> FailOverThreshold(ones, threshold, stage)
    rejected = (rejected, results[TAG_FAILED]) | "AllRejects" >> beam.Flatten()
    main = kept = passed
    if expands:
        main = passed | "Pairs" >> beam.FlatMap(operator.itemgetter(1))
        kept = passed | "KeptIds" >> beam.Map(operator.itemgetter(0))
    report = StageReport(stage, ones, kept, rejected, expands=expands)
    return StageOutputs(main, rejected, (report,))


@dataclasses.dataclass
class FailOverThreshold(beam.PTransform):
    """Fails the job when the failures (this PCollection) exceed `threshold` of the inputs (`ones`, one per input)."""

    ones: beam.PCollection
    threshold: float
    stage: str

    def expand(self, failures: beam.PCollection) -> beam.PCollection:
        total = self.ones | "Total" >> beam.CombineGlobally(sum).as_singleton_view()
        counted = failures | "One" >> beam.Map(lambda _: 1) | "Failed" >> beam.CombineGlobally(sum).without_defaults()
        return counted | "Check" >> beam.Map(_check_threshold, total, self.threshold, self.stage)


def _check_threshold(failed: int, total: int, threshold: float, stage: str) -> int:
    if failed > total * threshold:
        raise ValueError(
            f"stage {stage}: {failed} of {total} inputs failed in the child process (over the threshold"
            f" {threshold:g}); this is a bug: see the {PARSE_FAILED} rejects' details"
        )
    return failed


def _split(element: object, _: int) -> int:
    return 1 if isinstance(element, RejectRecord) else 0


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
