"""Stage `mix`: per-source caps and per-criterion × language targets on finished pairs.

`MixPairs(cfg)`: PCollection[PairRecord] → `transforms.manifest.StageOutputs` (`main`,
`rejected`, one report).

Every pair gets a rank, a 63-bit hash of its `idx`, so which pairs a cap keeps
does not depend on input order, runner or worker count, and is an unbiased
sample of the source or cell. First each capped source keeps its `caps[source]`
lowest-ranked pairs (the others are rejected `source_cap`), then each targeted
(criterion, language) cell keeps its `targets[criterion][language]` lowest-ranked
survivors (`target_cap`). A target is a ceiling: a cell with fewer pairs keeps
them all, and the manifest's `composition` shows what was realised.

The threshold rank of each capped group is computed first (only ranks are
combined, at most `cap` of them per group), then pairs at or under it pass; the
pairs wait for it compressed (`transforms.packing`), since a local runner holds
them in memory meanwhile. With no caps and no targets the stage passes all.
"""

__all__ = ["MixPairs", "SOURCE_CAP", "STAGE", "TARGET_CAP", "rank"]

import dataclasses
import heapq
import itertools
from collections.abc import Iterable

import apache_beam as beam

from schemas.build import MixConfig
from schemas.records import PairRecord, RejectRecord
from transforms.filters import pair_row
from transforms.hashing import stable_hash
from transforms.manifest import StageOutputs, StageReport, count_input
from transforms.metrics import TAG_MAIN, TAG_REJECTED, beam_counter
from transforms.packing import pack, unpack


STAGE = "mix"
SOURCE_CAP, TARGET_CAP = "source_cap", "target_cap"


def rank(pair: PairRecord) -> int:
    """A 63-bit hash of the pair's id: the order in which caps keep pairs."""
    return stable_hash(pair.idx) >> 1


class _SmallestRanks(beam.CombineFn):
    """Per limited group: the largest of its `limit` smallest ranks, None when it has no more than `limit`.

    One pass over `(group, rank)` for all groups; the accumulator holds at most
    `limits[group]` ranks per group.
    """

    def __init__(self, limits: dict[str, int]) -> None:
        self._limits = limits

    def create_accumulator(self) -> dict[str, list[int]]:
        return {}  # per group, the smallest ranks seen, negated: a max-heap of them

    def add_input(self, acc: dict[str, list[int]], item: tuple[str, int]) -> dict[str, list[int]]:
        group, value = item
        heap = acc.setdefault(group, [])
        heapq.heappush(heap, -value)
        if len(heap) > self._limits[group]:
            heapq.heappop(heap)
        return acc

    def merge_accumulators(self, accs: Iterable[dict[str, list[int]]]) -> dict[str, list[int]]:
        parts: dict[str, list[list[int]]] = {}
        for acc in accs:
            for group, heap in acc.items():
                parts.setdefault(group, []).append(heap)
        merged = {}
        for group, heaps in parts.items():
            merged[group] = heapq.nlargest(self._limits[group], itertools.chain.from_iterable(heaps))
            heapq.heapify(merged[group])
        return merged

    def extract_output(self, acc: dict[str, list[int]]) -> dict[str, int | None]:
        thresholds: dict[str, int | None] = {}
        for group, limit in self._limits.items():
            heap = acc.get(group, [])
            thresholds[group] = -1 if limit == 0 else -heap[0] if len(heap) >= limit else None  # -1: keeps nothing
        return thresholds


def _groups(pair: PairRecord) -> dict[str, str]:
    return {"source": pair.source, "cell": f"{pair.aspect} × {pair.language}"}


def _cap(
    items: beam.PCollection, limits: dict[str, int], kind: str, reason: str
) -> tuple[beam.PCollection, beam.PCollection]:
    """Keeps the `limits[group]` lowest-ranked items of each limited group of `kind`; returns (kept, rejected)."""
    thresholds = (
        items
        | f"{kind}Ranks" >> beam.FlatMap(lambda x: [(x[1][kind], x[0])] if x[1][kind] in limits else [])
        | f"{kind}Thresholds" >> beam.CombineGlobally(_SmallestRanks(limits))
    )
    side = beam.pvalue.AsSingleton(thresholds)
    out = items | f"{kind}Apply" >> beam.ParDo(_ApplyCap(kind, reason), side).with_outputs(TAG_REJECTED, main=TAG_MAIN)
    return out[TAG_MAIN], out[TAG_REJECTED]


class _ApplyCap(beam.DoFn):
    def __init__(self, kind: str, reason: str) -> None:
        self._kind, self._reason = kind, reason

    def setup(self) -> None:
        self._count = beam_counter(STAGE)

    def process(self, item: tuple[int, dict[str, str], bytes], thresholds: dict[str, int | None]):
        group = item[1][self._kind]
        threshold = thresholds.get(group)
        if threshold is None or item[0] <= threshold:
            yield item
            return
        pair = unpack(item[2])
        self._count(f"rejected:{self._reason}", 1)
        detail = f"{self._kind} {group} keeps its lowest-ranked pairs"
        yield beam.pvalue.TaggedOutput(
            TAG_REJECTED, RejectRecord.make(STAGE, self._reason, pair.idx, detail, pair_row(pair))
        )


def _ranked(pair: PairRecord) -> tuple[int, dict[str, str], bytes]:
    return rank(pair), _groups(pair), pack(pair)


@dataclasses.dataclass
class MixPairs(beam.PTransform):
    """Applies the source caps, then the criterion × language targets; see the module docstring.

    Attributes:
        cfg: the caps and targets.
    """

    cfg: MixConfig

    def expand(self, pairs: beam.PCollection):  # returns StageOutputs
        scanned = count_input(pairs, "")
        if not self.cfg.caps and not self.cfg.targets:
            no_rejects = pairs.pipeline | "NoRejects" >> beam.Create([])
            return StageOutputs(pairs, no_rejects, (StageReport(STAGE, scanned, pairs, no_rejects),))
        items = pairs | "Rank" >> beam.Map(_ranked)
        rejected = []
        if self.cfg.caps:
            items, dropped = _cap(items, dict(self.cfg.caps), "source", SOURCE_CAP)
            rejected.append(dropped)
        targets = {
            f"{aspect} × {language}": n for aspect, cells in self.cfg.targets.items() for language, n in cells.items()
        }
        if targets:
            items, dropped = _cap(items, targets, "cell", TARGET_CAP)
            rejected.append(dropped)
        kept = items | "Unpack" >> beam.Map(lambda item: unpack(item[2]))
        all_rejected = rejected | "AllRejects" >> beam.Flatten(pipeline=pairs.pipeline)
        return StageOutputs(kept, all_rejected, (StageReport(STAGE, scanned, kept, all_rejected),))
