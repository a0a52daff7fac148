"""The shared Beam adapter of every LLM stage.

A stage is an `LLMTask`: pure, picklable functions that turn an element into
requests (`plan`) and the answers back into the element or a reject (`finish`).
`RunLLMTask` gathers `batch_size` elements at a time, looks their requests up
in the cache together and starts sending the misses through the thread's
`LLMClient`s (`transforms.llm.sessions`: one loop thread, cache and client per
endpoint, shared by every LLM stage on the thread). It does not wait for a
batch's answers before taking the next elements: the requests of every batch,
of every stage, share the endpoint's `max_concurrency`, so the endpoint stays
busy while elements arrive, and an element goes on as soon as its batch is
answered. The requests go out and come back on the session's loop thread while
this thread does the fused stages' other work. Only when an endpoint has
`BACKLOG` times its `max_concurrency` unanswered does a stage wait
(back-pressure); `finish_bundle` waits for the rest of its batches. Answers are
written to the cache between elements, `CACHE_WRITE_BATCH` at a time.

Outputs (`transforms.manifest.StageOutputs`):
    main: the elements that passed.
    rejected: `RejectRecord`s (reasons from the task, plus `llm_error` and
        `awaiting_batch`).
    reports: one, of the task's `stage`.
    llm_stats: dicts of `LLMStats`, one per bundle; the manifest sums them.
    batch_requests: `(key, body)` of requests not in the cache, in export mode.

A failed request is an `llm_error` reject of its element (the detail names the
error kind, `transforms.llm.client`). An endpoint that refuses the run itself
(401, 403, 404, or an unset key variable) raises `schemas.errors.EndpointError`
out of the DoFn, deliberately: it ends the run instead of rejecting every pair.
"""

__all__ = ["LLMTask", "Plan", "RunLLMTask", "for_config"]

import concurrent.futures
import dataclasses
import threading
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, Protocol

import apache_beam as beam

from schemas.llm import EndpointConfig, LabelConfig, LLMRequest, LLMResult
from schemas.records import RejectRecord
from transforms.llm import sessions
from transforms.manifest import StageOutputs, StageReport, count_input
from transforms.metrics import TAG_MAIN, TAG_REJECTED, beam_counter, route


TAG_STATS = "llm_stats"
TAG_EXPORTS = "batch_requests"
LLM_ERROR = "llm_error"
AWAITING_BATCH = "awaiting_batch"


class Plan(NamedTuple):
    """What a task asks for one element: (endpoint name, request) pairs."""

    requests: tuple[tuple[str, LLMRequest], ...]


class LLMTask(Protocol):
    """The pure part of an LLM stage."""

    stage: str

    def plan(self, element: Any) -> Plan | RejectRecord:
        """Returns the requests for an element, or a reject before asking anything."""
        ...

    def finish(self, element: Any, results: Sequence[LLMResult]) -> Any:
        """Returns the labelled element, or a `RejectRecord`, from the plan's answers."""
        ...


def transport_reject(stage: str, record_id: str, results: Sequence[LLMResult]) -> RejectRecord | None:
    """Returns a reject when an answer is missing for a reason other than parsing."""
    waiting = [r for r in results if r.error == AWAITING_BATCH]
    if waiting:
        return RejectRecord.make(stage, AWAITING_BATCH, record_id, f"{len(waiting)} request(s) not in the cache")
    failed = [r for r in results if r.error is not None]
    if failed:
        kinds = sorted({r.error or "" for r in failed})
        return RejectRecord.make(stage, LLM_ERROR, record_id, f"{','.join(kinds)}: {failed[0].detail}")
    return None


BACKLOG = 4
"""A stage waits for answers once an endpoint has `BACKLOG × max_concurrency` requests unanswered: the
backlog keeps the endpoint busy while the thread does other stages' work, and bounds the memory."""

POLL_S = 0.005
"""How often a waiting stage checks whether it may go on."""

CACHE_WRITE_BATCH = 8
"""Answers written to the cache together between elements (the rest at the bundle's end)."""


class _Batch(NamedTuple):
    elements: list[Any]
    plans: list[Plan | RejectRecord]
    answers: tuple[concurrent.futures.Future, ...]  # one list of results per endpoint, in `endpoints` order
    endpoints: tuple[str, ...]

    def done(self) -> bool:
        return all(answer.done() for answer in self.answers)


class _RunTaskFn(beam.DoFn):
    def __init__(
        self, task: LLMTask, endpoints: tuple[EndpointConfig, ...], cache: str, mode: str, batch_size: int
    ) -> None:
        self._task, self._endpoints, self._cache_location, self._mode = task, endpoints, cache, mode
        self._batch_size = batch_size

    def setup(self) -> None:
        from transforms.llm.errors import quiet_endpoint_error_logs

        quiet_endpoint_error_logs()  # a refusal ends the run: Beam's tracebacks of it become one line
        self._sessions: dict[int, sessions.Session] = {}  # by thread: a bundle uses its thread's clients
        self._count = beam_counter(self._task.stage)

    def teardown(self) -> None:
        for session in getattr(self, "_sessions", {}).values():
            sessions.release(session)
        self._sessions = {}

    def start_bundle(self) -> None:
        from transforms.llm.client import LLMStats

        thread = threading.get_ident()
        if thread not in self._sessions:
            self._sessions[thread] = sessions.acquire()
        session = self._sessions[thread]
        self._clients = {e.name: session.client(e, self._cache_location, self._mode) for e in self._endpoints}
        self._stats = LLMStats()
        self._exported: list[tuple[str, dict[str, Any]]] = []
        self._gathering: list[Any] = []
        self._in_flight: list[_Batch] = []  # in start order

    def process(self, element: Any):
        self._count("in", 1)
        self._gathering.append(element)
        if len(self._gathering) >= self._batch_size:
            self._start(self._gathering)
            self._gathering = []
        if self._in_flight and self._over_limit():
            self._wait_until(lambda: not self._over_limit())
        yield from self._harvest()
        yield from self._exports()

    def finish_bundle(self):
        if self._gathering:
            self._start(self._gathering)
            self._gathering = []
        self._wait_until(lambda: False)  # every batch answered
        for client in self._clients.values():
            client.flush()
        for output in [*self._harvest(), *self._exports(), self._stats_output()]:
            yield _in_global_window(output)

    def _start(self, elements: list[Any]) -> None:
        plans = [self._task.plan(element) for element in elements]
        by_endpoint: dict[str, list[LLMRequest]] = {}
        for plan in plans:
            if isinstance(plan, Plan):
                for name, request in plan.requests:
                    by_endpoint.setdefault(name, []).append(request)
        answers = tuple(
            self._clients[name].start(requests, self._stats, self._exported) for name, requests in by_endpoint.items()
        )
        self._in_flight.append(_Batch(elements, plans, answers, tuple(by_endpoint)))

    def _over_limit(self) -> bool:
        return any(self._clients[e.name].unanswered >= BACKLOG * e.max_concurrency for e in self._endpoints)

    def _wait_until(self, enough) -> None:
        """Waits until `enough()` or until every batch of this stage is answered.

        It checks `enough()` as the answers arrive (every `POLL_S`), not once a whole batch is in:
        a stage goes on as soon as the backlog has room, so the endpoint's queue never runs dry.
        """
        while True:
            for client in self._clients.values():
                client.flush(at_least=CACHE_WRITE_BATCH)
            waiting = [answer for batch in self._in_flight for answer in batch.answers if not answer.done()]
            if not waiting or enough():
                return
            concurrent.futures.wait(waiting, timeout=POLL_S, return_when=concurrent.futures.FIRST_COMPLETED)

    def _harvest(self) -> Iterator[Any]:
        """Yields the outcomes of the answered batches (an `EndpointError` of one is raised here)."""
        for client in self._clients.values():
            client.flush(at_least=CACHE_WRITE_BATCH)
        still = []
        for batch in self._in_flight:
            if not batch.done():
                still.append(batch)
                continue
            answers = dict(zip(batch.endpoints, (answer.result() for answer in batch.answers), strict=True))
            cursor = dict.fromkeys(answers, 0)
            for element, plan in zip(batch.elements, batch.plans, strict=True):
                if isinstance(plan, RejectRecord):
                    outcome: Any = plan
                else:
                    results = []
                    for name, _ in plan.requests:
                        results.append(answers[name][cursor[name]])
                        cursor[name] += 1
                    outcome = self._task.finish(element, results)
                yield route(outcome, self._count)
        self._in_flight = still

    def _exports(self) -> Iterator[beam.pvalue.TaggedOutput]:
        for exported in self._exported:
            yield beam.pvalue.TaggedOutput(TAG_EXPORTS, exported)
        self._exported.clear()

    def _stats_output(self) -> beam.pvalue.TaggedOutput:
        return beam.pvalue.TaggedOutput(TAG_STATS, self._stats.as_dict())


def _in_global_window(output: Any) -> Any:
    """An output of `finish_bundle`, which has no element to take a window from: the global window."""
    from apache_beam.transforms.window import GlobalWindows

    if isinstance(output, beam.pvalue.TaggedOutput):
        return beam.pvalue.TaggedOutput(output.tag, GlobalWindows.windowed_value(output.value))
    return GlobalWindows.windowed_value(output)


@dataclasses.dataclass
class RunLLMTask(beam.PTransform):
    """Runs an `LLMTask` over a PCollection in batches; see the module docstring.

    Attributes:
        task: the stage's pure part.
        endpoints: the endpoints its plans name.
        cache: the response cache location (SQLite file, folder or gs:// path).
        mode: live, export or cache_only.
        batch_size: elements whose requests are looked up in the cache and started together.
    """

    task: LLMTask
    endpoints: tuple[EndpointConfig, ...]
    cache: str
    mode: str = "live"
    batch_size: int = 16

    def expand(self, elements: beam.PCollection):  # returns StageOutputs
        out = elements | "Ask" >> beam.ParDo(
            _RunTaskFn(self.task, self.endpoints, self.cache, self.mode, self.batch_size)
        ).with_outputs(TAG_REJECTED, TAG_STATS, TAG_EXPORTS, main=TAG_MAIN)
        done, rejected = out[TAG_MAIN], out[TAG_REJECTED]
        report = StageReport(self.task.stage, count_input(elements, ""), done, rejected)
        return StageOutputs(done, rejected, (report,), llm_stats=out[TAG_STATS], batch_requests=out[TAG_EXPORTS])


def for_config(cls: type[RunLLMTask], task: LLMTask, label_cfg: LabelConfig) -> RunLLMTask:
    """Builds a `RunLLMTask` subclass for a task with the config's endpoints, cache and mode."""
    return cls(task, label_cfg.endpoints, label_cfg.cache, label_cfg.mode, label_cfg.batch_size)
