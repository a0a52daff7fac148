"""`codepref label`: mine → tag → rate → instruct → judge → preference pairs.

DAG: the mining DAG of `pipelines.mine`, then one pair candidate per (commit,
criterion), `SamplePairs` (all of them unless `sample_fraction` < 1), then
`RateCommits`, `SynthesizeInstruction` and `JudgePairs` through one cached LLM
client per endpoint, then pairs in the Themis-CodePreference schema
under `data/`, rejects per stage, and a manifest with an `llm` section.

With `mode: export` in the LLM config, nothing is sent: requests missing from the
cache are written to `batch/requests-*.jsonl` for the OpenAI Batch API, and their
pairs are rejected `awaiting_batch` until `codepref batch collect` fills the cache.
"""

__all__ = [
    "NO_LLM",
    "Labelled",
    "add_arguments",
    "build",
    "config_from_args",
    "labelled_pairs",
    "pair_run_spec",
    "run",
    "write_pairs",
]

import argparse
import os
from collections.abc import Callable, Iterable
from typing import NamedTuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipelines import finalize, flags, mine, runs
from pipelines.finalize import final_stages
from schemas.arrow import pair_schema
from schemas.build import InstructionSource, MixConfig
from schemas.config import CodeConfig, ExecutionConfig, MineConfig, config_id
from schemas.final import FinalConfig
from schemas.llm import EndpointConfig, LabelConfig
from schemas.records import PairRecord
from schemas.runs import LabelRun
from transforms.code.bugged import BugIntroduction, BugTask, MutatePairs
from transforms.code.stages import FUNCTION_STAGE, SYNTAX_STAGE, FilterSyntax, FocusChangedFunctions
from transforms.commit_pairs import SamplePairs, pairs_from_commit
from transforms.execution.stage import VerifyByExecution
from transforms.llm.errors import check_llm_error_share
from transforms.llm.instruct import InstructTask, SynthesizeInstruction
from transforms.llm.judge import JudgePairs, JudgeTask
from transforms.llm.rate import RateCommits, RateTask
from transforms.manifest import StageReport, upstream
from transforms.sources import instructions
from transforms.sources.instructions import InstructionColumns, ReadInstructionSets
from transforms.write_run import RunSpec, WriteRun


def pair_key(row: dict) -> str:
    """The sharding and sort key of a pair row."""
    return row["idx"]


BUGGED_SYNTAX_STAGE = "bugged_syntax_filter"
NO_LLM = LabelConfig(endpoints=(EndpointConfig(name="none", base_url="http://127.0.0.1:9/v1", model="none"),))
"""The LLM config of a run that calls no LLM (AST mutations, external datasets); it only fills the manifest."""
_RUNTIME_ONLY = ("cache", "mode", "batch_size", "max_llm_error_share")
_ENDPOINT_DATA = ("name", "model", "output_mode")


def llm_identity(label_cfg: LabelConfig) -> dict:
    """The LLM config's part of a config id: what decides the rows, not addresses, limits, cache or batching."""
    data = label_cfg.model_dump(mode="json", exclude=set(_RUNTIME_ONLY))
    data["endpoints"] = [{k: e[k] for k in _ENDPOINT_DATA} for e in data["endpoints"]]
    return data


def label_config_id(
    mine_cfg: MineConfig,
    label_cfg: LabelConfig,
    code_cfg: CodeConfig | None = None,
    final_cfg: FinalConfig | None = None,
    instructions: InstructionSource | None = None,
) -> str:
    """A short id over what decides the rows: not addresses, limits, cache or batching.

    An instruction set's tests count (which column, the execution settings) where it has them.
    """
    code = config_id(code_cfg) if code_cfg else None
    final = final_cfg.model_dump(mode="json") if final_cfg else None
    data = {"mine": mine_cfg.id, "label": llm_identity(label_cfg), "code": code, "final": final}
    execution = execution_config(instructions)
    if execution is not None:
        data["execution"] = {
            "tests": instructions.test_column,
            "entry_point": instructions.entry_point_column,
            **execution.model_dump(mode="json"),
        }
    return config_id(data)


def commit_pair_stages(
    commits: beam.PCollection, code_cfg: CodeConfig, label_cfg: LabelConfig, mined_by: str
) -> tuple[beam.PCollection, tuple[StageReport, ...]]:
    """Commits → pair candidates → (changed functions) → syntax filter → labelling sample.

    `mined_by`: the last mining stage, whose commits the pairs are made from (one per criterion).
    """
    pairs = commits | "BuildCommitPairs" >> beam.FlatMap(pairs_from_commit)
    reports: tuple[StageReport, ...] = ()
    made_from = (mined_by,)
    if code_cfg.function_level:
        focused = pairs | "FocusChangedFunctions" >> FocusChangedFunctions()
        reports += focused.after(made_from=made_from)
        pairs, made_from = focused.main, (FUNCTION_STAGE,)
    checked = pairs | "FilterSyntax" >> FilterSyntax(code_cfg.syntax())
    sampled = checked.main | "SamplePairs" >> SamplePairs(label_cfg.sample_fraction)
    return sampled.main, reports + checked.after(made_from=made_from) + sampled.after((SYNTAX_STAGE,))


class Labelled(NamedTuple):
    """The pairs of some sources, and what the manifest needs of their stages."""

    finished: tuple[beam.PCollection, ...]
    reports: tuple[StageReport, ...]
    llm_stats: dict[str, beam.PCollection]
    exports: tuple[beam.PCollection, ...]
    attempts: tuple[beam.PCollection, ...] = ()

    @classmethod
    def joined(cls, parts: Iterable["Labelled"]) -> "Labelled":
        """The branches of `parts`, in order, as one."""
        parts = list(parts)
        return cls(
            tuple(pc for part in parts for pc in part.finished),
            tuple(report for part in parts for report in part.reports),
            {stage: stats for part in parts for stage, stats in part.llm_stats.items()},
            tuple(pc for part in parts for pc in part.exports),
            tuple(pc for part in parts for pc in part.attempts),
        )


def llm_tasks(label_cfg: LabelConfig) -> tuple[tuple[str, type, object], ...]:
    """(label, composite, task) of the three LLM stages of commit pairs, in order."""
    rate = RateTask(
        label_cfg.rater_endpoints(),
        label_cfg.rating,
        label_cfg.rating_max_tokens,
        label_cfg.max_prompt_chars,
        label_cfg.seed,
    )
    instruct = InstructTask(
        label_cfg.endpoint(label_cfg.instruct),
        label_cfg.instruction_max_tokens,
        label_cfg.max_prompt_chars,
        label_cfg.seed,
    )
    judge = JudgeTask(
        label_cfg.endpoint(label_cfg.judge),
        label_cfg.judging,
        label_cfg.judge_max_tokens,
        label_cfg.max_prompt_chars,
        label_cfg.seed,
    )
    return (
        ("RateCommits", RateCommits, rate),
        ("SynthesizeInstruction", SynthesizeInstruction, instruct),
        ("JudgePairs", JudgePairs, judge),
    )


def commit_pairs(
    p: beam.Pipeline,
    mine_cfg: MineConfig,
    label_cfg: LabelConfig,
    code_cfg: CodeConfig,
    *,
    repos: list[str],
    commit_patterns: list[str],
) -> Labelled:
    """Commits (mined) → pairs → rated, instructed and judged by the LLM."""
    commits, reports = mine.mine_commits(p, mine_cfg, repos=repos, commit_patterns=commit_patterns)
    pairs, code_reports = commit_pair_stages(commits, code_cfg, label_cfg, reports[-1].name)
    reports += code_reports
    llm_stats, exports = {}, ()
    for label, stage, task in llm_tasks(label_cfg):
        done = pairs | label >> stage.from_config(task, label_cfg)
        reports += done.after((reports[-1].name,))  # the stage before passed `pairs`
        llm_stats[task.stage] = done.llm_stats
        exports += (done.batch_requests,)
        pairs = done.main
    return Labelled((pairs,), reports, llm_stats, exports)


def bugged_instruct_pairs(
    p: beam.Pipeline,
    patterns: list[str],
    columns: InstructionColumns,
    code_cfg: CodeConfig,
    label_cfg: LabelConfig,
    execution: ExecutionConfig | None = None,
) -> Labelled:
    """Instruction sets → seeds → a planted bug (AST or LLM) → syntax filter → (verified by execution).

    With `execution` (the rows carry tests), AST mutation keeps a pool of candidate
    mutants and `VerifyByExecution` keeps a pair only if a planted bug breaks the tests.
    """
    globs = p | "InstructionPatterns" >> beam.Create(sorted(patterns))
    seeds = globs | "ReadInstructions" >> ReadInstructionSets(columns)
    llm_stats, exports = {}, ()
    if code_cfg.llm_bugs:
        task = BugTask(label_cfg.endpoint(label_cfg.instruct), seed=code_cfg.seed)
        bugged = seeds.main | "BugIntroduction" >> BugIntroduction.from_config(task, label_cfg)
        llm_stats[task.stage] = bugged.llm_stats
        exports = (bugged.batch_requests,)
    else:
        pool = execution.candidate_pool if execution else 1
        bugged = seeds.main | "MutatePairs" >> MutatePairs(code_cfg.operators, code_cfg.seed, pool=pool)
    reports = seeds.reports + bugged.after((instructions.STAGE,))
    checked = bugged.main | "FilterBuggedSyntax" >> FilterSyntax(code_cfg.syntax(), stage=BUGGED_SYNTAX_STAGE)
    reports += checked.after((reports[-1].name,))
    if execution is None:
        return Labelled((checked.main,), reports, llm_stats, exports)
    verified = checked.main | "VerifyByExecution" >> VerifyByExecution(execution)
    reports += verified.after((reports[-1].name,))
    return Labelled((verified.main,), reports, llm_stats, exports, (verified.attempts,))


def labelled_pairs(
    p: beam.Pipeline,
    mine_cfg: MineConfig,
    label_cfg: LabelConfig,
    *,
    repos: list[str],
    commit_patterns: list[str],
    code_cfg: CodeConfig,
    instruction_patterns: list[str] | None = None,
    columns: InstructionColumns | None = None,
    execution: ExecutionConfig | None = None,
) -> Labelled:
    """Wires the commit pairs (mined, rated, instructed, judged) and the bugged-instruct pairs.

    Bugged-instruct pairs (from `instruction_patterns`) are correct by construction
    (the rejected side holds a planted bug), so they skip the three LLM stages;
    with `execution`, their bugs are verified against the rows' tests.
    """
    parts = []
    if repos or commit_patterns:
        parts.append(commit_pairs(p, mine_cfg, label_cfg, code_cfg, repos=repos, commit_patterns=commit_patterns))
    if instruction_patterns:
        columns = columns or InstructionColumns()
        parts.append(bugged_instruct_pairs(p, instruction_patterns, columns, code_cfg, label_cfg, execution))
    return Labelled.joined(parts)


def pair_run_spec(out: str, config_id: str, config: dict, target_shard_bytes: int) -> RunSpec:
    """The `RunSpec` of a run that writes preference pairs, with the manifest's composition."""
    return RunSpec(
        out,
        config_id,
        config,
        pair_schema(),
        pair_key,
        target_shard_bytes,
        to_row=PairRecord.to_row,
        composition=True,
    )


def instruction_columns(spec: InstructionSource) -> InstructionColumns:
    """The columns an instruction set's rows are read by (a fixed `language` overrides the column)."""
    language_column = None if spec.language else spec.language_column
    return InstructionColumns(
        spec.instruction_column,
        spec.solution_column,
        language_column,
        spec.language,
        tests=spec.test_column,
        entry_point=spec.entry_point_column,
    )


def execution_config(spec: InstructionSource | None) -> ExecutionConfig | None:
    """How an instruction set's pairs are verified by execution: None without a test column."""
    return spec.execution if spec is not None and spec.test_column else None


def build(p: beam.Pipeline, cfg: LabelRun, out: str) -> None:
    """Wires the labelling DAG into `p`: `labelled_pairs`, the final stages and the sink."""
    instructions = cfg.instructions
    labelled = labelled_pairs(
        p,
        cfg.mine,
        cfg.llm,
        repos=list(cfg.repos),
        commit_patterns=list(cfg.commit_files),
        code_cfg=cfg.code,
        instruction_patterns=list(instructions.files) if instructions else None,
        columns=instruction_columns(instructions) if instructions else None,
        execution=execution_config(instructions),
    )
    spec = pair_run_spec(
        out,
        label_config_id(cfg.mine, cfg.llm, cfg.code, cfg.filters, instructions),
        runs.config_json(cfg.mine, cfg.llm, cfg.code, cfg.filters),
        cfg.mine.target_shard_bytes,
    )
    write_pairs(p, labelled, spec, cfg.filters, llm_stats=labelled.llm_stats)
    if cfg.llm.mode == "export":
        write_batch_requests(labelled.exports, out)


def write_batch_requests(exports: Iterable[beam.PCollection], out: str) -> None:
    """Writes the requests the LLM stages could not answer from the cache, for the Batch API."""
    _ = (
        tuple(exports)
        | "AllBatchRequests" >> beam.Flatten()
        | "CollectBatchRequests" >> beam.combiners.ToList()
        | "WriteBatchRequests" >> beam.Map(_write_batch_requests, FileSystems.join(out, "batch"))
    )


def write_pairs(
    p: beam.Pipeline,
    labelled: Labelled,
    spec: RunSpec,
    final_cfg: FinalConfig,
    *,
    llm_stats: dict[str, beam.PCollection] | None,
    mix: MixConfig | None = None,
    system: Callable[[PairRecord], PairRecord] | None = None,
) -> None:
    """Runs the final stages over `labelled`'s pairs and writes the run (`transforms.write_run.WriteRun`).

    `mix` holds the source caps and criterion × language targets (`transforms.mix`);
    `system` fills a pair's `system` column before it is written; `llm_stats` None
    leaves the manifest without an `llm` section.
    """
    config_id = spec.config_id
    pairs = (
        labelled.finished
        | "AllPairs" >> beam.Flatten(pipeline=p)
        | "WithConfigId" >> beam.Map(lambda pair: pair._replace(config_id=config_id))
    )
    splits, final_reports = final_stages(p, pairs, final_cfg, upstream(labelled.reports), mix)
    if system is not None:
        splits = {name: split_pairs | f"System{name}" >> beam.Map(system) for name, split_pairs in splits.items()}
    attempts = labelled.attempts | "AllAttempts" >> beam.Flatten(pipeline=p) if labelled.attempts else None
    _ = p | "WriteRun" >> WriteRun(spec, splits, labelled.reports + final_reports, llm_stats, attempts)


def _write_batch_requests(items: list, directory: str) -> list[str]:
    from transforms.llm.batch_api import export_requests

    return export_requests(sorted(items, key=lambda kv: kv[0]), directory, presorted=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref label` arguments: mining, code, instruction sets and the LLM config."""
    mine.add_arguments(parser)
    flags.add_code_arguments(parser)
    flags.add_instruction_arguments(parser)
    parser.add_argument("--llm-config", required=True, metavar="YAML", help="endpoints, cache and labelling rules")
    finalize.add_arguments(parser)


def config_from_args(args: argparse.Namespace, overrides: dict | None = None) -> LabelRun:
    """The run `codepref label` was asked for, every flag and input checked.

    `overrides` replace fields of the LLM config (`codepref batch export`: `mode: export`).

    Raises:
        UsageError: a bad value, config or input; the message names the flag.
    """
    mine_cfg = mine.mine_config_from_args(args)
    label_cfg = flags.load_label_config(args.llm_config, overrides)
    code_cfg = flags.code_config_from_args(args, function_level=not args.whole_file, llm_bugs=args.llm_bugs)
    final_cfg = flags.final_config_from_args(args)
    inputs = {"--repo": args.repo, "--commits-file": args.commit_files, "--instructions": args.instructions}
    runs.check_inputs(inputs, repos={"--repo"})
    return LabelRun(
        repos=tuple(os.path.abspath(r) for r in args.repo),
        commit_files=tuple(args.commit_files),
        instructions=flags.instruction_source_from_args(args),
        mine=mine_cfg,
        llm=label_cfg,
        code=code_cfg,
        filters=final_cfg,
    )


def run(cfg: LabelRun, out: str, beam_args: list[str]) -> dict:
    """Runs `codepref label` (or `mutate`) into `out` and returns the manifest.

    Raises:
        UsageError: the runner or `out` cannot be used.
        schemas.errors.EndpointError: an endpoint refused the run (401, 403, 404); Beam may wrap it.
        schemas.errors.LLMErrorShareError: too many `llm_error` rejects; the manifest is written.
    """
    manifest = runs.run_beam(out, beam_args, lambda p, out: build(p, cfg, out))
    check_llm_error_share(manifest, cfg.llm.max_llm_error_share)
    return manifest
