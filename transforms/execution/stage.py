"""`VerifyByExecution` (stage `verify_by_execution`): keep a planted bug only if it breaks the tests.

PCollection[PairRecord] (bugged-instruct pairs with `tests`, and `mutants` for AST
mutations) → `transforms.manifest.StageOutputs` with `main` (the verified pairs,
working fields cleared), `rejected`, one report, and `attempts`: one
`transforms.execution.verify.Attempt` per candidate bug run, for the kill rates.
The keep rule and its reasons are `transforms.execution.verify`'s.

Pairs are batched (`BatchElements`) and each batch runs on a few threads (the
work is in sandboxed child processes); outputs keep the input's order within a
batch, and each pair's result depends only on the pair, so the rows are the same
on every runner. Isolation is probed once per worker (`probe_isolation`); where
it is missing, a warning says so once and the runs go on with the remaining guards.
"""

__all__ = ["STAGE", "TAG_ATTEMPTS", "VerifyByExecution"]

import concurrent.futures
import dataclasses
import logging
import os

import apache_beam as beam

from schemas.config import ExecutionConfig
from schemas.records import PairRecord
from transforms.execution.verify import STAGE, Settings, verify_pair
from transforms.manifest import StageOutputs, StageReport, count_input
from transforms.metrics import TAG_MAIN, TAG_REJECTED, beam_counter, route


TAG_ATTEMPTS = "attempts"
_LOG = logging.getLogger(__name__)


class _VerifyFn(beam.DoFn):
    def __init__(self, cfg: ExecutionConfig) -> None:
        self._cfg = cfg

    def setup(self) -> None:
        from transforms.execution.sandbox import Limits, probe_isolation

        isolation = probe_isolation()
        if isolation.warning:
            _LOG.warning("codepref execution sandbox: %s", isolation.warning)
        cfg = self._cfg
        limits = Limits(
            timeout_s=cfg.timeout_s, cpu_s=cfg.cpu_s, memory_mb=cfg.memory_mb, output_bytes=cfg.output_kb * 1024
        )
        self._settings = Settings(limits, isolation, cfg.max_attempts, cfg.prefer_covered)
        self._pool = concurrent.futures.ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)))
        self._count = beam_counter(STAGE)

    def process(self, batch: list[PairRecord]):
        self._count("in", len(batch))
        for verified in self._pool.map(verify_pair, batch, [self._settings] * len(batch)):
            for attempt in verified.attempts:
                yield beam.pvalue.TaggedOutput(TAG_ATTEMPTS, attempt)
            yield route(verified.result, self._count)

    def teardown(self) -> None:
        self._pool.shutdown(wait=True)


@dataclasses.dataclass
class VerifyByExecution(beam.PTransform):
    """Runs each pair's solution and candidate bugs against its tests; see the module docstring.

    Attributes:
        cfg: attempts, limits and coverage preference.
        batch_size: the most pairs one DoFn call runs.
    """

    cfg: ExecutionConfig = ExecutionConfig()
    batch_size: int = 16

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns StageOutputs
        results = (
            pairs
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self.batch_size)
            | "Verify" >> beam.ParDo(_VerifyFn(self.cfg)).with_outputs(TAG_REJECTED, TAG_ATTEMPTS, main=TAG_MAIN)
        )
        main, rejected = results[TAG_MAIN], results[TAG_REJECTED]
        report = StageReport(STAGE, count_input(pairs, ""), main, rejected)
        return StageOutputs(main, rejected, (report,), attempts=results[TAG_ATTEMPTS])
