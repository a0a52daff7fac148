"""The shared Beam adapter of every LLM stage.

A stage is an `LLMTask`: pure, picklable functions that turn an element into
requests (`plan`) and the answers back into the element or a reject (`finish`).
`RunLLMTask` batches elements (`BatchElements`), so one DoFn call sends a whole
batch's requests concurrently through `LLMClient`s built in `setup()`, one per
endpoint, all sharing one cache.

Outputs (`transforms.manifest.StageOutputs`):
    main: the elements that passed.
    rejected: `RejectRecord`s (reasons from the task, plus `llm_error` and
        `awaiting_batch`).
    reports: one, of the task's `stage`.
    llm_stats: dicts of `LLMStats`, one per batch; the manifest sums them.
    batch_requests: `(key, body)` of requests not in the cache, in export mode.

A failed request is an `llm_error` reject of its element (the detail names the
error kind, `transforms.llm.client`). An endpoint that refuses the run itself
(401, 403, 404, or an unset key variable) raises `schemas.errors.EndpointError`
out of the DoFn, deliberately: it ends the run instead of rejecting every pair.
"""

__all__ = ["LLMTask", "Plan", "RunLLMTask", "for_config"]

import dataclasses
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import apache_beam as beam

from schemas.llm import EndpointConfig, LabelConfig, LLMRequest, LLMResult
from schemas.records import RejectRecord
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


class _RunTaskFn(beam.DoFn):
    def __init__(self, task: LLMTask, endpoints: tuple[EndpointConfig, ...], cache: str, mode: str) -> None:
        self._task, self._endpoints, self._cache_location, self._mode = task, endpoints, cache, mode

    def setup(self) -> None:
        from transforms.llm.cache import open_cache
        from transforms.llm.client import LLMClient
        from transforms.llm.errors import quiet_endpoint_error_logs

        quiet_endpoint_error_logs()  # a refusal ends the run: Beam's tracebacks of it become one line
        self._cache = open_cache(self._cache_location)
        self._clients = {e.name: LLMClient(e, self._cache, self._mode) for e in self._endpoints}
        self._count = beam_counter(self._task.stage)

    def teardown(self) -> None:
        for client in getattr(self, "_clients", {}).values():
            client.close()
        if getattr(self, "_cache", None) is not None:
            self._cache.close()

    def process(self, batch: list[Any]):
        from transforms.llm.client import LLMStats

        self._count("in", len(batch))
        plans = [self._task.plan(element) for element in batch]
        by_endpoint: dict[str, list[LLMRequest]] = {}
        for plan in plans:
            if isinstance(plan, Plan):
                for name, request in plan.requests:
                    by_endpoint.setdefault(name, []).append(request)
        answers: dict[str, list[LLMResult]] = {
            name: self._clients[name].complete(requests) for name, requests in by_endpoint.items()
        }
        cursor = dict.fromkeys(answers, 0)
        for element, plan in zip(batch, plans, strict=True):
            if isinstance(plan, RejectRecord):
                outcome: Any = plan
            else:
                results = []
                for name, _ in plan.requests:
                    results.append(answers[name][cursor[name]])
                    cursor[name] += 1
                outcome = self._task.finish(element, results)
            yield route(outcome, self._count)
        stats = LLMStats()
        for client in self._clients.values():
            stats.add(client.take_stats())
            for exported in client.exported:
                yield beam.pvalue.TaggedOutput(TAG_EXPORTS, exported)
            client.exported = []
        yield beam.pvalue.TaggedOutput(TAG_STATS, stats.as_dict())


@dataclasses.dataclass
class RunLLMTask(beam.PTransform):
    """Runs an `LLMTask` over a PCollection in batches; see the module docstring.

    Attributes:
        task: the stage's pure part.
        endpoints: the endpoints its plans name.
        cache: the response cache location (SQLite file, folder or gs:// path).
        mode: live, export or cache_only.
        batch_size: elements per DoFn call.
    """

    task: LLMTask
    endpoints: tuple[EndpointConfig, ...]
    cache: str
    mode: str = "live"
    batch_size: int = 16

    def expand(self, elements: beam.PCollection):  # returns StageOutputs
        out = (
            elements
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.batch_size)
            | "Ask"
            >> beam.ParDo(_RunTaskFn(self.task, self.endpoints, self.cache, self.mode)).with_outputs(
                TAG_REJECTED, TAG_STATS, TAG_EXPORTS, main=TAG_MAIN
            )
        )
        done, rejected = out[TAG_MAIN], out[TAG_REJECTED]
        report = StageReport(self.task.stage, count_input(elements, ""), done, rejected)
        return StageOutputs(done, rejected, (report,), llm_stats=out[TAG_STATS], batch_requests=out[TAG_EXPORTS])


def for_config(cls: type[RunLLMTask], task: LLMTask, label_cfg: LabelConfig) -> RunLLMTask:
    """Builds a `RunLLMTask` subclass for a task with the config's endpoints, cache and mode."""
    return cls(task, label_cfg.endpoints, label_cfg.cache, label_cfg.mode, label_cfg.batch_size)
