"""The run's funnel and `manifest.json`, computed from the data on any runner.

Every stage reports a `StageReport`: what it read (`scanned`, ints summed into
`in`, counted by the reader itself), what it passed on (`out`) and what it
rejected (`RejectRecord`s, counted by reason). `WriteManifest` writes

    {"config_id", "config", "stages": [{"name", "in", "out", "rejected": {reason: n}}],
     "outputs": {split: {"rows", "files"}}, "rejects": {folder: {"rows", "files"}},
     "llm": {stage: {"requests_sent", "cache_hits", "retries", "errors", "prompt_tokens",
                     "completion_tokens", "cost_usd"}},      # only for runs with LLM stages
     "composition": [{"split", "source", "aspect", "language", "rows"}]}  # only where asked

Nothing in it depends on time or worker count, so equal runs give equal manifests.
"""

__all__ = [
    "StageReport",
    "WriteManifest",
    "assemble_manifest",
    "check_conservation",
    "count_input",
    "sum_llm_stats",
]

import dataclasses
import json
from collections.abc import Iterable
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems


class StageReport(NamedTuple):
    """The three PCollections the manifest counts for one stage."""

    name: str
    scanned: beam.PCollection  # ints
    out: beam.PCollection
    rejected: beam.PCollection  # RejectRecord


def count_input(pcoll: beam.PCollection, label: str) -> beam.PCollection:
    """Ones, one per element: a stage's `in` counted from its input."""
    return pcoll | f"Count{label}Input" >> beam.Map(lambda _: 1)


def _relative(root: str, path: str) -> str:
    root = root.rstrip("/") + "/"
    return path[len(root) :] if path.startswith(root) else path


def assemble_manifest(
    *,
    config_id: str,
    config: dict[str, Any],
    stage_order: list[str],
    counts: Iterable[tuple[str, str, int]],
    outputs: dict[str, Iterable[tuple[str, int]]],
    rejects: dict[str, Iterable[tuple[str, int]]],
    root: str,
    llm: dict[str, Iterable[dict[str, Any]]] | None = None,
    composition: Iterable[tuple[tuple[str, str, str, str], int]] | None = None,
) -> dict[str, Any]:
    """Builds the manifest dict from counted tuples and written files."""
    stages = {name: {"name": name, "in": 0, "out": 0, "rejected": {}} for name in stage_order}
    for stage, key, n in counts:
        entry = stages[stage]
        if key.startswith("rejected:"):
            entry["rejected"][key[9:]] = entry["rejected"].get(key[9:], 0) + n
        else:
            entry[key] += n
    for entry in stages.values():
        entry["rejected"] = dict(sorted(entry["rejected"].items()))

    def files(written: Iterable[tuple[str, int]]) -> dict[str, Any]:
        pairs = sorted(written)
        return {"rows": sum(n for _, n in pairs), "files": [_relative(root, p) for p, _ in pairs]}

    manifest = {
        "config_id": config_id,
        "config": config,
        "stages": [stages[name] for name in stage_order],
        "outputs": {split: files(w) for split, w in outputs.items()},
        "rejects": {folder: files(w) for folder, w in rejects.items()},
    }
    if llm is not None:
        manifest["llm"] = {stage: sum_llm_stats(parts) for stage, parts in llm.items()}
    if composition is not None:
        keys = ("split", "source", "aspect", "language")
        manifest["composition"] = [{**dict(zip(keys, key, strict=True)), "rows": n} for key, n in sorted(composition)]
    return manifest


def sum_llm_stats(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Sums per-batch LLM stats dicts into one, for the manifest's `llm` section."""
    total: dict[str, Any] = {
        "requests_sent": 0,
        "cache_hits": 0,
        "retries": 0,
        "errors": {},
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
    }
    for part in parts:
        for key, value in part.items():
            if key == "errors":
                for kind, n in value.items():
                    total["errors"][kind] = total["errors"].get(kind, 0) + n
            else:
                total[key] += value
    total["errors"] = dict(sorted(total["errors"].items()))
    total["cost_usd"] = round(total["cost_usd"], 6)
    return total


def check_conservation(manifest: dict[str, Any]) -> list[str]:
    """Returns one message per stage where in != out + Σ rejected (empty: all hold)."""
    problems = []
    for stage in manifest["stages"]:
        total = stage["out"] + sum(stage["rejected"].values())
        if stage["in"] != total:
            problems.append(f"{stage['name']}: in {stage['in']} != out + rejected {total}")
    return problems


def _stage_counts(report: StageReport) -> beam.PCollection:
    name = report.name
    scanned = (
        report.scanned
        | f"{name}SumIn" >> beam.CombineGlobally(sum)
        | f"{name}In" >> beam.Map(lambda n: (name, "in", n))
    )
    out = (
        report.out
        | f"{name}CountOut" >> beam.combiners.Count.Globally()
        | f"{name}Out" >> beam.Map(lambda n: (name, "out", n))
    )
    rejected = (
        report.rejected
        | f"{name}Reason" >> beam.Map(lambda r: (r.reason, 1))
        | f"{name}CountReasons" >> beam.CombinePerKey(sum)
        | f"{name}Rejected" >> beam.Map(lambda kv: (name, f"rejected:{kv[0]}", kv[1]))
    )
    return (scanned, out, rejected) | f"{name}Counts" >> beam.Flatten()


class _WriteJsonFn(beam.DoFn):
    def __init__(self, path: str, fields: dict[str, Any]) -> None:
        self._path, self._fields = path, fields

    def process(self, _: Any, counts: list, outputs: dict, rejects: dict, llm: dict | None = None,
                composition: list | None = None):  # fmt: skip
        manifest = assemble_manifest(counts=counts, outputs=outputs, rejects=rejects, llm=llm,
                                     composition=composition, **self._fields)  # fmt: skip
        with FileSystems.create(self._path) as f:
            f.write(json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n")
        yield manifest


@dataclasses.dataclass
class WriteManifest(beam.PTransform):
    """Counts every stage and writes `{root}/manifest.json`.

    Attributes:
        root: the run's output folder.
        config_id: the config's short id.
        config: the config as JSON-ready data.
        reports: one `StageReport` per stage, in pipeline order.
        outputs: per split, the `(path, rows)` PCollection of its written shards.
        rejects: per reject folder, the `(path, rows)` PCollection of its shards.
        llm: per LLM stage, its PCollection of per-batch stats dicts (optional).
        composition: `(split, source, aspect, language)` of every written pair (optional):
            the manifest's `composition` gives the rows of each.
    """

    root: str
    config_id: str
    config: dict[str, Any]
    reports: list[StageReport]
    outputs: dict[str, beam.PCollection]
    rejects: dict[str, beam.PCollection]
    llm: dict[str, beam.PCollection] | None = None
    composition: beam.PCollection | None = None

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[dict[str, Any]]:
        counts = [_stage_counts(r) for r in self.reports] | "AllCounts" >> beam.Flatten()

        def collect(group: dict[str, beam.PCollection], label: str) -> beam.PCollection:
            if not group:
                return pbegin | f"{label}None" >> beam.Create([{}])
            tagged = [
                pc | f"{label}{i}Tag" >> beam.Map(lambda w, name=name: (name, w))
                for i, (name, pc) in enumerate(sorted(group.items()))
            ]
            return (
                tagged
                | f"{label}Flatten" >> beam.Flatten()
                | f"{label}Group" >> beam.combiners.ToList()
                | f"{label}ByName" >> beam.Map(lambda items, names=tuple(group): _by_name(items, names))
            )

        fields = {
            "config_id": self.config_id,
            "config": self.config,
            "stage_order": [r.name for r in self.reports],
            "root": self.root,
        }
        sides = {
            "counts": beam.pvalue.AsList(counts),
            "outputs": beam.pvalue.AsSingleton(collect(self.outputs, "Outputs")),
            "rejects": beam.pvalue.AsSingleton(collect(self.rejects, "Rejects")),
        }
        if self.llm is not None:
            sides["llm"] = beam.pvalue.AsSingleton(collect(self.llm, "Llm"))
        if self.composition is not None:
            cells = self.composition | "CountCells" >> beam.combiners.Count.PerElement()
            sides["composition"] = beam.pvalue.AsList(cells)
        write = _WriteJsonFn(FileSystems.join(self.root, "manifest.json"), fields)
        return pbegin | "Once" >> beam.Create([None]) | "Write" >> beam.ParDo(write, **sides)


def _by_name(items: list[tuple[str, tuple[str, int]]], names: tuple[str, ...]) -> dict[str, list]:
    grouped: dict[str, list] = {name: [] for name in names}
    for name, written in items:
        grouped[name].append(written)
    return grouped
