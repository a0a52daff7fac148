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
the job, until more than `threshold` of the input fails (a bug, not bad data).
A failed reject's detail is the exception's repr; it has no payload, so a failed
secret scan cannot leak the text. Other rejects carry `pair_row(pair)`.
This package imports no heavy library: each stage builds its tokenizer,
detector or scanner in `DoFn.setup()`.
"""

__all__ = ["FilterOutputs", "PairFilterFn", "apply_pair_filter", "pair_row"]

from typing import Any, NamedTuple

import apache_beam as beam

from schemas.records import PairRecord, RejectRecord
from transforms.metrics import TAG_REJECTED, beam_counter, route


class FilterOutputs(NamedTuple):
    """Outputs of a final filter.

    Attributes:
        main: the `PairRecord`s that passed.
        rejected: `RejectRecord`s of the pairs that did not, with why.
    """

    main: beam.PCollection
    rejected: beam.PCollection


def pair_row(pair: PairRecord) -> dict[str, Any]:
    """Returns the columns of a pair that a reject's payload keeps."""
    keys = ("idx", "input", "chosen", "rejected", "language", "aspect", "source")
    return {key: getattr(pair, key) for key in keys}


class PairFilterFn(beam.DoFn):
    """Base DoFn of a final filter: counts `in`, then routes `check`'s verdict.

    Subclasses build heavy objects in `setup()` (calling `super().setup()`) and
    implement `check(pair) -> RejectRecord | None`.
    """

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def setup(self) -> None:
        self._count = beam_counter(self.stage)

    def check(self, pair: PairRecord) -> RejectRecord | None:
        """Returns a reject for `pair`, or None to keep it."""
        raise NotImplementedError

    def reject(self, pair: PairRecord, reason: str, detail: str, payload: Any = None) -> RejectRecord:
        """Builds this stage's reject of `pair`; the payload defaults to `pair_row(pair)`."""
        return RejectRecord.make(self.stage, reason, pair.idx, detail, pair_row(pair) if payload is None else payload)

    def process(self, pair: PairRecord):
        self._count("in", 1)
        verdict = self.check(pair)
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


def apply_pair_filter(pairs: beam.PCollection, fn: PairFilterFn, failed_reason: str, threshold: float) -> FilterOutputs:
    """Runs a `PairFilterFn` with its exceptions turned into `failed_reason` rejects.

    Args:
        pairs: the `PairRecord`s to filter.
        fn: the stage's DoFn.
        failed_reason: the reason of a pair whose check raised.
        threshold: the share of failed pairs above which the job fails.

    Returns:
        The passed pairs and all rejects, the failed ones included.
    """
    # Declaring the tagged output keeps Beam from warning that it is not in the type hints.
    typed = beam.ParDo(fn).with_output_types(Any, **{TAG_REJECTED: Any})
    checked = typed.with_exception_handling(main_tag="main", threshold=threshold)
    out = pairs | "Check" >> checked.with_outputs(TAG_REJECTED, main="main")
    failed = out.bad | "CheckFailed" >> beam.ParDo(_FailedFn(fn.stage, failed_reason))
    rejected = (out[TAG_REJECTED], failed) | "AllRejects" >> beam.Flatten()
    return FilterOutputs(out.main, rejected)
