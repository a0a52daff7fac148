"""`codepref demo`: the embedded sample, built into a git repository and labelled.

`commits/NN_<language>_<criterion>/` each hold `before.<ext>`, `after.<ext>` and
`commit.json` (`path`, `message`, `criterion`): one focused commit per language
and criterion, written for codepref. The demo adds a few commits every real
history has (an initial import, a merge, a rename, a multi-file change, a README
edit, ...), so the funnel in the manifest shows each filter at work.

The demo starts the local llama.cpp server (`codepref llm serve`) and runs
`codepref build` on `build.yaml` into `out/demo/`: the sample repository
(function-level commit pairs, labelled with `llm.yaml`), `instructions.jsonl` (16
tasks with reference solutions, two per language, turned into bugged-instruct
pairs by AST mutation) and `secure_code_dpo.jsonl` (six pairs in the layout of an
external security preference dataset, capped at five by the mix), then the final
stages of `filters.yaml` (length, English prompt, secrets, exact and near dedup,
13-gram decontamination against `benchmark_prompts.jsonl`, a train/validation
split) and the `system` column. The resolved config and the LLM cache are kept in
`out/demo-input/`, so a second run sends no request. It ends by rendering the data
card (`out/demo/card/README.md`, with its plots) and printing how to audit the output.
"""

__all__ = ["add_arguments", "build_demo_repository", "load_samples", "run", "write_demo_config"]

import argparse
import importlib.resources
import json
import os
import shutil
import sys
from typing import NamedTuple

import yaml

from pipelines.git_history import GitHistory


DEFAULT_OUT = os.path.join("out", "demo")
REPO_NAME = "codepref/demo-samples"

_LICENSE = """MIT License

Copyright (c) 2026 codepref contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
"""


class Sample(NamedTuple):
    """One embedded commit."""

    name: str
    path: str
    message: str
    criterion: str
    before: str
    after: str


def load_samples() -> list[Sample]:
    """Reads the embedded samples, in folder order."""
    root = importlib.resources.files("pipelines").joinpath("demo", "commits")
    samples = []
    for folder in sorted(root.iterdir(), key=lambda f: f.name):
        if not folder.is_dir():
            continue
        meta = json.loads(folder.joinpath("commit.json").read_text("utf-8"))
        ext = os.path.splitext(meta["path"])[1]
        samples.append(
            Sample(
                name=folder.name,
                path=meta["path"],
                message=meta["message"],
                criterion=meta["criterion"],
                before=folder.joinpath(f"before{ext}").read_text("utf-8"),
                after=folder.joinpath(f"after{ext}").read_text("utf-8"),
            )
        )
    return samples


def build_demo_repository(path: str) -> str:
    """Writes the sample repository to `path` (replacing it) and returns `path`."""
    samples = load_samples()
    history = GitHistory()
    history.commit("Initial commit", {"LICENSE": _LICENSE, "README.md": "# Demo services\n"})
    for sample in samples:
        history.commit(f"Add {os.path.basename(sample.path)} module", {sample.path: sample.before})
    for sample in samples:
        history.commit(sample.message, {sample.path: sample.after})
    first, second = samples[0], samples[1]
    history.commit("Document how to run the services locally", {"README.md": "# Demo services\n\nRun `make`.\n"})
    history.commit(
        "Rename module to match the package layout", renames={first.path: first.path.replace("/", "/core_", 1)}
    )
    history.commit(
        "Refactor shared helpers across two modules",
        {second.path: second.after + "\n", "docs/NOTES.md": "Shared helpers moved.\n"},
    )
    side = history.commit("Add changelog entry for the release", {"CHANGELOG.md": "## 1.0\n"}, branch="notes", parent=1)
    history.commit("Merge branch 'notes' into main", merge=side)
    history.commit("update readme", {"README.md": "# Demo services\n\nRun `make` or `make test`.\n"})
    third = samples[3]
    history.commit("Update the copyright year in the file header", {third.path: "// (c) 2026\n" + third.after})
    history.commit(
        "Adjust greeting text shown in the banner", {samples[2].path: samples[2].after.replace("\n", "\n\n", 1)}
    )
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return history.write(path, origin=f"https://github.com/{REPO_NAME}.git")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref demo` arguments."""
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"output folder (default {DEFAULT_OUT})")


def write_demo_config(inputs: str, repo: str, base_url: str | None) -> str:
    """Writes the shipped `build.yaml`, resolved for this machine, to `inputs/build.yaml`; returns its path.

    The sample repository, the LLM server's address and the cache (kept in
    `inputs`, so a second run sends no request) are filled in; the shipped files
    are named by absolute path.

    With `base_url` None the LLM is off: the config keeps the shipped address but
    says `mode: export`, so nothing is sent. The repository is still mined into
    pairs; the requests no cached answer covers go to `OUT/batch/` and their pairs
    are rejected `awaiting_batch` at `rate_commits` (the first LLM stage), as in
    `codepref batch export`.
    """
    shipped = importlib.resources.files("pipelines").joinpath("demo")
    config = yaml.safe_load(shipped.joinpath("build.yaml").read_text("utf-8"))
    sources = config["sources"]
    sources["repos"] = [repo]
    sources["instructions"]["files"] = [str(shipped.joinpath(f)) for f in sources["instructions"]["files"]]
    for source in sources["preference"]:
        source["files"] = [str(shipped.joinpath(f)) for f in source["files"]]
    llm = yaml.safe_load(shipped.joinpath(config["llm"]).read_text("utf-8"))
    if base_url is None:
        llm["mode"] = "export"
    else:
        llm["endpoints"][0]["base_url"] = base_url
    llm["cache"] = os.path.join(inputs, "llm-cache.sqlite")
    config["llm"] = llm
    config["filters"] = str(shipped.joinpath(config["filters"]))
    path = os.path.join(inputs, "build.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("# Written by `codepref demo` from pipelines/demo/build.yaml.\n")
        yaml.safe_dump(config, f, sort_keys=False, allow_unicode=True)
    return path


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    """Builds the sample repository, starts the local LLM server and runs `codepref build` on the demo config."""
    from data_cards.card import render_card
    from pipelines import build, llm_server, runs

    out = os.path.abspath(args.out)
    inputs = os.path.join(os.path.dirname(out), "demo-input")
    repo = build_demo_repository(os.path.join(inputs, "demo-samples"))
    print(f"codepref demo: sample repository with {len(load_samples())} sample commits at {repo}", file=sys.stderr)
    print("codepref demo: starting the local LLM server (SmolLM2-135M, llama.cpp)", file=sys.stderr)
    server = llm_server.start_server(log=os.path.join(inputs, "llm-server.log"))
    try:
        config = write_demo_config(inputs, repo, server.base_url)
        manifest = build.run(build.load_config(config), out, beam_args)
    finally:
        server.stop()
    runs.print_funnel(manifest)
    llm = manifest.get("llm", {})
    sent = sum(s["requests_sent"] for s in llm.values())
    hits = sum(s["cache_hits"] for s in llm.values())
    print(f"codepref demo: LLM requests sent {sent}, served from cache {hits}", file=sys.stderr)
    print(f"codepref demo: output in {out}; the config it ran: {config}", file=sys.stderr)
    card = render_card(out, os.path.join(out, "card"), "codepref/demo", "0.1.0")
    print(f"codepref demo: data card: {card}", file=sys.stderr)
    print(
        f"codepref demo: audit it: codepref audit sample {out} --n 20 --seed 0 && codepref audit serve {out}",
        file=sys.stderr,
    )
    print(out)
    return 0
