"""`codepref mine`: single-file commits from git repositories and commit files.

DAG: repositories → MineGit ┐
     commit files → ReadCommitFiles ┴→ TagCriteria → exact and near dedup of the
     contents (word 5-grams, Jaccard 0.7) → data/train-*.parquet
     every stage's rejects → rejects/NN_stage/; the funnel → manifest.json
"""

__all__ = ["add_arguments", "build", "run"]

import argparse
import contextlib
import dataclasses
import datetime as dt
import glob
import json
import os
import shutil
import sys
from collections.abc import Iterable

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from schemas.arrow import REJECT_SCHEMA, commit_schema
from schemas.config import MineConfig
from schemas.dedup import CONTENT_DEDUP
from schemas.records import CommitRecord, RejectRecord
from transforms import spill, tag_criteria
from transforms.commit_filters import record_id
from transforms.dedup.stage import Deduplicate
from transforms.licenses import PERMISSIVE_LICENSES, THEMIS_LICENSES
from transforms.manifest import StageReport, WriteManifest, check_conservation, count_input, upstream
from transforms.sinks import WriteParquetShards, is_own_file
from transforms.sources import commit_files, git_repos
from transforms.sources.git import is_git_repository, printable


CONTENT_PREFIX = "content_"  # stages content_exact_dedup and content_near_dedup


class UsageError(Exception):
    """A bad argument; the message says what to do."""


def commit_key(row: dict) -> str:
    """The sharding and sort key of a commit row."""
    return record_id(row["repos"], row["commit"], row["file_path"])


def reject_key(row: dict) -> str:
    """The sharding and sort key of a reject row."""
    return record_id(row["stage"], row["reason"], row["record_id"], row["detail"])


def mine_commits(
    p: beam.Pipeline, cfg: MineConfig, *, repos: list[str], commit_patterns: list[str]
) -> tuple[beam.PCollection, list[StageReport]]:
    """Wires the sources and criterion tagging; returns tagged commits and stage reports."""
    reports: list[StageReport] = []
    sources = []
    if repos:
        git = p | "Repositories" >> beam.Create(sorted(repos)) | "MineGit" >> git_repos.MineGitRepositories(cfg)
        reports.append(StageReport(git_repos.STAGE, git.scanned, git.commits, git.rejected))
        sources.append(git.commits)
    if commit_patterns:
        files = (
            p
            | "CommitFilePatterns" >> beam.Create(sorted(commit_patterns))
            | "ReadCommitFiles" >> commit_files.ReadCommitFiles(cfg)
        )
        reports.append(StageReport(commit_files.STAGE, files.scanned, files.commits, files.rejected))
        sources.append(files.commits)
    commits = sources | "AllCommits" >> beam.Flatten()
    tagged = commits | "TagCriteria" >> tag_criteria.TagCriteria(cfg.terms_dir)
    reports.append(StageReport(tag_criteria.STAGE, count_input(commits, "Tag"), tagged.tagged, tagged.rejected,
                               **upstream(reports)))  # fmt: skip
    if not cfg.content_dedup:
        return tagged.tagged, reports
    deduped = tagged.tagged | "DeduplicateContents" >> Deduplicate(CONTENT_DEDUP, prefix=CONTENT_PREFIX)
    reports.extend(deduped.reports(tagged.tagged, "Contents", CONTENT_PREFIX, (tag_criteria.STAGE,)))
    return deduped.main, reports


def write_rejects(reports: list[StageReport], out: str, target_shard_bytes: int) -> dict[str, beam.PCollection]:
    """Writes each stage's rejects under `out/rejects/NN_stage/`; returns the written shards."""
    rejects = {}
    for number, report in enumerate(reports, start=1):
        folder = f"{number:02d}_{report.name}"
        rejects[folder] = (
            report.rejected
            | f"RejectRows{folder}" >> beam.Map(RejectRecord.to_row)
            | f"WriteRejects{folder}"
            >> WriteParquetShards(
                FileSystems.join(out, "rejects", folder), "rejects", REJECT_SCHEMA, reject_key, target_shard_bytes
            )
        )
    return rejects


def config_json(*configs: object) -> dict:
    """Returns dataclass or pydantic configs as JSON-ready data (no secrets live in configs)."""
    merged = {}
    for cfg in configs:
        data = cfg.model_dump(mode="json") if hasattr(cfg, "model_dump") else dataclasses.asdict(cfg)
        merged[type(cfg).__name__] = json.loads(json.dumps(data, default=sorted))
    return merged


def build(p: beam.Pipeline, cfg: MineConfig, *, repos: list[str], commit_patterns: list[str], out: str) -> None:
    """Wires the mining DAG into `p`."""
    commits, reports = mine_commits(p, cfg, repos=repos, commit_patterns=commit_patterns)
    data = (
        commits
        | "CommitRows" >> beam.Map(CommitRecord.to_row)
        | "WriteCommits"
        >> WriteParquetShards(
            FileSystems.join(out, "data"), "train", commit_schema(), commit_key, cfg.target_shard_bytes
        )
    )
    rejects = write_rejects(reports, out, cfg.target_shard_bytes)
    _ = p | "WriteManifest" >> WriteManifest(out, cfg.id, config_json(cfg), reports, {"train": data}, rejects)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref mine` arguments; unknown ones go to Beam."""
    parser.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="PATH",
        help="a git repository (bare or with a work tree); repeatable",
    )
    parser.add_argument(
        "--commits-file",
        dest="commit_files",
        action="append",
        default=[],
        metavar="GLOB",
        help="JSONL or Parquet commit rows (local or gs://...); repeatable",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder: data/, rejects/, manifest.json")
    parser.add_argument("--since", metavar="DATE", help="keep commits at or after DATE (YYYY-MM-DD or ISO time, UTC)")
    parser.add_argument("--until", metavar="DATE", help="keep commits before DATE")
    parser.add_argument(
        "--allowlist", metavar="FILE", help="repositories to keep: a JSON array or one owner/name a line"
    )
    parser.add_argument(
        "--licenses",
        default="permissive",
        help="'permissive' (default), 'themis' (the paper's 12, with agpl-3.0, lgpl-2.1) or a comma list of SPDX ids",
    )
    parser.add_argument(
        "--max-file-bytes", type=int, default=1_000_000, help="reject files larger than this (default 1,000,000)"
    )
    parser.add_argument("--batch-size", type=int, default=256, help="commits per unit of parallel work (default 256)")
    parser.add_argument(
        "--target-shard-mb", type=int, default=256, help="uncompressed MB per Parquet shard (default 256)"
    )
    parser.add_argument("--terms-dir", metavar="DIR", help="custom criterion term lists (one file per criterion)")
    parser.add_argument("--no-content-dedup", action="store_true",
                        help="keep duplicate file contents (default: removed; word 5-grams, Jaccard 0.7)")  # fmt: skip


def license_list(spec: str | Iterable[str]) -> tuple[str, ...]:
    """Lowercase licence ids from a preset (`permissive`, `themis`), a comma list or a list."""
    presets = {"permissive": PERMISSIVE_LICENSES, "themis": THEMIS_LICENSES}
    if isinstance(spec, str):
        spec = presets.get(spec) or spec.split(",")
    return tuple(x.strip().lower() for x in spec if x.strip())


def parse_time(value: str | dt.date | None, flag: str) -> int | None:
    """A date or ISO time (UTC unless it says otherwise) as a unix time; None stays None.

    Raises:
        UsageError: not a date; the message names `flag`.
    """
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise UsageError(f"{flag} {value!r} is not a date; use YYYY-MM-DD or 2019-03-01T00:00:00") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp())


def _read_allowlist(path: str | None) -> frozenset[str] | None:
    if not path:
        return None
    if not os.path.isfile(path):
        raise UsageError(f"--allowlist {path}: no such file")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("["):
        try:
            return frozenset(str(x).strip() for x in json.loads(text))
        except json.JSONDecodeError as exc:
            raise UsageError(f"--allowlist {path}: not a JSON array ({exc})") from exc
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def config_from_args(args: argparse.Namespace) -> MineConfig:
    """Builds the validated `MineConfig` from parsed arguments.

    Raises:
        UsageError: a value is out of range or unreadable.
    """
    if args.terms_dir and not os.path.isdir(args.terms_dir):
        raise UsageError(f"--terms-dir {args.terms_dir}: no such folder")
    try:
        return MineConfig(
            licenses=license_list(args.licenses),
            max_file_bytes=args.max_file_bytes,
            since=parse_time(args.since, "--since"),
            until=parse_time(args.until, "--until"),
            allowlist=_read_allowlist(args.allowlist),
            batch_size=args.batch_size,
            target_shard_bytes=args.target_shard_mb * 1024 * 1024,
            terms_dir=args.terms_dir,
            content_dedup=not args.no_content_dedup,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def check_inputs(repos: list[str], patterns: list[str], instructions: list[str] | None = None) -> None:
    """Checks that every repository and pattern exists.

    Raises:
        UsageError: one does not; the message names it and says what to do.
    """
    if not repos and not patterns and not instructions:
        raise UsageError("nothing to read: pass --repo PATH or --commits-file GLOB")
    for pattern in instructions or []:
        if not commit_files.match_files(pattern):
            raise UsageError(f"--instructions {pattern}: matched no file")
    for repo in repos:
        check_repository(repo, "--repo")
    for pattern in patterns:
        if not commit_files.match_files(pattern):
            raise UsageError(f"--commits-file {pattern}: matched no file")


def check_repository(repo: str, where: str) -> None:
    """Checks that `repo` is a git repository.

    Raises:
        UsageError: it is not; the message starts with `where`.
    """
    if not os.path.exists(repo):
        raise UsageError(f"{where} {repo}: no such folder")
    if printable(os.path.abspath(repo)) != os.path.abspath(repo):  # Beam carries paths as UTF-8
        raise UsageError(f"{where} {printable(repo)}: the path is not valid UTF-8; rename it or pass a symlink")
    if not is_git_repository(repo):
        raise UsageError(f"{where} {repo}: not a git repository; pass the folder that holds .git, or a bare repository")


_MANAGED = ("data", "rejects", "batch", "manifest.json")


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


def check_runner(beam_args: list[str]) -> None:
    """Checks, before anything runs, that the runner's workers can reach the spill files.

    Raises:
        UsageError: the runner's workers may share no disk and no `--temp_location` is given
            (`transforms.spill.check_temp_location`).
    """
    try:
        spill.check_temp_location(PipelineOptions(beam_args))
    except spill.TempLocationError as exc:
        raise UsageError(str(exc)) from exc


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
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, ".codepref-write-test")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write there ({exc.strerror}); choose a folder you can write to") from exc


def print_funnel(manifest: dict, stream=sys.stderr) -> None:  # noqa: ANN001
    """Prints the manifest's funnel as a small table."""
    for stage in manifest["stages"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in stage["rejected"].items()) or "-"
        print(f"  {stage['name']:<18} in {stage['in']:>9,}  out {stage['out']:>9,}  rejected: {reasons}", file=stream)
    for split, info in manifest["outputs"].items():
        print(f"  {split}: {info['rows']:,} rows in {len(info['files'])} file(s)", file=stream)


def resolve_output(out: str) -> str:
    """Returns an absolute local path, or a remote path as given."""
    return out if FileSystems.get_scheme(out) not in (None, "file") else os.path.abspath(out)


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


def run(args: argparse.Namespace, beam_args: list[str]) -> dict:
    """Runs `codepref mine` and returns the manifest.

    Raises:
        UsageError: bad arguments or inputs.
    """
    check_runner(beam_args)
    cfg = config_from_args(args)
    check_inputs(args.repo, args.commit_files)
    out = resolve_output(args.out)
    prepare_output(out)
    repos = [os.path.abspath(r) for r in args.repo]
    with beam.Pipeline(options=PipelineOptions(beam_args)) as p:
        build(p, cfg, repos=repos, commit_patterns=args.commit_files, out=out)
    return read_manifest(out)
