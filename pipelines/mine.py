"""`codepref mine`: single-file commits from git repositories and commit files.

DAG: repositories → MineGit ┐
     commit files → ReadCommitFiles ┴→ TagCriteria → exact and near dedup of the
     contents (word 5-grams, Jaccard 0.7) → data/train-*.parquet
     every stage's rejects → rejects/NN_stage/; the funnel → manifest.json
"""

__all__ = ["add_arguments", "build", "run"]

import argparse
import json
import os

import apache_beam as beam
import pydantic

from pipelines import runs
from schemas.arrow import commit_schema
from schemas.config import MineConfig, config_problems
from schemas.dedup import CONTENT_DEDUP
from schemas.errors import UsageError
from schemas.records import CommitRecord
from schemas.runs import MineRun
from transforms import tag_criteria
from transforms.commit_filters import record_id
from transforms.dedup.stage import Deduplicate
from transforms.manifest import StageReport, upstream
from transforms.sources import commit_files, git_repos
from transforms.write_run import RunSpec, WriteRun


CONTENT_PREFIX = "content_"  # stages content_exact_dedup and content_near_dedup


def commit_key(row: dict) -> str:
    """The sharding and sort key of a commit row."""
    return record_id(row["repos"], row["commit"], row["file_path"])


def mine_commits(
    p: beam.Pipeline, cfg: MineConfig, *, repos: list[str], commit_patterns: list[str]
) -> tuple[beam.PCollection, tuple[StageReport, ...]]:
    """Wires the sources, criterion tagging and content dedup; returns the commits and their stages' reports."""
    reports: tuple[StageReport, ...] = ()
    sources = []
    if repos:
        git = p | "Repositories" >> beam.Create(sorted(repos)) | "MineGit" >> git_repos.MineGitRepositories(cfg)
        reports += git.reports
        sources.append(git.main)
    if commit_patterns:
        patterns = p | "CommitFilePatterns" >> beam.Create(sorted(commit_patterns))
        files = patterns | "ReadCommitFiles" >> commit_files.ReadCommitFiles(cfg)
        reports += files.reports
        sources.append(files.main)
    commits = sources | "AllCommits" >> beam.Flatten()
    tagged = commits | "TagCriteria" >> tag_criteria.TagCriteria(cfg.terms_dir)
    reports += tagged.after(**upstream(reports))
    if not cfg.content_dedup:
        return tagged.main, reports
    deduped = tagged.main | "DeduplicateContents" >> Deduplicate(CONTENT_DEDUP, prefix=CONTENT_PREFIX)
    return deduped.main, reports + deduped.after((tag_criteria.STAGE,))


def build(p: beam.Pipeline, cfg: MineRun, out: str) -> None:
    """Wires the mining DAG into `p`."""
    mine_cfg = cfg.mine
    commits, reports = mine_commits(p, mine_cfg, repos=list(cfg.repos), commit_patterns=list(cfg.commit_files))
    spec = RunSpec(
        out,
        mine_cfg.id,
        runs.config_json(mine_cfg),
        commit_schema(),
        commit_key,
        mine_cfg.target_shard_bytes,
        to_row=CommitRecord.to_row,
    )
    _ = p | "WriteRun" >> WriteRun(spec, {"train": commits}, reports)


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
    parser.add_argument(
        "--no-content-dedup",
        action="store_true",
        help="keep duplicate file contents (default: removed; word 5-grams, Jaccard 0.7)",
    )


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


_FLAGS = {
    "licenses": "--licenses",
    "since": "--since",
    "until": "--until",
    "allowlist": "--allowlist",
    "max_file_bytes": "--max-file-bytes",
    "batch_size": "--batch-size",
    "target_shard_bytes": "--target-shard-mb",
    "terms_dir": "--terms-dir",
}
"""The flag of each `MineConfig` field, for error messages."""


def mine_config_from_args(args: argparse.Namespace) -> MineConfig:
    """Builds the validated `MineConfig` from parsed arguments (`MineConfig` reads licences and dates).

    Raises:
        UsageError: a value is out of range or unreadable; the message names the flag.
    """
    if args.terms_dir and not os.path.isdir(args.terms_dir):
        raise UsageError(f"--terms-dir {args.terms_dir}: no such folder")
    try:
        return MineConfig(
            licenses=args.licenses,
            max_file_bytes=args.max_file_bytes,
            since=args.since,
            until=args.until,
            allowlist=_read_allowlist(args.allowlist),
            batch_size=args.batch_size,
            target_shard_bytes=args.target_shard_mb * 1024 * 1024,
            terms_dir=args.terms_dir,
            content_dedup=not args.no_content_dedup,
        )
    except pydantic.ValidationError as exc:
        raise UsageError(config_problems(exc, _FLAGS)) from exc


def config_from_args(args: argparse.Namespace) -> MineRun:
    """The run `codepref mine` was asked for, every flag and input checked.

    Raises:
        UsageError: a bad value, or a repository or glob that does not exist; the message names the flag.
    """
    mine_cfg = mine_config_from_args(args)
    runs.check_inputs({"--repo": args.repo, "--commits-file": args.commit_files}, repos={"--repo"})
    repos = tuple(os.path.abspath(r) for r in args.repo)
    return MineRun(repos=repos, commit_files=tuple(args.commit_files), mine=mine_cfg)


def run(cfg: MineRun, out: str, beam_args: list[str]) -> dict:
    """Runs `codepref mine` into `out` and returns the manifest.

    Raises:
        UsageError: the runner or `out` cannot be used.
    """
    return runs.run_beam(out, beam_args, lambda p, out: build(p, cfg, out))
