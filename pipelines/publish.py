"""`codepref publish`: a run's output as a versioned Hugging Face dataset, with its card and plots.

    codepref publish OUT --repo-id ORG/NAME --version 1.2.0 [--local-dir PATH] [--dry-run]

What is published (`release_files`): the pairs (`data/{split}-*.parquet`), the card
(`README.md`, rendered by `data_cards.card.render_card` from the manifest, the
config and the data) with its plots (`images/*.png`), and `manifest.json` (the
funnel and the config, scrubbed of endpoint addresses and key names as in the card). Rejects stay behind.

Before anything is written, the run must pass `check_release`: the manifest
balances (every stage's in = out + rejected), the secret scan ran, and a fresh scan
of the pairs to publish finds no secret. Otherwise publishing is refused, saying why.

* Hub: one commit to the dataset repository (created if missing) that adds the
  files and deletes data files of the previous version that this one lacks, then a
  tag `vX.Y.Z` on it. The token comes from `HF_TOKEN`, never from an argument.
* `--local-dir PATH`: the same layout in a folder: the latest version at the top,
  every version kept under `versions/X.Y.Z/`. `datasets.load_dataset(PATH)` loads it.
* `--dry-run`: lists what would be uploaded, and writes nothing.
"""

__all__ = ["ReleaseError", "add_arguments", "check_release", "release_files", "run"]

import argparse
import dataclasses
import glob
import json
import os
import re
import shutil
import sys
import tempfile
from typing import Any

from transforms.manifest import check_conservation


_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


class ReleaseError(Exception):
    """A run that must not be published; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class ReleaseFile:
    """A file of the release: where it is now and its path in the repository."""

    source: str
    path: str


def _secret_findings(out: str, files: list[str], limit: int = 5) -> list[str]:
    """Scans the text columns of the pairs to publish; returns up to `limit` findings (never the values)."""
    import pyarrow.parquet as pq

    from transforms.filters.secrets import find_secrets

    found = []
    for name in files:
        for batch in pq.ParquetFile(os.path.join(out, name)).iter_batches(
            batch_size=1024, columns=["idx", "system", "input", "chosen", "rejected"]
        ):
            for row in batch.to_pylist():
                for column in ("system", "input", "chosen", "rejected"):
                    for finding in find_secrets(row[column] or ""):
                        found.append(f"{name} pair {row['idx']}: {finding.type} in {column}, line {finding.line}")
                        if len(found) >= limit:
                            return found
    return found


def check_release(out: str, manifest: dict[str, Any]) -> None:
    """Refuses a run whose manifest does not balance, whose secret scan did not run, or whose pairs hold a secret.

    Raises:
        ReleaseError: why the run must not be published.
    """
    from transforms.filters import secrets

    problems = check_conservation(manifest)
    if problems:
        raise ReleaseError("the manifest does not balance (in != out + rejected), so rows went missing: "
                           + "; ".join(problems) + ". Re-run the pipeline; do not publish this output.")  # fmt: skip
    if not any(stage["name"] == secrets.STAGE for stage in manifest["stages"]):
        raise ReleaseError("no secret scan ran on this output (its manifest has no secret_scan stage); "
                           "run it with `secrets: true` in the filters (the default)")  # fmt: skip
    data = [f for split in manifest["outputs"].values() for f in split["files"]]
    findings = _secret_findings(out, data)
    if findings:
        raise ReleaseError("the pairs to publish hold secrets: " + "; ".join(findings)
                           + ". Remove them (codepref filter) before publishing.")  # fmt: skip


def release_files(out: str, manifest: dict[str, Any], card_dir: str) -> list[ReleaseFile]:
    """The files of the release, in repository paths (sorted): data, card, plots, manifest."""
    files = [ReleaseFile(os.path.join(out, f), f) for split in manifest["outputs"].values() for f in split["files"]]
    files.append(ReleaseFile(os.path.join(card_dir, "README.md"), "README.md"))
    files += [ReleaseFile(p, os.path.relpath(p, card_dir)) for p in glob.glob(os.path.join(card_dir, "images", "*"))]
    files.append(ReleaseFile(os.path.join(card_dir, "manifest.json"), "manifest.json"))
    return sorted(files, key=lambda f: f.path)


def _read_release(path: str) -> tuple[dict, str | None]:
    """A published manifest and the version it records."""
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    return manifest, manifest.get("release", {}).get("version")


def _previous_local(local_dir: str) -> tuple[dict | None, str | None]:
    path = os.path.join(local_dir, "manifest.json")
    return _read_release(path) if os.path.exists(path) else (None, None)


def _previous_hub(api: Any, repo_id: str) -> tuple[dict | None, str | None]:
    from huggingface_hub.utils import EntryNotFoundError, RepositoryNotFoundError

    try:
        return _read_release(api.hf_hub_download(repo_id, "manifest.json", repo_type="dataset"))
    except (EntryNotFoundError, RepositoryNotFoundError):
        return None, None


def _write_local(files: list[ReleaseFile], local_dir: str, version: str) -> None:
    """Writes the version under `versions/X.Y.Z/`, then makes it the top level (earlier versions stay)."""
    target = os.path.join(local_dir, "versions", version)
    for f in files:
        os.makedirs(os.path.dirname(os.path.join(target, f.path)), exist_ok=True)
        shutil.copyfile(f.source, os.path.join(target, f.path))
    for name in ("data", "images", "README.md", "manifest.json"):
        old = os.path.join(local_dir, name)
        if os.path.isdir(old):
            shutil.rmtree(old)
        elif os.path.exists(old):
            os.remove(old)
    for f in files:  # the top level shares the version's files (a link; a copy where links fail)
        top = os.path.join(local_dir, f.path)
        os.makedirs(os.path.dirname(top), exist_ok=True)
        try:
            os.link(os.path.join(target, f.path), top)
        except OSError:
            shutil.copyfile(f.source, top)


def _push_hub(api: Any, files: list[ReleaseFile], repo_id: str, version: str) -> str:
    """One commit that adds the release and deletes stale data files, then the version tag; returns the commit URL."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    existing = [p for p in api.list_repo_files(repo_id, repo_type="dataset") if p.startswith(("data/", "images/"))]
    keep = {f.path for f in files}
    operations = [CommitOperationAdd(path_in_repo=f.path, path_or_fileobj=f.source) for f in files]
    operations += [CommitOperationDelete(path_in_repo=p) for p in existing if p not in keep]
    commit = api.create_commit(repo_id, operations, commit_message=f"Release {version}", repo_type="dataset")
    api.create_tag(repo_id, tag=f"v{version}", repo_type="dataset", revision=commit.oid)
    return commit.commit_url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref publish` arguments."""
    parser.add_argument("out", metavar="OUT", help="the output folder of a codepref run (data/, manifest.json)")
    parser.add_argument("--repo-id", required=True, metavar="ORG/NAME", help="the dataset repository")
    parser.add_argument("--version", required=True, metavar="X.Y.Z", help="the release's version (tagged vX.Y.Z)")
    parser.add_argument("--local-dir", metavar="PATH", help="write the repository layout here instead of the Hub")
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded; write nothing")


def run(args: argparse.Namespace, _: list[str]) -> int:
    """Checks, renders and publishes a release; see the module docstring."""
    from data_cards.card import render_card
    from data_cards.sections import scrub_config

    out = os.path.abspath(args.out)
    if not _VERSION.match(args.version):
        raise ReleaseError(f"--version {args.version}: give X.Y.Z, like 1.0.0")
    if not _REPO_ID.match(args.repo_id):
        raise ReleaseError(f"--repo-id {args.repo_id}: give ORG/NAME")
    manifest_path = os.path.join(out, "manifest.json")
    if not os.path.exists(manifest_path):
        raise ReleaseError(f"{out} holds no manifest.json: give the output folder of a codepref run")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    check_release(out, manifest)
    api = None
    if args.local_dir:
        if os.path.exists(os.path.join(args.local_dir, "versions", args.version)):
            raise ReleaseError(f"version {args.version} is already in {args.local_dir}; give a new version")
        previous, previous_version = _previous_local(args.local_dir)
    else:
        from huggingface_hub import HfApi

        token = os.environ.get("HF_TOKEN")
        if not token and not args.dry_run:
            raise ReleaseError("set HF_TOKEN to a Hugging Face token with write access (or use --local-dir)")
        api = HfApi(token=token)
        previous, previous_version = _previous_hub(api, args.repo_id) if token else (None, None)
    with tempfile.TemporaryDirectory(prefix="codepref-card-") as card_dir:
        try:
            render_card(out, card_dir, args.repo_id, args.version, previous, previous_version)
        except ValueError as exc:  # the files do not hold what the manifest says
            raise ReleaseError(f"{out}: {exc}; re-run the pipeline") from exc
        release = {"repo_id": args.repo_id, "version": args.version}
        public = {**manifest, "config": scrub_config(manifest["config"]), "release": release}
        with open(os.path.join(card_dir, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(public, f, indent=2, ensure_ascii=False)
        files = release_files(out, manifest, card_dir)
        where = args.local_dir or f"https://huggingface.co/datasets/{args.repo_id}"
        if args.dry_run:
            print(f"codepref publish: would upload {len(files)} files to {where} as {args.version}:", file=sys.stderr)
            for f in files:
                print(f"  {f.path}  {os.path.getsize(f.source):,} bytes")
            return 0
        if args.local_dir:
            _write_local(files, args.local_dir, args.version)
        else:
            where = _push_hub(api, files, args.repo_id, args.version)
    print(f"codepref publish: {args.repo_id} {args.version}: {len(files)} files at {where}", file=sys.stderr)
    print(os.path.join(args.local_dir, "README.md") if args.local_dir else where)
    return 0
