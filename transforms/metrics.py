"""Beam counters and local progress lines, named the same way in every stage.

Counters live in the namespace `codepref.<stage>` and are named `in`, `out`,
`rejected:<reason>` and `error:<exc_type>`. The manifest does not read them (it
counts the data itself, so it is the same on every runner); they are for watching
a running job in the Dataflow console or the logs.
"""

__all__ = ["METRICS_NAMESPACE", "TAG_MAIN", "TAG_REJECTED", "Progress", "beam_counter", "route"]

import sys
import time
from collections.abc import Callable

import apache_beam as beam
from apache_beam.metrics import Metrics

from schemas.records import RejectRecord


METRICS_NAMESPACE = "codepref"
TAG_MAIN = "main"  # the main output of a multi-output DoFn, where the code names it
TAG_REJECTED = "rejected"


def beam_counter(stage: str) -> Callable[[str, int], None]:
    """Returns `count(name, n)` that increments Beam counters of `stage`."""
    namespace = f"{METRICS_NAMESPACE}.{stage}"
    counters: dict[str, object] = {}

    def count(name: str, n: int = 1) -> None:
        counter = counters.get(name)
        if counter is None:
            counter = counters[name] = Metrics.counter(namespace, name)
        counter.inc(n)  # type: ignore[attr-defined]

    return count


class Progress:
    """Prints `[stage] N unit, K kept (R/s)` to stderr at most every `every` seconds.

    One per worker process; on DirectRunner these lines are the run's progress.
    """

    def __init__(self, stage: str, unit: str, every: float = 5.0) -> None:
        """Starts the clock."""
        self.stage, self.unit, self.every = stage, unit, every
        self.seen = self.kept = 0
        self._start: float | None = None
        self._rated = 0
        self._last = time.monotonic()

    def tick(self, seen: int, kept: int) -> None:
        """Adds to the totals and prints a line when one is due."""
        now = time.monotonic()
        if self._start is None:  # the first call's work started before it: leave it out of the rate
            self._start = now
            self._last = now
        else:
            self._rated += seen
        self.seen += seen
        self.kept += kept
        if now - self._last >= self.every:
            self._last = now
            rate = self._rated / max(now - self._start, 1e-9)
            print(
                f"[{self.stage}] {self.seen:,} {self.unit} scanned, {self.kept:,} kept ({rate:,.0f}/s)",
                file=sys.stderr,
                flush=True,
            )


def route(item: object, count: Callable[[str, int], None]) -> object:
    """Counts an output as `out` or `rejected:<reason>` and tags a reject for the rejected output."""
    if isinstance(item, RejectRecord):
        count(f"rejected:{item.reason}", 1)
        return beam.pvalue.TaggedOutput(TAG_REJECTED, item)
    count("out", 1)
    return item
