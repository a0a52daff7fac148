"""The `codepref` command line: one subcommand per pipeline.

Arguments a subcommand does not know go to Beam (`--runner`, `--direct_num_workers`,
`--direct_running_mode`, Dataflow options).
"""

__all__ = ["main"]

import argparse
import logging
import sys


class _QuietBeamImport(logging.Filter):
    """Hides Beam's import-time note about missing GCP client libraries."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
for _handler in logging.getLogger().handlers:
    _handler.addFilter(_QuietBeamImport())

from pipelines import demo, mine  # noqa: E402 - after the log filter


def _mine(args: argparse.Namespace, beam_args: list[str]) -> int:
    manifest = mine.run(args, beam_args)
    print("codepref mine: done", file=sys.stderr)
    mine.print_funnel(manifest)
    print(args.out)
    return 0


def _demo(args: argparse.Namespace, beam_args: list[str]) -> int:
    return demo.run(args, beam_args)


def build_parser() -> argparse.ArgumentParser:
    """Returns the top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="codepref",
        description="Build code preference data: mine, label, filter and publish pairs.",
        epilog="Arguments a subcommand does not know are passed to Apache Beam (e.g. --runner DataflowRunner).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    mine_parser = sub.add_parser(
        "mine",
        help="mine single-file commits from git repositories or commit files",
        description="Mine single-file commits from git repositories and JSONL/Parquet commit files "
        "into DIR/data/train-*.parquet, with rejects under DIR/rejects/ and DIR/manifest.json. "
        "Unknown arguments go to Beam (--runner, --direct_num_workers, --direct_running_mode).",
    )
    mine.add_arguments(mine_parser)
    mine_parser.set_defaults(func=_mine)
    demo_parser = sub.add_parser(
        "demo",
        help="run the pipeline on the embedded sample into out/demo",
        description="Build the embedded sample repository and run the pipeline on it.",
    )
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `codepref` console script."""
    parser = build_parser()
    args, beam_args = parser.parse_known_args(argv)
    try:
        return args.func(args, beam_args)
    except mine.UsageError as exc:
        parser.exit(2, f"codepref {args.command}: error: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
