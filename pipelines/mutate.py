"""`codepref mutate`: Functional Correctness pairs from an instruction dataset only.

DAG: instruction files → ReadInstructionSets → MutatePairs (AST, default) or
BugTask (`--llm`, through the LLM layer) → FilterSyntax → the final stages
(`pipelines.finalize`: filters, dedup, decontamination, split) → pairs in the
preference schema under `data/`, rejects per stage, manifest.
"""

__all__ = ["add_arguments", "config_from_args", "run"]

import argparse

from pipelines import finalize, flags, label, runs
from schemas.config import PERMISSIVE_LICENSES, MineConfig
from schemas.errors import UsageError
from schemas.labels import normalize_language
from schemas.runs import LabelRun


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref mutate` arguments."""
    flags.add_instruction_arguments(parser, flag="--input")
    runs.add_output_arguments(parser)
    parser.add_argument("--language", help="the language of every row (overrides the language column)")
    parser.add_argument("--operators", metavar="OP,OP", help="AST mutation operators (default: all nine)")
    parser.add_argument("--llm", action="store_true", help="plant bugs with the LLM of --llm-config instead")
    parser.add_argument("--llm-config", metavar="YAML", help="endpoints and cache (needed with --llm)")
    parser.add_argument("--allow-syntax-errors", action="store_true", help="keep chosen code with syntax errors")
    parser.add_argument("--min-depth", type=int, default=3, help="least syntax-tree depth, root = 1 (default 3)")
    finalize.add_arguments(parser)


def config_from_args(args: argparse.Namespace) -> LabelRun:
    """The run `codepref mutate` was asked for: `codepref label`'s, with instruction sets only.

    Raises:
        UsageError: a bad value, config or input; the message names the flag.
    """
    if args.llm and not args.llm_config:
        raise UsageError("--llm needs --llm-config YAML (the endpoint that plants the bugs)")
    language = normalize_language(args.language) if args.language else None
    if args.language and language is None:
        raise UsageError(f"--language {args.language}: not one of C, C#, C++, Go, Java, JavaScript, Python, Ruby")
    code_cfg = flags.code_config_from_args(args, function_level=False, llm_bugs=args.llm)
    label_cfg = flags.load_label_config(args.llm_config) if args.llm_config else label.NO_LLM
    final_cfg = flags.final_config_from_args(args)
    runs.check_inputs({"--input": args.instructions})
    return LabelRun(
        instructions=flags.instruction_source_from_args(args, language),
        mine=MineConfig(licenses=PERMISSIVE_LICENSES, target_shard_bytes=args.target_shard_mb * 1024 * 1024),
        llm=label_cfg,
        code=code_cfg,
        filters=final_cfg,
    )


run = label.run
"""`codepref mutate` runs its `LabelRun` as `codepref label` does (`pipelines.label.run`)."""
