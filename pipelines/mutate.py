"""`codepref mutate`: Functional Correctness pairs from an instruction dataset only.

DAG: instruction files → ReadInstructionSets → MutatePairs (AST, default) or
BugTask (`--llm`, through the LLM layer) → FilterSyntax → the final stages
(`pipelines.finalize`: filters, dedup, decontamination, split) → pairs in the
preference schema under `data/`, rejects per stage, manifest.
"""

__all__ = ["add_arguments", "run"]

import argparse
import dataclasses

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines import finalize, label, runs
from schemas.config import PERMISSIVE_LICENSES, MineConfig
from schemas.errors import UsageError
from schemas.labels import normalize_language
from transforms.llm.errors import check_llm_error_share


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref mutate` arguments."""
    label.add_instruction_arguments(parser, flag="--input")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder: data/, rejects/, manifest.json")
    parser.add_argument("--language", help="the language of every row (overrides the language column)")
    parser.add_argument("--operators", metavar="OP,OP", help="AST mutation operators (default: all nine)")
    parser.add_argument("--llm", action="store_true", help="plant bugs with the LLM of --llm-config instead")
    parser.add_argument("--llm-config", metavar="YAML", help="endpoints and cache (needed with --llm)")
    parser.add_argument("--allow-syntax-errors", action="store_true", help="keep chosen code with syntax errors")
    parser.add_argument("--min-depth", type=int, default=3, help="least syntax-tree depth, root = 1 (default 3)")
    parser.add_argument("--target-shard-mb", type=int, default=256, help="uncompressed MB per Parquet shard")
    finalize.add_arguments(parser)


def run(args: argparse.Namespace, beam_args: list[str]) -> dict:
    """Runs `codepref mutate` and returns the manifest.

    Raises:
        UsageError: bad arguments or inputs.
    """
    runs.check_runner(beam_args)

    if args.llm and not args.llm_config:
        raise UsageError("--llm needs --llm-config YAML (the endpoint that plants the bugs)")
    if args.language and normalize_language(args.language) is None:
        raise UsageError(f"--language {args.language}: not one of C, C#, C++, Go, Java, JavaScript, Python, Ruby")
    args.whole_file, args.llm_bugs = True, args.llm
    code_cfg = label.code_config_from_args(args)
    label_cfg = label.load_label_config(args.llm_config) if args.llm_config else label.NO_LLM
    final_cfg = label.final_config_from_args(args)
    columns = label.columns_from_args(args)
    if args.language:
        columns = dataclasses.replace(columns, language=None, fixed_language=normalize_language(args.language))
    runs.check_inputs({"--input": args.instructions})
    out = runs.resolve_output(args.out)
    runs.prepare_output(out)
    mine_cfg = MineConfig(licenses=PERMISSIVE_LICENSES, target_shard_bytes=args.target_shard_mb * 1024 * 1024)
    with beam.Pipeline(options=PipelineOptions(beam_args)) as p:
        label.build(p, mine_cfg, label_cfg, repos=[], commit_patterns=[], out=out, code_cfg=code_cfg,
                    instruction_patterns=args.instructions, columns=columns, final_cfg=final_cfg)  # fmt: skip
    manifest = runs.read_manifest(out)
    check_llm_error_share(manifest, label_cfg.max_llm_error_share)
    return manifest
