"""What every pipeline command does around its Beam run: checks before it, the output folder, the manifest after.

    check_runner(beam_args)            the runner's workers can reach the spill files
    check_inputs({"--input": globs})   every repository and glob of the caller's flags exists
    out = resolve_output(args.out)     an absolute local path, or a remote path as given
    prepare_output(out)                created, or a previous codepref run's outputs cleared
    ... the pipeline writes out/data/, out/rejects/, out/manifest.json ...
    manifest = read_manifest(out)      read back, conservation checked
    print_funnel(manifest)             the funnel as a small table

`run_beam(out, beam_args, wire)` does the steps around the run for a pipeline's `run`.

Every check raises `schemas.errors.UsageError` with a message that names the
caller's own flag (or config key) and says what to do.
"""

__all__ = [
    "add_command_group",
    "add_input_argument",
    "add_output_arguments",
    "check_inputs",
    "check_repository",
    "check_runner",
    "check_writable",
    "config_json",
    "prepare_output",
    "print_funnel",
    "read_manifest",
    "resolve_output",
    "run_beam",
]

import argparse
import contextlib
import glob
import json
import os
import shutil
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TextIO

import apache_beam as beam
import pydantic
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from schemas.errors import UsageError
from transforms import spill
from transforms.manifest import check_conservation
from transforms.sinks import is_own_file
from transforms.sources.commit_files import match_files
from transforms.sources.git import is_git_repository, printable


_MANAGED = ("data", "rejects", "batch", "manifest.json")
"""What a codepref run writes at the top of its output folder."""


def check_runner(beam_args: list[str]) -> None:
    """Checks, before anything runs, that the runner's workers can reach the spill files.

    Raises:
        transforms.spill.TempLocationError: a `UsageError`: the runner's workers may share no disk
            and no `--temp_location` is given (`transforms.spill.check_temp_location`).
    """
    spill.check_temp_location(PipelineOptions(beam_args))


def check_inputs(inputs: Mapping[str, Sequence[str]], repos: Collection[str] = ()) -> None:
    """Checks that something is given and that every repository and glob exists.

    Args:
        inputs: each of the caller's input flags (`--input`, `--commits-file`) → its values, in the
            order to check them.
        repos: the flags of `inputs` whose values are git repositories; the others' are file globs.

    Raises:
        UsageError: no flag has a value (the message lists them), or a value names no repository or
            matches no file; the message starts with its flag, e.g. `--input x*.jsonl: matched no file`.
    """
    if not any(inputs.values()):
        flags = [f"{flag} {'PATH' if flag in repos else 'GLOB'}" for flag in inputs]
        listed = " or ".join(flags) if len(flags) <= 2 else ", ".join(flags[:-1]) + " or " + flags[-1]
        raise UsageError(f"nothing to read: pass {listed}")
    for flag, values in inputs.items():
        for value in values:
            if flag in repos:
                check_repository(value, flag)
            elif not match_files(value):
                raise UsageError(f"{flag} {value}: matched no file")


def check_repository(repo: str, where: str) -> None:
    """Checks that `repo` is a git repository.

    Raises:
        UsageError: it is not; the message starts with `where` (a flag, or `--config PATH: sources.repos`).
    """
    if not os.path.exists(repo):
        raise UsageError(f"{where} {repo}: no such folder")
    if printable(os.path.abspath(repo)) != os.path.abspath(repo):  # Beam carries paths as UTF-8
        raise UsageError(f"{where} {printable(repo)}: the path is not valid UTF-8; rename it or pass a symlink")
    if not is_git_repository(repo):
        raise UsageError(f"{where} {repo}: not a git repository; pass the folder that holds .git, or a bare repository")


def resolve_output(out: str) -> str:
    """Returns an absolute local path, or a remote path as given."""
    return out if FileSystems.get_scheme(out) not in (None, "file") else os.path.abspath(out)


def _clear_previous_run(out: str) -> None:
    """Deletes a previous run's manifest, `batch/` and shards under `data/` and `rejects/*/`; other files stay."""
    for name in ("batch", "manifest.json"):
        target = os.path.join(out, name)
        if os.path.isdir(target):
            shutil.rmtree(target)
        elif os.path.exists(target):
            os.remove(target)
    folders = sorted(glob.glob(os.path.join(out, "rejects", "*", ""))) + [os.path.join(out, "data", "")]
    for folder in folders:
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            if is_own_file(name):
                os.remove(os.path.join(folder, name))
    for folder in [*folders, os.path.join(out, "rejects")]:
        with contextlib.suppress(OSError):  # only an empty folder goes
            os.rmdir(folder)


def prepare_output(out: str) -> None:
    """Makes `out` ready: creates it, or clears a previous codepref run's outputs.

    Locally, a previous run's manifest, `batch/` and shards are deleted (files of
    other names in `data/` and `rejects/` stay). Elsewhere (`gs://...`) only its
    manifest is; the shards it had and this run does not write go once this run's
    manifest is written (`transforms.sinks.remove_stale_outputs`).

    Raises:
        UsageError: it holds something else, or cannot be written.
    """
    if FileSystems.get_scheme(out) not in (None, "file"):
        manifest = FileSystems.join(out, "manifest.json")
        if FileSystems.exists(manifest):  # no manifest describes a half-rewritten folder; stale shards go at the end
            FileSystems.delete([manifest])
        return
    if os.path.isdir(out) and os.listdir(out):
        if not os.path.exists(os.path.join(out, "manifest.json")) and any(
            name not in _MANAGED and not name.startswith(".tmp-") for name in os.listdir(out)
        ):
            raise UsageError(f"--out {out} is not empty and holds no codepref run; choose an empty or new folder")
        _clear_previous_run(out)
    check_writable(out)


def check_writable(folder: str, flag: str = "--out") -> None:
    """Creates `folder` if needed and checks that a file can be written there.

    Raises:
        UsageError: it cannot; the message names `flag`.
    """
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, ".codepref-write-test")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as exc:
        problem = f"cannot write there ({exc.strerror}); choose a folder you can write to"
        raise UsageError(f"{flag} {folder}: {problem}") from exc


def config_json(*configs: pydantic.BaseModel) -> dict:
    """The configs as the manifest's JSON-ready `config`, each under its class name (no secrets live in configs)."""
    return {type(cfg).__name__: cfg.model_dump(mode="json") for cfg in configs}


def read_manifest(out: str) -> dict:
    """Reads a run's manifest and checks conservation.

    Raises:
        RuntimeError: some stage's in != out + rejected (a bug, never expected).
    """
    with FileSystems.open(FileSystems.join(out, "manifest.json")) as f:
        manifest = json.loads(f.read())
    problems = check_conservation(manifest)
    if problems:
        raise RuntimeError("conservation broken (a bug): " + "; ".join(problems))
    return manifest


def print_funnel(manifest: dict, stream: TextIO | None = None) -> None:
    """Prints the manifest's funnel as a small table (to stderr unless `stream` is given)."""
    stream = stream or sys.stderr
    for stage in manifest["stages"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in stage["rejected"].items()) or "-"
        print(f"  {stage['name']:<18} in {stage['in']:>9,}  out {stage['out']:>9,}  rejected: {reasons}", file=stream)
    for split, info in manifest["outputs"].items():
        print(f"  {split}: {info['rows']:,} rows in {len(info['files'])} file(s)", file=stream)


def run_beam(out: str, beam_args: list[str], wire: Callable[[beam.Pipeline, str], None]) -> dict:
    """Checks the runner, prepares `out`, runs the DAG `wire(p, out)` builds and returns the manifest it wrote.

    Raises:
        UsageError: the runner's workers cannot reach the spill files, or `out` cannot be used.
        RuntimeError: the manifest's conservation is broken (a bug).
    """
    check_runner(beam_args)
    out = resolve_output(out)
    prepare_output(out)
    with beam.Pipeline(options=PipelineOptions(beam_args)) as p:
        wire(p, out)
    return read_manifest(out)


def add_input_argument(parser: argparse.ArgumentParser, help: str) -> None:  # noqa: A002 - argparse's name
    """Adds `--input GLOB` (repeatable, required) to a pipeline's parser."""
    parser.add_argument("--input", action="append", required=True, metavar="GLOB", help=f"{help}; repeatable")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `--out DIR` (required) and `--target-shard-mb` to a pipeline's parser."""
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder: data/, rejects/, manifest.json")
    parser.add_argument("--target-shard-mb", type=int, default=256, help="uncompressed MB per Parquet shard")


def add_command_group(sub: argparse._SubParsersAction, name: str, summary: str, description: str, dest: str):  # noqa: ANN201
    """Adds a subcommand with steps of its own (`codepref batch ...`, `codepref audit ...`); returns its subparsers.

    `description` is shown as written (line breaks kept).
    """
    group = sub.add_parser(
        name, help=summary, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    return group.add_subparsers(dest=dest, required=True, metavar="STEP")
