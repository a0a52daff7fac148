"""`train` and `eval` subcommands for the top-level `codepref` CLI.

Wire them into any argparse CLI:

    subparsers = parser.add_subparsers(dest="command", required=True)
    trainer.cli.add_subcommands(subparsers)
    args, extra = parser.parse_known_args(argv)
    return args.func(args, extra)

Each subparser sets `func(args, extra)`, matching `pipelines.cli`; the handlers
reject any leftover `extra` arguments, so a mistyped flag is an error.

Importing this module is cheap: torch and transformers are imported inside the
handlers. Multi-GPU runs go through `accelerate launch`, which needs a module:
`accelerate launch --config_file trainer/configs/fsdp.yaml -m trainer.train ...`
(or `-m trainer.cli train ...`).
"""

__all__ = ["add_subcommands", "main", "run_eval", "run_train"]

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

from schemas.errors import UsageError
from trainer.bench_inputs import add_bench_arguments, bench_options_from_args
from trainer.config import (
    HelpFormatter,
    add_eval_arguments,
    add_train_arguments,
    eval_config_from_args,
    train_config_from_args,
)


_TRAIN_EPILOG = """\
examples:
  codepref train --data out/run1 --model /models/qwen3-0.6b --output runs/rm1
  codepref train --data 'out/run1/data/train-*.parquet' --model M --output R --lambda-lm 0
  codepref train --data out/run1 --model M --output runs/rm1 --resume
  accelerate launch --config_file trainer/configs/fsdp.yaml -m trainer.train \\
      --data out/run1 --model M --output runs/rm1

The exported reward model is written to OUTPUT/model (AutoModelForSequenceClassification,
num_labels=1, safetensors, with tokenizer and chat template); checkpoints go to
OUTPUT/checkpoints/step-NNNNNNN and the metrics log to OUTPUT/train_log.jsonl.
"""

_EVAL_EPILOG = """\
examples:
  codepref eval --model runs/rm1/model --bench crb.parquet --output runs/rm1/eval-aspect
  codepref eval --model runs/rm1/model --bench crb.jsonl --output E --prompt-mode none
  codepref eval --model M --bench 'crb/Full/*.parquet' --output E
  codepref eval --model M --bench /data/Themis-CodeRewardBench --config Stratified_Language \\
      --split Python --output E --results-format themis
  codepref eval --model M --bench project-themis/Themis-CodeRewardBench --output E   # needs the Hub

--bench is a Parquet/JSONL file, a glob, a folder in CRB's Hub layout (Full/,
Stratified_Aspect/, Stratified_Language/; --config picks one, default Full) or a
Hub dataset id (read with `datasets`; offline, pass a local copy).

Writes OUTPUT/results.json (accuracy with ties counted wrong, score_diff stats,
by_aspect / by_language / by_subset; --results-format themis nests them as
Themis's evaluator does) and OUTPUT/scores.parquet (one row per pair).
"""


def _reject_extra(command: str, extra: Sequence[str]) -> None:
    if extra:
        raise SystemExit(f"codepref {command}: error: unrecognized arguments: {' '.join(extra)}")


def _config(from_args: Callable[[argparse.Namespace], Any], args: argparse.Namespace) -> Any:
    """The command's config; a bad value (a range, a `--principles` file) is a `UsageError` that names it."""
    try:
        return from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def run_train(args: argparse.Namespace, extra: Sequence[str] = ()) -> int:
    """Handler of `train`: builds the config and runs training.

    Args:
        args: Parsed `train` flags.
        extra: Arguments the parser did not recognise (an error if any).

    Returns:
        Process exit code (0).
    """
    _reject_extra("train", extra)
    from trainer.train import train

    summary = train(_config(train_config_from_args, args))
    print(json.dumps({k: summary[k] for k in ("step", "tokens", "model_dir")}))
    return 0


def run_eval(args: argparse.Namespace, extra: Sequence[str] = ()) -> int:
    """Handler of `eval`: scores the benchmark and writes the result files.

    Args:
        args: Parsed `eval` flags.
        extra: Arguments the parser did not recognise (an error if any).

    Returns:
        Process exit code (0).
    """
    _reject_extra("eval", extra)
    from trainer.evaluate import evaluate, headline

    results = evaluate(_config(eval_config_from_args, args), **bench_options_from_args(args))
    print(json.dumps(headline(results)))
    return 0


def add_subcommands(subparsers: Any) -> None:
    """Registers `train` and `eval` on an argparse subparsers object.

    Each subparser sets `func`, called as `args.func(args, extra)` with the
    arguments left over by `parse_known_args` (which must be empty).

    Args:
        subparsers: The object returned by `ArgumentParser.add_subparsers()`.
    """
    formatter = HelpFormatter
    train = subparsers.add_parser(
        "train",
        help="train a Bradley-Terry reward model on preference shards",
        description=(
            "Train a Bradley-Terry code reward model (BT + lambda * LM + mu * magnitude) on "
            "codepref Parquet shards, with accelerate (CPU, one GPU or FSDP)."
        ),
        epilog=_TRAIN_EPILOG,
        formatter_class=formatter,
    )
    add_train_arguments(train)
    train.set_defaults(func=run_train)
    evaluate = subparsers.add_parser(
        "eval",
        help="pairwise accuracy of a reward model on CodeRewardBench (file, glob, folder or Hub id)",
        description=(
            "Score chosen and rejected responses with an exported reward model and report "
            "strict pairwise accuracy overall and by aspect, language and subset."
        ),
        epilog=_EVAL_EPILOG,
        formatter_class=formatter,
    )
    add_bench_arguments(add_eval_arguments(evaluate))
    evaluate.set_defaults(func=run_eval)


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point: `python -m trainer.cli {train,eval} ...`.

    Args:
        argv: Command-line arguments; `sys.argv[1:]` when None.

    Returns:
        The handler's exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m trainer.cli", description=__doc__.split("\n")[0])
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args, extra = parser.parse_known_args(argv)
    try:
        return args.func(args, extra)
    except UsageError as exc:
        parser.exit(2, f"{parser.prog} {args.command}: error: {exc}\n")


if __name__ == "__main__":
    raise SystemExit(main())
