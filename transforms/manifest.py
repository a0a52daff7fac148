"""The run's funnel and `manifest.json`, computed from the data on any runner.

Every stage reports a `StageReport`: what it read (`scanned`, ints summed into
`in`, counted by the reader itself), what it passed on (`out`) and what it
rejected (`RejectRecord`s, counted by reason). `WriteManifest` writes

    {"config_id", "config", "stages": [{"name", "in", "out", "rejected": {reason: n}}],
     "outputs": {split: {"rows", "files"}}, "rejects": {folder: {"rows", "files"}},
     "llm": {stage: {"requests_sent", "cache_hits", "retries", "errors", "prompt_tokens",
                     "completion_tokens", "cost_usd"}},      # only for runs with LLM stages
     "composition": [{"split", "source", "aspect", "language", "rows"}],  # only where asked
     "execution": {"verified", "isolation", "kill_rates": [...], "totals"},  # only with tests
                                                    # (transforms.execution.report)
     "flow": {stage: {"rows_from": [stage, ...], "made_from": [stage, ...]}}}

`flow` is the stage graph, as the pipeline wired it (each `StageReport` names
the stages it reads from): a stage's `in` is the sum of the `out`s of its
`rows_from` stages (one row for one row, several when branches are flattened
into it), plus rows made from the `out` rows of its `made_from` stages (not one
for one: a pair per criterion of a commit, a pair of two solutions). A stage
with neither reads files (a source). The last stage's `out` is what is written
to `outputs`; reject folders are `NN_stage`, numbered in stage order.
`check_flow` checks a manifest against its flow.

Nothing in it depends on time or worker count, so equal runs give equal manifests.
It is written under a temporary name and renamed (`transforms.sinks.write_file`),
so a killed run never leaves a truncated manifest.json.
Once written, the manifest's splits and reject folders are cleared of the shards
it does not list (`transforms.sinks.remove_stale_outputs`): a re-run into the same
folder with another shard count leaves only its own files.
"""

__all__ = [
    "StageOutputs",
    "StageReport",
    "WriteManifest",
    "assemble_manifest",
    "check_conservation",
    "check_flow",
    "count_input",
    "sum_llm_stats",
    "upstream",
]

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms.sinks import remove_stale_outputs, write_file


class StageReport(NamedTuple):
    """The three PCollections the manifest counts for one stage, and where its input comes from.

    Attributes:
        name: the stage.
        scanned: ints, summed into `in`.
        out: what it passed, counted into `out`.
        rejected: its `RejectRecord`s.
        rows_from: the stages whose `out` rows are this stage's input, one for one.
        made_from: the stages from whose `out` rows its input rows are made, not one for one.
        expands: the rows it passes on are made from its `out` rows, not those rows
            (so a stage reading them lists it in `made_from`).
    """

    name: str
    scanned: beam.PCollection  # ints
    out: beam.PCollection
    rejected: beam.PCollection  # RejectRecord
    rows_from: tuple[str, ...] = ()
    made_from: tuple[str, ...] = ()
    expands: bool = False


class StageOutputs(NamedTuple):
    """What every stage composite returns.

    Attributes:
        main: the rows it passes on.
        rejected: the `RejectRecord`s of all its stages.
        reports: one `StageReport` per stage it runs, in order. The first one's
            `rows_from` and `made_from` are empty (a composite does not know what
            feeds it): the pipeline names them with `after`; later ones read the
            stage before them inside the composite.
        llm_stats: an LLM stage's per-batch stats dicts (`transforms.llm.stage`), else None.
        batch_requests: an LLM stage's requests for the Batch API (`mode: export`), else None.
        attempts: the execution stage's candidate bug runs (`transforms.execution.verify.Attempt`), else None.
    """

    main: beam.PCollection
    rejected: beam.PCollection
    reports: tuple[StageReport, ...]
    llm_stats: beam.PCollection | None = None
    batch_requests: beam.PCollection | None = None
    attempts: beam.PCollection | None = None

    def after(self, rows_from: Iterable[str] = (), made_from: Iterable[str] = ()) -> tuple[StageReport, ...]:
        """Its reports, the first reading the `out` of `rows_from` (one for one) and made from `made_from`."""
        first, *rest = self.reports
        return (first._replace(rows_from=tuple(rows_from), made_from=tuple(made_from)), *rest)


def upstream(reports: Iterable[StageReport]) -> dict[str, tuple[str, ...]]:
    """`rows_from` and `made_from` of a stage fed by the ends of every branch so far.

    The ends are the reports whose rows no later report reads (the branches a
    Flatten joins); an end that `expands` goes to `made_from`.
    """
    reports = list(reports)
    read = {name for r in reports for name in (*r.rows_from, *r.made_from)}
    ends = [r for r in reports if r.name not in read]
    return {
        "rows_from": tuple(r.name for r in ends if not r.expands),
        "made_from": tuple(r.name for r in ends if r.expands),
    }


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
    flow: dict[str, dict[str, list[str]]] | None = None,
    execution: Iterable[tuple[tuple, int]] | None = None,
) -> dict[str, Any]:
    """Builds the manifest dict from counted tuples and written files (and the stage graph, `flow`).

    `execution`: the counted candidate bug runs of the execution stage, where it ran.
    """
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
    if flow is not None:
        manifest["flow"] = flow
    if execution is not None:
        from transforms.execution.report import execution_section

        manifest["execution"] = execution_section(execution)
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


def _flow_of(reports: Iterable[StageReport]) -> dict[str, dict[str, list[str]]]:
    """The manifest's `flow`.

    Raises:
        ValueError: a stage name repeats, or a stage reads from no earlier stage (a wiring bug).
    """
    flow: dict[str, dict[str, list[str]]] = {}
    for r in reports:
        if r.name in flow:
            raise ValueError(f"stage {r.name} is reported twice")
        unknown = [name for name in (*r.rows_from, *r.made_from) if name not in flow]
        if unknown:
            raise ValueError(f"stage {r.name} reads from {', '.join(unknown)}, not an earlier stage")
        flow[r.name] = {"rows_from": list(r.rows_from), "made_from": list(r.made_from)}
    return flow


def check_flow(manifest: dict[str, Any]) -> list[str]:
    """Returns one message per break in the chain of stages (empty: it holds).

    Checks the manifest against its own `flow` (see the module docstring): the same
    stages in the same order; each reads only earlier stages; a stage's `in` equals
    the `out`s of its `rows_from` stages, and exceeds them when its `made_from`
    stages passed rows; one reject folder per stage, `NN_stage` in order; the
    outputs hold the last stage's `out`. Expects the shape `assemble_manifest` gives.
    """
    stages, flow = manifest["stages"], manifest.get("flow")
    if not isinstance(flow, dict):
        return ["it records no stage graph (`flow`; written by an older codepref): re-run the pipeline"]
    names = [stage["name"] for stage in stages]
    if list(flow) != names:
        missing = [name for name in flow if name not in names]
        extra = [name for name in names if name not in flow]
        if missing or extra:
            removed = [f"stage {name} of the pipeline's graph is not in the stages (removed?)" for name in missing]
            return removed + [f"stage {name} is not in the pipeline's graph" for name in extra]
        return [f"the stages ({', '.join(names)}) are not in the pipeline's order ({', '.join(flow)})"]
    problems = []
    folders = [f"{number:02d}_{name}" for number, name in enumerate(names, start=1)]
    for folder in [f for f in folders if f not in manifest["rejects"]]:
        problems.append(f"no reject folder {folder} for stage {folder[3:]}")
    for folder in [f for f in manifest["rejects"] if f not in folders]:
        problems.append(f"reject folder {folder} is no stage's (stages: {', '.join(folders)})")
    passed: dict[str, int] = {}
    for stage in stages:
        name = stage["name"]
        links = flow[name]
        if not isinstance(links, dict) or not all(isinstance(links.get(k), list) for k in ("rows_from", "made_from")):
            problems.append(f"{name}: its graph entry is not {{rows_from: [...], made_from: [...]}}")
            continue
        rows_from, made_from = links["rows_from"], links["made_from"]
        unknown = [u for u in (*rows_from, *made_from) if u not in passed]
        if unknown:
            problems.append(f"{name} reads from {', '.join(map(str, unknown))}, not an earlier stage")
        elif rows_from or made_from:
            whole = sum(passed[u] for u in rows_from)
            made = sum(passed[u] for u in made_from)
            feeders = " + ".join(rows_from) or "no stage"
            if made == 0 and stage["in"] != whole:
                problems.append(f"{name}: in {stage['in']} != out of {feeders} {whole}")
            elif made and stage["in"] <= whole:
                problems.append(
                    f"{name}: in {stage['in']}, but {' + '.join(made_from)} passed {made} rows to make "
                    f"more from, beside the {whole} of {feeders}"
                )
        passed[name] = stage["out"]
    rows = sum(split["rows"] for split in manifest["outputs"].values())
    if stages and rows != stages[-1]["out"]:
        problems.append(f"the outputs hold {rows} rows, but the last stage, {names[-1]}, passed {stages[-1]['out']}")
    return problems


def _stage_counts(reports: Sequence[StageReport], pipeline: beam.Pipeline) -> beam.PCollection:
    """`(stage, "in" | "out" | "rejected:REASON", n)` of every stage, through one combine (no entry for 0)."""
    keyed = []
    for report in reports:
        name = report.name
        keyed.append(report.scanned | f"{name}In" >> beam.Map(lambda n, name=name: ((name, "in"), n)))
        keyed.append(report.out | f"{name}Out" >> beam.Map(lambda _, name=name: ((name, "out"), 1)))
        keyed.append(
            report.rejected | f"{name}Rejected" >> beam.Map(lambda r, name=name: ((name, f"rejected:{r.reason}"), 1))
        )
    return (
        keyed
        | "AllStages" >> beam.Flatten(pipeline=pipeline)
        | "SumPerStage" >> beam.CombinePerKey(sum)
        | "Counts" >> beam.MapTuple(lambda key, n: (*key, n))
    )


class _WriteJsonFn(beam.DoFn):
    def __init__(self, path: str, fields: dict[str, Any]) -> None:
        self._path, self._fields = path, fields

    def process(
        self,
        _: Any,
        counts: list,
        outputs: dict,
        rejects: dict,
        llm: dict | None = None,
        composition: list | None = None,
        execution: list | None = None,
    ):
        manifest = assemble_manifest(
            counts=counts,
            outputs=outputs,
            rejects=rejects,
            llm=llm,
            composition=composition,
            execution=execution,
            **self._fields,
        )
        write_file(self._path, json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n")
        remove_stale_outputs(self._fields["root"], manifest)  # a previous run's shards this run did not write
        yield manifest


@dataclasses.dataclass
class WriteManifest(beam.PTransform):
    """Counts every stage and writes `{root}/manifest.json`.

    Attributes:
        root: the run's output folder.
        config_id: the config's short id.
        config: the config as JSON-ready data.
        reports: one `StageReport` per stage, in pipeline order (the last one's `out`
            is what `outputs` hold); their `rows_from` and `made_from` give `flow`.
        outputs: per split, the `(path, rows)` PCollection of its written shards.
        rejects: per reject folder, the `(path, rows)` PCollection of its shards.
        llm: per LLM stage, its PCollection of per-batch stats dicts (optional).
        composition: `(split, source, aspect, language)` of every written pair (optional):
            the manifest's `composition` gives the rows of each.
        execution: the execution stage's attempts (optional): the manifest's `execution`.
    """

    root: str
    config_id: str
    config: dict[str, Any]
    reports: list[StageReport]
    outputs: dict[str, beam.PCollection]
    rejects: dict[str, beam.PCollection]
    llm: dict[str, beam.PCollection] | None = None
    composition: beam.PCollection | None = None
    execution: beam.PCollection | None = None

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection[dict[str, Any]]:
        counts = _stage_counts(self.reports, pbegin.pipeline)

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
            "flow": _flow_of(self.reports),
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
        if self.execution is not None:
            tried = (
                self.execution | "AttemptKeys" >> beam.Map(tuple) | "CountAttempts" >> beam.combiners.Count.PerElement()
            )
            sides["execution"] = beam.pvalue.AsList(tried)
        write = _WriteJsonFn(FileSystems.join(self.root, "manifest.json"), fields)
        return pbegin | "Once" >> beam.Create([None]) | "Write" >> beam.ParDo(write, **sides)


def _by_name(items: list[tuple[str, tuple[str, int]]], names: tuple[str, ...]) -> dict[str, list]:
    grouped: dict[str, list] = {name: [] for name in names}
    for name, written in items:
        grouped[name].append(written)
    return grouped
