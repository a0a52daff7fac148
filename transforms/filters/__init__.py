"""Final filters on preference pairs, run before deduplication.

One module per stage, each with pure functions and one composite:

* `length.FilterLength` (stage `length_filter`): reason `too_long`.
* `language.FilterLanguage` (stage `language_filter`): reason `not_english`.
* `perplexity.FilterPerplexity` (stage `perplexity_filter`, optional): reason `high_perplexity`.
* `secrets.FilterSecrets` (stage `secret_scan`): reason `secret`.

They share the small adapter below: a DoFn base class whose `check` returns
None (keep) or a `RejectRecord`, and `apply_pair_filter`, which runs it with
`with_exception_handling`, so an element whose check raises becomes a reject
(the stage's `*_failed` reason, counter `error:<exc_type>`) instead of failing
the job, until more than `threshold` of the input fails (a bug, not bad data),
and returns the stage's `transforms.manifest.StageOutputs` (one report, named
by the DoFn's `stage`).
A stage that is faster on many pairs at once (lingua detects a list of texts on
several threads) sets `batch_size` and implements `check_batch`; a batch that
raises is checked again pair by pair, so only the pair that fails is rejected.
A failed reject's detail is the exception's repr; it has no payload, so a failed
secret scan cannot leak the text. Other rejects carry `pair_row(pair)`.
This package imports no heavy library: each stage builds its tokenizer,
detector or scanner in `DoFn.setup()`.
"""

__all__ = ["PairFilterFn", "apply_pair_filter", "pair_row"]

import traceback
from collections.abc import Iterator
from typing import Any

import apache_beam as beam

from schemas.records import PairRecord, RejectRecord
from transforms.bundles import in_global_window
from transforms.manifest import StageOutputs, StageReport, count_input
from transforms.metrics import TAG_MAIN, TAG_REJECTED, beam_counter, route


DEAD_LETTER = "bad"
"""The tag of `with_exception_handling`'s dead letters, which `PairFilterFn` also emits."""


def pair_row(pair: PairRecord) -> dict[str, Any]:
    """Returns the columns of a pair that a reject's payload keeps."""
    keys = ("idx", "input", "chosen", "rejected", "language", "aspect", "source")
    return {key: getattr(pair, key) for key in keys}


class PairFilterFn(beam.DoFn):
    """Base DoFn of a final filter: counts `in`, then routes `check`'s verdict.

    Subclasses build heavy objects in `setup()` (calling `super().setup()`) and
    implement `check(pair) -> RejectRecord | None`. One that is faster on many
    pairs at once also sets `batch_size` and implements `check_batch`: pairs are
    then buffered and checked `batch_size` at a time, the rest at the bundle's end.

    A pair whose check raises becomes a dead letter `(pair, (exc_type, repr,
    traceback))`, the form `with_exception_handling` gives, so that it counts
    toward the threshold like any failure. If a batch raises, its pairs are
    checked one by one, so only the pair that fails is lost.
    """

    batch_size = 1

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def setup(self) -> None:
        self._count = beam_counter(self.stage)

    def check(self, pair: PairRecord) -> RejectRecord | None:
        """Returns a reject for `pair`, or None to keep it."""
        raise NotImplementedError

    def check_batch(self, pairs: list[PairRecord]) -> list[RejectRecord | None]:
        """Returns `check`'s verdict for each pair; override where a batch is faster."""
        return [self.check(pair) for pair in pairs]

    def reject(self, pair: PairRecord, reason: str, detail: str, payload: Any = None) -> RejectRecord:
        """Builds this stage's reject of `pair`; the payload defaults to `pair_row(pair)`."""
        return RejectRecord.make(self.stage, reason, pair.idx, detail, pair_row(pair) if payload is None else payload)

    def start_bundle(self) -> None:
        self._pending: list[PairRecord] = []

    def process(self, pair: PairRecord):
        self._count("in", 1)
        self._pending.append(pair)
        if len(self._pending) >= self.batch_size:
            yield from self._flush()

    def finish_bundle(self):
        yield from in_global_window(self._flush())

    def _flush(self) -> Iterator[Any]:
        pairs, self._pending = self._pending, []
        try:
            verdicts = self.check_batch(pairs) if len(pairs) > 1 else None
        except Exception:  # checked again pair by pair below, which isolates the pair that fails
            verdicts = None
        for i, pair in enumerate(pairs):
            try:
                verdict = self.check(pair) if verdicts is None else verdicts[i]
            except Exception as exn:  # a dead letter, as with_exception_handling makes it
                failure = (type(exn), repr(exn), traceback.format_exception(exn))
                yield beam.pvalue.TaggedOutput(DEAD_LETTER, (pair, failure))
                continue
            yield route(pair if verdict is None else verdict, self._count)


class _FailedFn(beam.DoFn):
    """Turns a dead letter `(element, (exc_type, repr, traceback))` into a reject."""

    def __init__(self, stage: str, reason: str) -> None:
        self._stage, self._reason = stage, reason

    def setup(self) -> None:
        self._count = beam_counter(self._stage)

    def process(self, bad: tuple):
        element, (exc_type, exc_repr, _) = bad
        name = getattr(exc_type, "__name__", str(exc_type))
        self._count(f"error:{name}", 1)
        self._count(f"rejected:{self._reason}", 1)
        yield RejectRecord.make(self._stage, self._reason, getattr(element, "idx", ""), str(exc_repr)[:500])


def apply_pair_filter(pairs: beam.PCollection, fn: PairFilterFn, failed_reason: str, threshold: float) -> StageOutputs:
    """Runs a `PairFilterFn` with its exceptions turned into `failed_reason` rejects.

    Args:
        pairs: the `PairRecord`s to filter.
        fn: the stage's DoFn.
        failed_reason: the reason of a pair whose check raised.
        threshold: the share of failed pairs above which the job fails.

    Returns:
        `main`: the passed pairs; `rejected`: all rejects, the failed ones included;
        one report, of stage `fn.stage`.
    """
    # Declaring the tagged output keeps Beam from warning that it is not in the type hints.
    typed = beam.ParDo(fn).with_output_types(Any, **{TAG_REJECTED: Any})
    checked = typed.with_exception_handling(main_tag=TAG_MAIN, dead_letter_tag=DEAD_LETTER, threshold=threshold)
    out = pairs | "Check" >> checked.with_outputs(TAG_REJECTED, main=TAG_MAIN)
    failed = out[DEAD_LETTER] | "CheckFailed" >> beam.ParDo(_FailedFn(fn.stage, failed_reason))
    rejected = (out[TAG_REJECTED], failed) | "AllRejects" >> beam.Flatten()
    kept = out[TAG_MAIN]
    return StageOutputs(kept, rejected, (StageReport(fn.stage, count_input(pairs, ""), kept, rejected),))
