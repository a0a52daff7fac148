"""`codepref build`: one release from one config file (`schemas.build`), in one Beam DAG.

DAG: git repositories and commit files → mined, rated, instructed, judged
(`pipelines.label.labelled_pairs`); instruction sets → bugged-instruct pairs;
external preference datasets → `ReadPreferenceSource` (efficiency-paired where
they hold measurements) → the final stages (`pipelines.finalize`: length,
language, secrets, dedup, decontamination, then `mix` caps and targets, split)
→ the `system` column (paper-facts §1.4, drawn from a hash of the pair id) →
`OUT/data/{split}-*.parquet`, `OUT/rejects/`, and `OUT/manifest.json` with the
funnel, the config and its id, the LLM calls and the realised composition
(split × source × criterion × language).

The same command runs locally or on Dataflow: Beam options after the config
(`--runner DataflowRunner --project P --region R --temp_location gs://B/tmp
--setup_file ./setup.py`) go to Beam; every path may be `gs://`.
"""

__all__ = ["add_arguments", "build", "build_config_id", "config_from_args", "load_config", "print_config", "run"]

import argparse
import functools
import sys

import apache_beam as beam
import yaml

from pipelines import flags, label, runs
from schemas.build import BuildConfig, PreferenceSource, SystemConfig, load_build_config
from schemas.config import config_id
from schemas.errors import UsageError
from schemas.principles import Principles, load_principles
from schemas.records import PairRecord
from transforms.llm.errors import check_llm_error_share
from transforms.sources.commit_files import match_files
from transforms.sources.preference import ReadPreferenceSource, resolve_preset
from transforms.system_prompt import PromptMix, assign_system_prompt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref build` arguments."""
    parser.add_argument("--config", required=True, metavar="YAML", help="the build config (see schemas/build.py)")
    parser.add_argument("--out", metavar="DIR", help="output folder: data/, rejects/, manifest.json")
    parser.add_argument(
        "--principles",
        metavar="YAML",
        help="the system prompts' principle texts (schemas/principles.py); overrides system.principles",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved config (presets filled in) and its id; run nothing",
    )


def build_config_id(cfg: BuildConfig) -> str:
    """A short id over what decides the rows: not endpoint addresses, limits, the cache or batching."""
    data = cfg.model_dump(mode="json")  # mine and code: the fields the file sets (`schemas.build.BuildConfig`)
    data["llm"] = label.llm_identity(cfg.llm) if cfg.llm is not None else None
    return config_id(data)


def _with_system(pair: PairRecord, mix: PromptMix, seed: int, principles: Principles | None) -> PairRecord:
    return pair._replace(system=assign_system_prompt(pair.idx, pair.aspect, mix, seed, principles))


def build(p: beam.Pipeline, cfg: BuildConfig, out: str, preference: list[PreferenceSource]) -> None:
    """Wires the whole release into `p`; `preference` holds the preference sources, presets resolved."""
    sources, code_cfg, mine_cfg = cfg.sources, cfg.code, cfg.mine
    label_cfg = cfg.llm or label.NO_LLM  # no LLM stage runs without one (validated)
    columns = patterns = None
    if sources.instructions is not None:
        columns, patterns = label.instruction_columns(sources.instructions), list(sources.instructions.files)
    labelled = label.labelled_pairs(
        p,
        mine_cfg,
        label_cfg,
        repos=list(sources.repos),
        commit_patterns=list(sources.commit_files),
        code_cfg=code_cfg,
        instruction_patterns=patterns,
        columns=columns,
        execution=label.execution_config(sources.instructions),
    )
    read = [p | f"Preference{i}_{source.name}" >> ReadPreferenceSource(source) for i, source in enumerate(preference)]
    external = [label.Labelled((pref.main,), pref.reports, {}, ()) for pref in read]
    everything = label.Labelled.joined([labelled, *external])
    system = None
    if cfg.system.enabled:
        mix = PromptMix(cfg.system.none, cfg.system.single, cfg.system.all)
        system = functools.partial(_with_system, mix=mix, seed=cfg.system.seed, principles=cfg.system.principles)
    spec = label.pair_run_spec(out, build_config_id(cfg), runs.config_json(cfg), mine_cfg.target_shard_bytes)
    llm_stats = labelled.llm_stats if labelled.llm_stats else None
    label.write_pairs(p, everything, spec, cfg.filters, llm_stats=llm_stats, mix=cfg.mix, system=system)
    if cfg.llm is not None and cfg.llm.mode == "export":
        label.write_batch_requests(labelled.exports, out)


def load_config(path: str) -> BuildConfig:
    """Reads a build config and checks that every input it names exists.

    The mine and code settings were checked as the config was read (`schemas.build.BuildConfig`).

    Raises:
        UsageError: a bad config, a missing input, an unknown preset or a bad licence; the message
            names the file and the key.
    """
    try:
        cfg = load_build_config(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    for repo in cfg.sources.repos:
        runs.check_repository(repo, f"--config {path}: sources.repos")
    flags.check_final_config(cfg.filters, f"--config {path}: filters.")
    globs = [("sources.commit_files", g) for g in cfg.sources.commit_files]
    if cfg.sources.instructions is not None:
        globs += [("sources.instructions.files", g) for g in cfg.sources.instructions.files]
    for source in cfg.sources.preference:
        globs += [(f"sources.preference.{source.name}.files", g) for g in source.files]
    for where, pattern in globs:
        if not match_files(pattern):
            raise UsageError(f"--config {path}: {where} {pattern} matched no file")
    try:
        preference_sources(cfg)
    except UsageError as exc:
        raise UsageError(f"--config {path}: {exc}") from exc
    return cfg


def preference_sources(cfg: BuildConfig) -> list[PreferenceSource]:
    """The config's preference sources, presets resolved.

    Raises:
        UsageError: an unknown preset or a bad licence.
    """
    try:
        return [resolve_preset(source) for source in cfg.sources.preference]
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def print_config(cfg: BuildConfig) -> None:
    """Prints the config, presets filled in, and its id (`--print-config`)."""
    resolved = cfg.model_dump(mode="json")
    resolved["sources"]["preference"] = [s.model_dump(mode="json") for s in preference_sources(cfg)]
    yaml.safe_dump(resolved, sys.stdout, sort_keys=False, allow_unicode=True)
    print(f"# config id: {build_config_id(cfg)}")


def config_from_args(args: argparse.Namespace) -> BuildConfig:
    """The release `codepref build` was asked for (`load_config` of `--config`, then `--principles`).

    Raises:
        UsageError: a bad config or input, or no `--out` (and no `--print-config`).
    """
    cfg = load_config(args.config)
    if not args.out and not args.print_config:
        raise UsageError("--out DIR is needed (or --print-config)")
    if args.principles:
        try:
            texts = load_principles(args.principles)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        system = cfg.system.model_dump() | {"principles": texts}
        cfg = cfg.model_copy(update={"system": SystemConfig.model_validate(system)})
    return cfg


def run(cfg: BuildConfig, out: str, beam_args: list[str]) -> dict:
    """Runs `codepref build` into `out` and returns the manifest.

    Raises:
        UsageError: the runner or `out` cannot be used.
        schemas.errors.EndpointError: an endpoint refused the run (401, 403, 404); Beam may wrap it.
        schemas.errors.LLMErrorShareError: too many `llm_error` rejects; the manifest is written.
    """
    preference = preference_sources(cfg)
    manifest = runs.run_beam(out, beam_args, lambda p, out: build(p, cfg, out, preference))
    if cfg.llm is not None:
        check_llm_error_share(manifest, cfg.llm.max_llm_error_share)
    return manifest
