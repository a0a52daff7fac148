"""A shuffle of whole rows through files: sorted runs written per bundle, merged per bucket range.

A local run (DirectRunner) keeps every GroupByKey's values in memory, several
times their encoded size, so grouping 350k whole rows costs gigabytes; Dataflow
charges for every shuffled byte. Stages that move whole rows to a group (the
Parquet sink, dedup's verdict join) send them through files instead, the way
Beam's own file sinks use temporary files, and shuffle only small references:

1. `SpillRuns`: each bundle buffers `(bucket, key, payload)` items, sorts them by
   `(bucket, key)` and writes them to one run file (a new one every `run_bytes`)
   under `directory`; per run it emits one `RunIndex`: the file and the byte
   range of each bucket in it.
2. The consumer maps bucket ranges to its groups (`RunIndex.slices`), groups the
   small `Slice` references, and `read_slices` merges a group's slices back into
   one stream sorted by `(bucket, key)`, holding one slice's bytes at a time per run.
3. `DeleteSpill` removes the directory once the consumer's output is complete.

Run files are named at random, so a retried bundle writes new files and the
failed attempt's files, referenced by no committed output, are removed with the
directory; the merged order depends only on the items, never on bundling.
`spill_directory(pipeline)` puts the files under the pipeline's `--temp_location`
(`gs://...` on Dataflow, where workers share no disk) or the system's temp folder.
The temp folder is only good for runners whose workers all run on this machine
(`shares_local_disk`): the DirectRunner in any mode, the FnApiRunner, Prism and a
portable runner with `--environment_type LOOPBACK`. Any other runner (Dataflow,
Flink, Spark, a portable runner with DOCKER, PROCESS or EXTERNAL workers, which
may sit on other machines) needs `--temp_location`; `check_temp_location` says so
before the run, and `spill_directory` refuses to build such a DAG without it.
"""

__all__ = [
    "DeleteSpill",
    "RunIndex",
    "Slice",
    "SpillRuns",
    "TempLocationError",
    "check_temp_location",
    "read_slices",
    "shares_local_disk",
    "spill_directory",
]

import bisect
import dataclasses
import heapq
import pickle
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions, PortableOptions, StandardOptions

from schemas.errors import UsageError
from transforms.bundles import in_global_window


_LENGTH = 4  # bytes of each record's length prefix


class Slice(NamedTuple):
    """Bytes `[start, end)` of a run file: records sorted by `(bucket, key)`."""

    path: str
    start: int
    end: int


class RunIndex(NamedTuple):
    """One run file: its sorted distinct buckets and where each starts (`offsets[-1]` is the end)."""

    path: str
    buckets: tuple[int, ...]
    offsets: tuple[int, ...]

    def slices(self, bounds: tuple[int, ...]) -> Iterator[tuple[int, Slice]]:
        """Yields `(group, Slice)` for each group holding buckets of this run.

        Args:
            bounds: ascending first buckets of groups 1, 2, ... (group 0 starts at bucket 0);
                group g holds buckets `[bounds[g-1], bounds[g])`.
        """
        i = 0
        while i < len(self.buckets):
            group = bisect.bisect_right(bounds, self.buckets[i])
            stop = bounds[group] if group < len(bounds) else None
            j = len(self.buckets) if stop is None else bisect.bisect_left(self.buckets, stop, i)
            yield group, Slice(self.path, self.offsets[i], self.offsets[j])
            i = j


# Runners whose workers all run on this machine (lowercase, without "runner"); Prism
# and the portable runners only with LOOPBACK workers, which run in this process.
_LOCAL_RUNNERS = frozenset({"direct", "switchingdirect", "bundlebaseddirect", "testdirect", "fnapi"})
_LOOPBACK_RUNNERS = frozenset({"prism", "portable", "flink", "spark"})


class TempLocationError(UsageError, ValueError):
    """The runner's workers share no disk and no `--temp_location` was given: a usage error the message fixes."""


def shares_local_disk(runner: str | None, environment_type: str | None) -> bool:
    """Whether every worker of `runner` sees this machine's temp folder.

    Args:
        runner: the `--runner` value (a short or qualified class name); None is the DirectRunner.
        environment_type: the portable `--environment_type`; None is the runner's default
            (LOOPBACK for Prism, DOCKER for the other portable runners).
    """
    name = (runner or StandardOptions.DEFAULT_RUNNER).rsplit(".", 1)[-1].lower().removesuffix("runner")
    if name in _LOCAL_RUNNERS:
        return True
    environment = (environment_type or ("LOOPBACK" if name == "prism" else "")).upper()
    return name in _LOOPBACK_RUNNERS and environment == "LOOPBACK"


def check_temp_location(options: PipelineOptions, runner: str | None = None) -> None:
    """Checks that spill files have a folder every worker can reach.

    Args:
        options: the pipeline's options.
        runner: the runner's name when it is not in `options` (a runner object's class name).

    Raises:
        TempLocationError: the runner's workers may share no disk and `--temp_location` is not set;
            the message says what to pass.
    """
    if options.view_as(GoogleCloudOptions).temp_location:
        return
    runner = runner or options.view_as(StandardOptions).runner
    environment = options.view_as(PortableOptions).environment_type
    if not shares_local_disk(runner, environment):
        raise TempLocationError(
            f"--runner {runner} runs workers that may share no disk with this machine, and the Parquet sink "
            "and dedup spill rows to files every worker must read: pass --temp_location gs://BUCKET/tmp "
            "(or another folder all workers can read and write)"
        )


def spill_directory(pipeline: beam.Pipeline, name: str) -> str:
    """A fresh folder for one transform's runs, under `--temp_location` or the system temp folder.

    Raises:
        TempLocationError: see `check_temp_location`.
    """
    options = pipeline.options
    runner = options.view_as(StandardOptions).runner or type(pipeline.runner).__name__
    check_temp_location(options, runner)
    root = options.view_as(GoogleCloudOptions).temp_location or tempfile.gettempdir()
    return f"{root.rstrip('/')}/codepref-spill-{name}-{uuid.uuid4().hex}"  # a URL or a POSIX path alike


def _encode(item: tuple[int, Any, bytes]) -> bytes:
    record = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
    return len(record).to_bytes(_LENGTH, "little") + record


def _decode(data: bytes) -> Iterator[tuple[int, Any, bytes]]:
    at = 0
    while at < len(data):
        size = int.from_bytes(data[at : at + _LENGTH], "little")
        at += _LENGTH
        yield pickle.loads(data[at : at + size])
        at += size


def read_slices(slices: Iterable[Slice]) -> Iterator[tuple[int, Any, bytes]]:
    """The slices' `(bucket, key, payload)` items merged in `(bucket, key)` order.

    Items with equal `(bucket, key)` come in payload order, so the stream does not
    depend on how the items were split into runs.
    """

    def items(part: Slice) -> Iterator[tuple[int, Any, bytes]]:
        with FileSystems.open(part.path) as f:
            f.seek(part.start)
            data = f.read(part.end - part.start)
        yield from _decode(data)

    ordered = sorted(set(slices))  # the same slices in any order give the same stream
    return heapq.merge(*(items(part) for part in ordered))


class _SpillFn(beam.DoFn):
    def __init__(self, directory: str, run_bytes: int) -> None:
        self._directory, self._run_bytes = directory, run_bytes

    def start_bundle(self) -> None:
        self._items: list[tuple[int, Any, bytes]] = []
        self._size = 0

    def process(self, item: tuple[int, Any, bytes]):
        self._items.append(item)
        self._size += len(item[2]) + 64
        if self._size >= self._run_bytes:
            yield self._write()

    def finish_bundle(self):
        if self._items:
            yield from in_global_window([self._write()])

    def _write(self) -> RunIndex:
        items = sorted(self._items)
        self._items, self._size = [], 0
        path = FileSystems.join(self._directory, f"{uuid.uuid4().hex}.run")
        buckets: list[int] = []
        offsets: list[int] = []
        at = 0
        with FileSystems.create(path) as f:
            for item in items:
                if not buckets or buckets[-1] != item[0]:
                    buckets.append(item[0])
                    offsets.append(at)
                record = _encode(item)
                f.write(record)
                at += len(record)
        return RunIndex(path, tuple(buckets), (*offsets, at))


@dataclasses.dataclass
class SpillRuns(beam.PTransform):
    """`(bucket: int, key, payload: bytes)` items → one `RunIndex` per run file written.

    Attributes:
        directory: where the run files go (see `spill_directory`).
        run_bytes: payload bytes buffered before a run is written.
    """

    directory: str
    run_bytes: int = 64 * 1024 * 1024

    def expand(self, items: beam.PCollection) -> beam.PCollection:
        return items | "WriteRuns" >> beam.ParDo(_SpillFn(self.directory, self.run_bytes))


@dataclasses.dataclass
class DeleteSpill(beam.PTransform):
    """Deletes `directory` once `done` (the consumer's output) is complete; outputs nothing."""

    directory: str

    def expand(self, done: beam.PCollection) -> beam.PCollection:
        directory = self.directory

        def delete(_: int) -> Iterator[None]:
            if FileSystems.exists(directory):
                FileSystems.delete([directory])
            return iter(())

        return done | "Done" >> beam.combiners.Count.Globally() | "Delete" >> beam.FlatMap(delete)
