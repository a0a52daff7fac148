"""The flags several pipeline commands share, and the configs they are read into.

`codepref label` and `batch export` (mining, code, instruction sets, LLM config,
`--filters`), `codepref mutate` (code, instruction sets as `--input`, LLM config,
`--filters`), `codepref filter` (`--filters`) and `codepref build` (the same checks
of its `filters:`). Every error is a `UsageError` that names the flag (or the
config key the caller passes as `where`).
"""

__all__ = [
    "add_code_arguments",
    "add_instruction_arguments",
    "check_final_config",
    "code_config_from_args",
    "final_config_from_args",
    "instruction_source_from_args",
    "load_label_config",
]

import argparse
import math
import os

import pydantic

from schemas.build import InstructionSource
from schemas.config import CodeConfig, ExecutionConfig, config_problems
from schemas.config_files import field_errors, read_yaml
from schemas.errors import UsageError
from schemas.final import FinalConfig, load_final_config
from schemas.labels import MUTATION_OPERATORS
from schemas.llm import LabelConfig
from transforms.sources.commit_files import match_files


def load_label_config(path: str, overrides: dict | None = None) -> LabelConfig:
    """Reads and validates an LLM config YAML file.

    Raises:
        UsageError: the file is missing, not YAML, or a field is wrong (named).
    """
    try:
        data = read_yaml(path, "--llm-config")
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    data.update(overrides or {})
    try:
        return LabelConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        raise UsageError(f"--llm-config {path}: {field_errors(exc)}") from exc


def add_code_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the options of the tree-sitter stages."""
    parser.add_argument("--whole-file", action="store_true", help="whole-file pairs, not one per changed function")
    parser.add_argument("--allow-syntax-errors", action="store_true", help="keep chosen code with syntax errors")
    parser.add_argument("--min-depth", type=int, default=3, help="least syntax-tree depth, root = 1 (default 3)")
    parser.add_argument("--operators", metavar="OP,OP", help="AST mutation operators (default: all nine)")
    parser.add_argument("--llm-bugs", action="store_true", help="plant bugs with the LLM instead of AST mutations")


def add_instruction_arguments(parser: argparse.ArgumentParser, flag: str = "--instructions") -> None:
    """Adds the instruction-dataset options."""
    parser.add_argument(
        flag,
        dest="instructions",
        action="append",
        default=[],
        metavar="GLOB",
        help="instruction datasets (JSONL/Parquet) for bugged-instruct pairs; repeatable",
    )
    parser.add_argument("--instruction-column", default="instruction", help="column of the instruction")
    parser.add_argument("--solution-column", default="solution", help="column of the reference solution")
    parser.add_argument(
        "--language-column", default="language", help="column of the language ('' if none: code fence tag, or detected)"
    )
    parser.add_argument(
        "--test-column",
        metavar="NAME",
        help="column of each solution's tests: keep a planted bug only if it breaks them (see README)",
    )
    parser.add_argument(
        "--entry-point-column", metavar="NAME", help="column naming the function the tests' check(candidate) is given"
    )
    parser.add_argument(
        "--max-attempts", type=int, default=8, help="mutants tried per solution before `equivalent_mutant` (default 8)"
    )
    parser.add_argument(
        "--test-timeout", type=float, default=10.0, metavar="S", help="wall-clock seconds per test run (default 10)"
    )


_CODE_FLAGS = {"operators": "--operators", "min_depth": "--min-depth"}
"""The flag of each `CodeConfig` field a message may name."""


def code_config_from_args(args: argparse.Namespace, *, function_level: bool, llm_bugs: bool) -> CodeConfig:
    """Builds the `CodeConfig` from parsed arguments (`CodeConfig` checks the operator names).

    Raises:
        UsageError: an unknown operator or a bad value; the message names the flag.
    """
    operators = tuple(o.strip() for o in args.operators.split(",")) if args.operators else MUTATION_OPERATORS
    try:
        return CodeConfig(
            function_level=function_level,
            allow_syntax_errors=args.allow_syntax_errors,
            min_depth=args.min_depth,
            operators=operators,
            llm_bugs=llm_bugs,
        )
    except pydantic.ValidationError as exc:
        raise UsageError(config_problems(exc, _CODE_FLAGS)) from exc


def final_config_from_args(args: argparse.Namespace) -> FinalConfig:
    """Loads `--filters` and checks its file patterns.

    Raises:
        UsageError: the file is missing or wrong, or a pattern matches no file.
    """
    try:
        cfg = load_final_config(args.filters)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    check_final_config(cfg, f"--filters {args.filters}: ")
    return cfg


def check_final_config(cfg: FinalConfig, where: str) -> None:
    """Checks that the final stages' file patterns match and the tokenizer exists.

    Raises:
        UsageError: one does not; the message starts with `where` and names the field.
    """
    for what, patterns in (
        ("decontamination.benchmarks", cfg.decontamination.benchmarks),
        ("previous_release", cfg.previous_release),
    ):
        for pattern in patterns:
            if not match_files(pattern):
                raise UsageError(f"{where}{what} {pattern} matched no file")
    if cfg.length.tokenizer and not os.path.exists(cfg.length.tokenizer):
        raise UsageError(
            f"{where}length.tokenizer {cfg.length.tokenizer}: no such file or folder; give a "
            "local tokenizer.json or a tokenizer folder"
        )


_EXECUTION_FLAGS = {
    "entry_point_column": "--entry-point-column",
    "max_attempts": "--max-attempts",
    "timeout_s": "--test-timeout",
    "cpu_s": "--test-timeout",
}
"""The flag of each `InstructionSource` and `ExecutionConfig` field a message may name."""


def instruction_source_from_args(args: argparse.Namespace, language: str | None = None) -> InstructionSource | None:
    """The instruction set of `--instructions` (mutate: `--input`) and its column and test flags; None if none.

    Raises:
        UsageError: a bad test flag (`--entry-point-column` without `--test-column`, a bad
            `--max-attempts` or `--test-timeout`); the message names the flag.
    """
    if not args.instructions:
        if args.test_column or args.entry_point_column:
            raise UsageError("--test-column and --entry-point-column need an instruction set (--instructions)")
        return None
    try:
        execution = ExecutionConfig(
            max_attempts=args.max_attempts, timeout_s=args.test_timeout, cpu_s=max(1, math.ceil(args.test_timeout))
        )
        return InstructionSource(
            files=tuple(args.instructions),
            instruction_column=args.instruction_column,
            solution_column=args.solution_column,
            language_column=args.language_column or None,
            language=language,
            test_column=args.test_column or None,
            entry_point_column=args.entry_point_column or None,
            execution=execution,
        )
    except pydantic.ValidationError as exc:
        raise UsageError(config_problems(exc, _EXECUTION_FLAGS)) from exc
