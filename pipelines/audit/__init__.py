"""`codepref audit`: a person checks a sample of a release's labels.

    codepref audit sample OUT --n 100 --stratify aspect,language --seed 0
    codepref audit serve OUT            # prints the URL; a, d, u, n, j/k in the page
    codepref audit report OUT --png agreement.png

`sample` draws a stratified, seeded sample of `OUT/data/*.parquet` into
`OUT/audit/` (`audit.jsonl` and `verdicts.sqlite`); `serve` shows one pair at a
time on a loopback-only page and stores each verdict as it is given, so a session
resumes where it stopped; `report` gives agreement per criterion × language with
Wilson 95% intervals. Modules: `sample`, `store`, `page` (+ `assets`), `server`,
`report`, `records`.

Importing this package is cheap: no Beam, and pygments, matplotlib and pyarrow
are imported by the handlers that need them.
"""

__all__ = ["add_subcommands"]

import argparse
import sys
from collections.abc import Callable

from pipelines import runs
from pipelines.audit.records import resolve_audit_dir


_DESCRIPTION = """\
A person checks a sample of a release's labels:

    codepref audit sample OUT --n 100 --stratify aspect,language --seed 0
    codepref audit serve OUT        # open the printed URL; keys a, d, u, n, j/k
    codepref audit report OUT       # agreement table and OUT/audit/agreement.png

sample writes OUT/audit/audit.jsonl and OUT/audit/verdicts.sqlite; serve and
report take the audit folder or the release folder."""

Handler = Callable[[argparse.Namespace, list[str]], int]


def _guarded(name: str, run: Callable[[argparse.Namespace], int]) -> Handler:
    """A handler that refuses leftover arguments; `pipelines.cli.main` reports its `AuditError` (exit status 2)."""

    def handle(args: argparse.Namespace, extra: list[str]) -> int:
        if extra:
            print(f"codepref audit {name}: error: unrecognized arguments: {' '.join(extra)}", file=sys.stderr)
            return 2
        args.command = f"audit {name}"  # an error reads `codepref audit NAME: error: ...`
        return run(args)

    return handle


def _sample(args: argparse.Namespace) -> int:
    from pipelines.audit.sample import sample

    stratify = tuple(c.strip() for c in args.stratify.split(",") if c.strip())
    audit = sample(args.out, args.n, stratify=stratify, seed=args.seed, audit_dir=args.audit_dir)
    drawn = sum(1 for s in audit.strata if s.sampled)
    print(
        f"codepref audit sample: {len(audit.pairs)} of {audit.total_rows} pairs from {drawn} of "
        f"{len(audit.strata)} strata ({', '.join(audit.stratify) or 'unstratified'}, seed {audit.seed}); "
        "next: codepref audit serve",
        file=sys.stderr,
    )
    print(audit.audit_dir)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from pipelines.audit.server import serve

    def ready(url: str) -> None:
        print(f"codepref audit serve: open {url} (Ctrl-C stops; verdicts are saved as you go)", file=sys.stderr)
        print(url, flush=True)

    serve(
        resolve_audit_dir(args.audit_dir),
        host=args.host,
        port=args.port,
        on_ready=ready,
        read_timeout=args.read_timeout,
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from pipelines.audit.report import report

    result = report(resolve_audit_dir(args.audit_dir), png=None if args.no_png else (args.png or ""))
    print(result.text)
    if result.png:
        print(f"codepref audit report: plot written to {result.png}", file=sys.stderr)
    return 0


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Adds `codepref audit sample|serve|report` to the `codepref` subcommands.

    Each subparser sets `func(args, extra)`, as `pipelines.cli` expects; leftover
    `extra` arguments are an error (the audit tools take no Beam options).

    Args:
        sub: The object returned by `ArgumentParser.add_subparsers()`.
    """
    from pipelines.audit.server import DEFAULT_READ_TIMEOUT_S

    summary = "a person checks a sample of a release's labels in the browser"
    steps = runs.add_command_group(sub, "audit", summary, _DESCRIPTION, "audit_command")
    p = steps.add_parser(
        "sample",
        help="draw a stratified, seeded audit sample of a release",
        description="Draw N pairs from OUT/data/*.parquet, allocated across the strata in proportion to their size "
        "with at least one per non-empty stratum when N allows, each stratum's pairs chosen by a seeded hash of "
        "their idx (the same release and seed always give the same sample). Writes AUDIT_DIR/audit.jsonl and "
        "creates AUDIT_DIR/verdicts.sqlite; existing verdicts are kept. Prints AUDIT_DIR.",
    )
    p.add_argument("out", metavar="OUT", help="a `codepref build` output folder (with data/*.parquet)")
    p.add_argument("--n", type=int, default=100, help="how many pairs to draw (default: %(default)s)")
    p.add_argument(
        "--stratify",
        default="aspect,language",
        metavar="COLS",
        help="comma-separated columns whose combinations form the strata: pair columns (aspect, "
        "language, source, ...) or split; '' for none (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="changes which pairs are drawn (default: %(default)s)")
    p.add_argument("--audit-dir", metavar="DIR", help="where to write (default: OUT/audit)")
    p.set_defaults(func=_guarded("sample", _sample))
    readers = {
        "serve": (
            _serve,
            "review the sample in the browser, one pair at a time",
            "Serve the audit page on 127.0.0.1 (loopback only) and print its URL; serves until Ctrl-C. "
            "Keys: a agree, d disagree, u unsure (each saves and moves on), n note (Enter saves), j/k or the "
            "arrow keys next/previous. Every verdict is saved at once; the page opens at the first pair "
            "without one.",
        ),
        "report": (
            _report,
            "agreement with the labels per criterion × language, with Wilson 95%% intervals",
            "Print agree / (agree + disagree) per criterion × language, per criterion, per language and "
            "overall, with Wilson 95% confidence intervals (unsure and pending counted apart), and plot the "
            "rates with their intervals to a PNG.",
        ),
    }
    for name, (func, help_text, description) in readers.items():
        p = steps.add_parser(name, help=help_text, description=description)
        p.add_argument(
            "audit_dir",
            nargs="?",
            default=".",
            metavar="AUDIT_DIR | OUT",
            help="the audit folder, or the release folder whose audit/ to use (default: .)",
        )
        p.set_defaults(func=_guarded(name, func))
        if name == "serve":
            p.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
            p.add_argument("--host", default="127.0.0.1", help="a loopback address: 127.0.0.1, ::1 or localhost")
            p.add_argument(
                "--read-timeout",
                type=float,
                default=DEFAULT_READ_TIMEOUT_S,
                metavar="SECONDS",
                help="cut off a client that sends nothing for this long (default: %(default)s)",
            )
        else:
            p.add_argument("--png", metavar="PATH", help="where to write the plot (default: AUDIT_DIR/agreement.png)")
            p.add_argument("--no-png", action="store_true", help="print the table only")
