"""`codepref batch`: label through the OpenAI Batch API instead of live requests.

    codepref batch export  --repo ... --llm-config llm.yaml --out DIR   # requests not in the cache → DIR/batch/
    codepref batch submit  --llm-config llm.yaml --requests DIR/batch --state batch-state.json
    codepref batch status  --llm-config llm.yaml --state batch-state.json
    codepref batch collect --llm-config llm.yaml --state batch-state.json   # answers → the cache

Requests carry their cache keys as `custom_id`, so after `collect` a normal
`codepref label` run is served from the cache. Stages depend on earlier answers
(the judge needs the instruction), so a full labelling takes one export → collect
round per LLM stage; each export only holds what is still missing.
"""

__all__ = ["add_subcommands"]

import argparse
import glob
import json
import os
import sys

from pipelines import flags, label, runs
from schemas.errors import UsageError


def _endpoint(args: argparse.Namespace):  # noqa: ANN202 - EndpointConfig
    cfg = flags.load_label_config(args.llm_config)
    try:
        return cfg, cfg.endpoint(args.endpoint)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _export(args: argparse.Namespace, beam_args: list[str]) -> int:
    cfg = label.config_from_args(args, overrides={"mode": "export"})
    manifest = label.run(cfg, args.out, beam_args)
    files = sorted(glob.glob(os.path.join(runs.resolve_output(args.out), "batch", "requests-*.jsonl")))
    runs.print_funnel(manifest)
    print(f"codepref batch export: {len(files)} request file(s); next: codepref batch submit", file=sys.stderr)
    for path in files:
        print(path)
    return 0


def _submit(args: argparse.Namespace, _: list[str]) -> int:
    from transforms.llm.batch_api import submit

    _, endpoint = _endpoint(args)
    paths = sorted(glob.glob(os.path.join(args.requests, "requests-*.jsonl")))
    if not paths:
        raise UsageError(f"--requests {args.requests}: no requests-*.jsonl files; run `codepref batch export`")
    print(json.dumps(submit(paths, endpoint, args.state), indent=2))
    return 0


def _status(args: argparse.Namespace, _: list[str]) -> int:
    from transforms.llm.batch_api import status

    _, endpoint = _endpoint(args)
    print(json.dumps(status(args.state, endpoint), indent=2))
    return 0


def _collect(args: argparse.Namespace, _: list[str]) -> int:
    from transforms.llm.batch_api import collect
    from transforms.llm.cache import open_cache

    cfg, endpoint = _endpoint(args)
    cache = open_cache(cfg.cache)
    try:
        print(json.dumps(collect(args.state, endpoint, cache), indent=2))
    finally:
        cache.close()
    return 0


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Adds `codepref batch export|submit|status|collect`."""
    steps = runs.add_command_group(sub, "batch", "label through the OpenAI Batch API", __doc__, "batch_command")
    p = steps.add_parser(
        "export",
        help="write the requests missing from the cache as Batch API files",
        description="Run `codepref label` without sending anything: requests not in the cache "
        "go to DIR/batch/requests-*.jsonl (≤ 50,000 requests and ≤ 200 MB a file).",
    )
    label.add_arguments(p)
    p.set_defaults(func=_export)
    for name, func, text in (
        ("submit", _submit, "upload request files and create one batch per file"),
        ("status", _status, "show each batch's status and request counts"),
        ("collect", _collect, "import finished batches' answers into the cache"),
    ):
        p = steps.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("--llm-config", required=True, metavar="YAML", help="endpoints and cache")
        p.add_argument("--endpoint", metavar="NAME", help="the endpoint to use (default: the first)")
        p.add_argument("--state", required=True, metavar="JSON", help="the batch state file (created by submit)")
        if name == "submit":
            p.add_argument("--requests", required=True, metavar="DIR", help="folder of requests-*.jsonl files")
        p.set_defaults(func=func)
