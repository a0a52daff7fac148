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

__all__ = ["add_arguments", "build", "load_label_config", "run"]

import argparse
import hashlib
import json
import os

import apache_beam as beam
import pydantic
import yaml
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines import mine
from schemas.arrow import pair_schema
from schemas.config import MineConfig
from schemas.llm import LabelConfig
from schemas.records import PairRecord
from transforms.commit_pairs import SAMPLE_STAGE, SamplePairs, pairs_from_commit
from transforms.llm.instruct import InstructTask
from transforms.llm.judge import JudgeTask
from transforms.llm.rate import RateTask
from transforms.llm.stage import RunLLMTask
from transforms.manifest import StageReport, WriteManifest
from transforms.sinks import WriteParquetShards


def load_label_config(path: str, overrides: dict | None = None) -> LabelConfig:
    """Reads and validates an LLM config YAML file.

    Raises:
        mine.UsageError: the file is missing, not YAML, or a field is wrong (named).
    """
    if not os.path.isfile(path):
        raise mine.UsageError(f"--llm-config {path}: no such file")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as exc:
        raise mine.UsageError(f"--llm-config {path}: not valid YAML ({exc})") from exc
    data.update(overrides or {})
    try:
        return LabelConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise mine.UsageError(f"--llm-config {path}: {fields}") from exc


def pair_key(row: dict) -> str:
    """The sharding and sort key of a pair row."""
    return row["idx"]


_RUNTIME_ONLY = ("cache", "mode", "batch_size")
_ENDPOINT_DATA = ("name", "model", "output_mode")


def label_config_id(mine_cfg: MineConfig, label_cfg: LabelConfig) -> str:
    """A short id over what decides the rows: not addresses, limits, cache or batching."""
    data = label_cfg.model_dump(mode="json", exclude=set(_RUNTIME_ONLY))
    data["endpoints"] = [{k: e[k] for k in _ENDPOINT_DATA} for e in data["endpoints"]]
    blob = json.dumps({"mine": mine_cfg.id, "label": data}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def build(
    p: beam.Pipeline,
    mine_cfg: MineConfig,
    label_cfg: LabelConfig,
    *,
    repos: list[str],
    commit_patterns: list[str],
    out: str,
) -> None:
    """Wires the labelling DAG into `p`."""
    config_id = label_config_id(mine_cfg, label_cfg)
    commits, reports = mine.mine_commits(p, mine_cfg, repos=repos, commit_patterns=commit_patterns)
    candidates = commits | "BuildCommitPairs" >> beam.FlatMap(pairs_from_commit)
    sampled = candidates | "SamplePairs" >> SamplePairs(label_cfg.sample_fraction)
    ones = candidates | "CountSampleInput" >> beam.Map(lambda _: 1)
    reports.append(StageReport(SAMPLE_STAGE, ones, sampled.kept, sampled.rejected))
    pairs = sampled.kept
    tasks = (
        ("RateCommits", RateTask(label_cfg.rater_endpoints(), label_cfg.rating, label_cfg.rating_max_tokens,
                                 label_cfg.max_prompt_chars, label_cfg.seed)),
        ("SynthesizeInstruction", InstructTask(label_cfg.endpoint(label_cfg.instruct), label_cfg.instruction_max_tokens,
                                               label_cfg.max_prompt_chars, label_cfg.seed)),
        ("JudgePairs", JudgeTask(label_cfg.endpoint(label_cfg.judge), label_cfg.judging, label_cfg.judge_max_tokens,
                                 label_cfg.max_prompt_chars, label_cfg.seed)),
    )  # fmt: skip
    llm_stats, exports = {}, []
    for label, task in tasks:
        done = pairs | label >> RunLLMTask(
            task, label_cfg.endpoints, label_cfg.cache, label_cfg.mode, label_cfg.batch_size
        )
        ones = pairs | f"Count{label}Input" >> beam.Map(lambda _: 1)
        reports.append(StageReport(task.stage, ones, done.main, done.rejected))
        llm_stats[task.stage] = done.stats
        exports.append(done.batch_requests)
        pairs = done.main
    data = (
        pairs
        | "WithConfigId" >> beam.Map(lambda pair: pair._replace(config_id=config_id))
        | "PairRows" >> beam.Map(PairRecord.to_row)
        | "WritePairs"
        >> WriteParquetShards(
            FileSystems.join(out, "data"), "train", pair_schema(), pair_key, mine_cfg.target_shard_bytes
        )
    )
    rejects = mine.write_rejects(reports, out, mine_cfg.target_shard_bytes)
    config = mine.config_json(mine_cfg, label_cfg)
    _ = p | "WriteManifest" >> WriteManifest(out, config_id, config, reports, {"train": data}, rejects, llm_stats)
    if label_cfg.mode == "export":
        _ = (
            exports
            | "AllBatchRequests" >> beam.Flatten()
            | "CollectBatchRequests" >> beam.combiners.ToList()
            | "WriteBatchRequests" >> beam.Map(_write_batch_requests, FileSystems.join(out, "batch"))
        )


def _write_batch_requests(items: list, directory: str) -> list[str]:
    from transforms.llm.batch_api import export_requests

    return export_requests(sorted(items, key=lambda kv: kv[0]), directory, presorted=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref label` arguments: the mining ones plus the LLM config."""
    mine.add_arguments(parser)
    parser.add_argument("--llm-config", required=True, metavar="YAML", help="endpoints, cache and labelling rules")


def run(args: argparse.Namespace, beam_args: list[str], overrides: dict | None = None) -> dict:
    """Runs `codepref label` and returns the manifest.

    Raises:
        mine.UsageError: bad arguments, inputs or config.
    """
    mine_cfg = mine.config_from_args(args)
    label_cfg = load_label_config(args.llm_config, overrides)
    mine.check_inputs(args.repo, args.commit_files)
    out = mine.resolve_output(args.out)
    mine.prepare_output(out)
    repos = [os.path.abspath(r) for r in args.repo]
    with beam.Pipeline(options=PipelineOptions(beam_args)) as p:
        build(p, mine_cfg, label_cfg, repos=repos, commit_patterns=args.commit_files, out=out)
    return mine.read_manifest(out)
