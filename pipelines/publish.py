"""`codepref publish`: a run's output as a versioned Hugging Face dataset, with its card and plots.

    codepref publish OUT --repo-id ORG/NAME --version 1.2.0 [--export DIR] [--local-dir PATH] [--dry-run]

What is published (`release_files`): the pairs (`data/{split}-*.parquet`), the card
(`README.md`, rendered by `data_cards.card.render_card` from the manifest, the
config and the data) with its plots (`images/*.png`), and `manifest.json` (the
funnel and the config, scrubbed of endpoint addresses and key names as in the card). Rejects stay behind.
Each `--export DIR` (a `codepref export` of OUT) adds its files under `{format}/` as the
config of that name (`trl`, `themis`; `pipelines.publish_exports`), listed in the card's
header and loading section: `datasets.load_dataset(REPO, "trl")`.

Before anything is written, the run must pass `check_release`: the manifest is
sound (JSON, counts >= 0, its files inside the run folder), balances (every stage's
in = out + rejected) and chains by its own stage graph (`transforms.manifest.check_flow`),
ends with the final stages its config runs, matches the rows of its data and reject
files, its secret scan ran on every pair, and a fresh scan of every string column of
the pairs finds no secret; then the card and the manifest to publish are scanned
too. Otherwise publishing is refused (`schemas.errors.ReleaseError`), saying why.

* Hub: one commit to the dataset repository (created if missing) that adds the
  files and deletes data files of the previous version that this one lacks, then a
  tag `vX.Y.Z` on it. The token comes from `HF_TOKEN`, never from an argument.
* `--local-dir PATH`: the same layout in a folder: the latest version at the top,
  every version kept under `versions/X.Y.Z/`. `datasets.load_dataset(PATH)` loads it.
* `--dry-run`: lists what would be uploaded, and writes nothing.
"""

__all__ = ["add_arguments", "check_release", "release_files", "run"]

import argparse
import collections
import dataclasses
import glob
import json
import os
import re
import shutil
import sys
import tempfile
from typing import Any

from pipelines.publish_exports import export_card_config, export_release_files, read_exports
from schemas.errors import ReleaseError
from schemas.runs import EXPORT_FORMATS
from transforms.manifest import check_conservation, check_flow


_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


@dataclasses.dataclass(frozen=True)
class ReleaseFile:
    """A file of the release: where it is now and its path in the repository."""

    source: str
    path: str


def _holds_text(kind: Any) -> bool:
    """Whether an Arrow type is a string or nests one (TRL's message lists: list<struct<role, content>>)."""
    import pyarrow as pa

    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return True
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _holds_text(kind.value_type)
    if pa.types.is_struct(kind):
        return any(_holds_text(kind.field(i).type) for i in range(kind.num_fields))
    return False


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def _secret_findings(out: str, files: list[str], limit: int = 5) -> list[str]:
    """Scans every text of the pairs to publish, message contents too; up to `limit` findings, never the values."""
    import pyarrow.parquet as pq

    from transforms.filters.secrets import find_secrets

    found = []
    for name in files:
        parquet = pq.ParquetFile(os.path.join(out, name))
        columns = [f.name for f in parquet.schema_arrow if _holds_text(f.type)]
        for batch in parquet.iter_batches(batch_size=1024, columns=columns):
            for row in batch.to_pylist():
                for column in columns:
                    for finding in find_secrets("\n".join(_texts(row[column]))):
                        found.append(f"{name} pair {row.get('idx')}: {finding.type} in {column}, line {finding.line}")
                        if len(found) >= limit:
                            return found
    return found


def text_secrets(text: str, what: str) -> list[str]:
    """The secrets in a text to publish (the card, the manifest), as `what: TYPE on line N` (never the values)."""
    from transforms.filters.secrets import find_secrets

    return [f"{what}: {finding.type} on line {finding.line}" for finding in find_secrets(text)]


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_shape(manifest: Any) -> None:
    """Refuses a manifest without the fields and types `assemble_manifest` writes, or with a negative count."""
    if not isinstance(manifest, dict):
        raise ReleaseError(f"manifest.json holds a {type(manifest).__name__}, not a manifest object")
    kinds = {"stages": list, "outputs": dict, "rejects": dict, "config": dict}
    for key, kind in kinds.items():
        if not isinstance(manifest.get(key), kind):
            raise ReleaseError(f"manifest.json has no {key} {kind.__name__}: it is not a codepref run's manifest")
    for i, stage in enumerate(manifest["stages"]):
        if not isinstance(stage, dict) or not isinstance(stage.get("name"), str):
            raise ReleaseError(f"manifest.json: stage {i} has no name")
        rejected = stage.get("rejected")
        if not isinstance(rejected, dict):
            raise ReleaseError(f"manifest.json: stage {stage['name']} has no rejected counts")
        for key, value in [("in", stage.get("in")), ("out", stage.get("out")), *rejected.items()]:
            if not _count(value):
                raise ReleaseError(
                    f"manifest.json: stage {stage['name']}: {key} is {value!r}, not a count >= 0; "
                    "the manifest was altered or damaged; re-run the pipeline"
                )
    for section in ("outputs", "rejects"):
        for name, info in manifest[section].items():
            files = info.get("files") if isinstance(info, dict) else None
            if not (
                _count(info.get("rows") if isinstance(info, dict) else None)
                and isinstance(files, list)
                and all(isinstance(f, str) for f in files)
            ):
                raise ReleaseError(f"manifest.json: {section} {name} is not {{rows: a count >= 0, files: [paths]}}")


def _check_paths(out: str, manifest: dict[str, Any]) -> None:
    """Refuses files named outside the run folder (absolute, `..`, through a link) or outside their folder."""
    root = os.path.realpath(out)
    listed = [("data/", f) for split in manifest["outputs"].values() for f in split["files"]]
    listed += [(f"rejects/{folder}/", f) for folder, info in manifest["rejects"].items() for f in info["files"]]
    for folder, name in listed:
        path = os.path.realpath(os.path.join(root, name))
        if os.path.isabs(name) or not path.startswith(root + os.sep):  # `..` and links resolved in `path`
            raise ReleaseError(
                f"manifest.json names {name!r}, outside the run folder {out}; refusing to publish "
                "files from elsewhere: re-run the pipeline"
            )
        if not os.path.normpath(name).startswith(folder):
            raise ReleaseError(f"manifest.json names {name!r} where files of {folder} belong")
        if not os.path.isfile(path):
            raise ReleaseError(f"manifest.json names {name}, which {out} lacks: re-run the pipeline")


def _final_configs(manifest: dict[str, Any]) -> tuple[Any, Any]:
    """The final stages' settings of a run that writes pairs: its filters (`FinalConfig`) and mix (or None).

    Raises:
        ReleaseError: the run's kind writes no pairs (mine, dedup).
    """
    config = manifest["config"]
    if isinstance(config.get("BuildConfig"), dict):  # codepref build
        return config["BuildConfig"].get("filters", {}), config["BuildConfig"].get("mix")
    if "FinalConfig" in config:  # codepref label, mutate, filter
        return config["FinalConfig"], None
    raise ReleaseError(
        f"this run's config ({', '.join(config) or 'empty'}) is not one that writes preference "
        "pairs: publish the output of codepref build, label, mutate or filter"
    )


def _check_final_stages(manifest: dict[str, Any]) -> None:
    """Refuses a pair run whose funnel does not end with the final stages its config runs (`final_stage_names`)."""
    import pydantic

    from pipelines.finalize import final_stage_names
    from schemas.build import MixConfig
    from schemas.final import FinalConfig

    filters, mix = _final_configs(manifest)
    try:
        expected = final_stage_names(FinalConfig.model_validate(filters), MixConfig.model_validate(mix or {}))
    except pydantic.ValidationError as exc:
        raise ReleaseError(
            f"manifest.json: its config's final stages are not valid ({exc.error_count()} "
            "errors): the manifest was altered; re-run the pipeline"
        ) from exc
    names = [stage["name"] for stage in manifest["stages"]]
    if names[-len(expected) :] != expected:
        raise ReleaseError(
            f"the funnel must end with the final stages its config runs ({', '.join(expected)}), "
            f"but its stages are {', '.join(names)}: a stage is missing; re-run it"
        )


def _data_rows(out: str, manifest: dict[str, Any]) -> int:
    """The rows of the data files, each split's checked against the manifest's count."""
    total = 0
    for split, info in manifest["outputs"].items():
        rows = sum(_parquet(out, f, lambda f: f.metadata.num_rows) for f in info["files"])
        if rows != info["rows"]:
            raise ReleaseError(
                f"manifest.json says split {split} has {info['rows']} rows, but its files hold "
                f"{rows}: re-run the pipeline"
            )
        total += rows
    return total


def _parquet(out: str, name: str, read: Any) -> Any:
    """`read(ParquetFile)` of a listed file; a file that is not Parquet is a refusal."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return read(pq.ParquetFile(os.path.join(out, name)))
    except (OSError, pa.ArrowException) as exc:
        raise ReleaseError(f"{name} is not a readable Parquet file ({exc}): re-run the pipeline") from exc


def _reject_reasons(parquet: Any) -> collections.Counter:
    reasons: collections.Counter = collections.Counter()
    for batch in parquet.iter_batches(batch_size=4096, columns=["reason"]):
        reasons.update(batch.column("reason").to_pylist())
    return reasons


def _check_rejects(out: str, manifest: dict[str, Any]) -> None:
    """Refuses reject counts that the rows of the stage's `rejects/NN_stage/` files do not bear out, by reason."""
    for number, stage in enumerate(manifest["stages"], start=1):
        folder = f"{number:02d}_{stage['name']}"
        info = manifest["rejects"][folder]
        found: collections.Counter = collections.Counter()
        for name in info["files"]:
            found.update(_parquet(out, name, _reject_reasons))
        claimed = {reason: n for reason, n in stage["rejected"].items() if n}
        if dict(found) != claimed or info["rows"] != sum(claimed.values()):
            raise ReleaseError(
                f"stage {stage['name']} counts rejects {claimed or '{}'}, but rejects/{folder}/ holds "
                f"rows {dict(sorted(found.items())) or '{}'}: its reject counts are not its rejected "
                "rows; re-run the pipeline"
            )


def check_release(out: str, manifest: dict[str, Any]) -> None:
    """Refuses a run whose manifest is not sound, whose secret scan did not run on its pairs, or that holds a secret.

    In order: the manifest's shape and counts (>= 0); the run writes pairs (build,
    label, mutate, filter: its config holds their final stages); every file it names lies in
    the run folder; each stage balances (in = out + rejected); a secret_scan stage
    ran, and passed at least as many pairs as the data holds; the chain of stages
    holds (`check_flow`: each stage's in = the out of the stages that feed it, one
    reject folder per stage, the outputs hold the last stage's out); the funnel ends
    with the final stages its config runs; the data files hold the rows the
    manifest says, each stage's reject files the rows of its reject counts; a fresh
    scan of every string column of the pairs finds no secret.

    Raises:
        ReleaseError: why the run must not be published.
    """
    from transforms.filters import secrets

    _check_shape(manifest)
    _final_configs(manifest)  # a run that writes pairs
    _check_paths(out, manifest)
    problems = check_conservation(manifest)
    if problems:
        raise ReleaseError(
            "the manifest does not balance (in != out + rejected), so rows went missing: "
            + "; ".join(problems)
            + ". Re-run the pipeline; do not publish this output."
        )
    scan = next((stage for stage in manifest["stages"] if stage["name"] == secrets.STAGE), None)
    if scan is None:
        raise ReleaseError(
            "no secret scan ran on this output (its manifest has no secret_scan stage); "
            "run it with `secrets: true` in the filters (the default)"
        )
    rows = _data_rows(out, manifest)
    if scan["out"] < rows:
        raise ReleaseError(
            f"its secret_scan stage saw {scan['in']} pairs and passed {scan['out']}, but the data "
            f"files hold {rows} rows: the scan's counts are not real; re-run the pipeline"
        )
    problems = check_flow(manifest)
    if problems:
        raise ReleaseError(
            "the stages do not chain (each stage's in must be the out of the stages that feed it): "
            + "; ".join(problems)
            + ". Re-run the pipeline; do not publish this output."
        )
    _check_final_stages(manifest)
    _check_rejects(out, manifest)
    data = [f for split in manifest["outputs"].values() for f in split["files"]]
    findings = _secret_findings(out, data)
    if findings:
        raise ReleaseError(
            "the pairs to publish hold secrets: "
            + "; ".join(findings)
            + ". Remove them (codepref filter) before publishing."
        )


def release_files(out: str, manifest: dict[str, Any], card_dir: str) -> list[ReleaseFile]:
    """The files of the release, in repository paths (sorted): data, card, plots, manifest."""
    files = [ReleaseFile(os.path.join(out, f), f) for split in manifest["outputs"].values() for f in split["files"]]
    files.append(ReleaseFile(os.path.join(card_dir, "README.md"), "README.md"))
    files += [ReleaseFile(p, os.path.relpath(p, card_dir)) for p in glob.glob(os.path.join(card_dir, "images", "*"))]
    files.append(ReleaseFile(os.path.join(card_dir, "manifest.json"), "manifest.json"))
    return sorted(files, key=lambda f: f.path)


def read_manifest_file(path: str) -> dict[str, Any]:
    """Reads a manifest.json.

    Raises:
        ReleaseError: it cannot be read, is not JSON, or holds no JSON object.
    """
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReleaseError(f"{path} is not a readable JSON manifest ({exc}); re-run the pipeline") from exc
    if not isinstance(manifest, dict):
        raise ReleaseError(f"{path} holds a JSON {type(manifest).__name__}, not a manifest object")
    return manifest


def _read_release(path: str) -> tuple[dict, str | None]:
    """A published manifest and the version it records."""
    manifest = read_manifest_file(path)
    release = manifest.get("release")
    return manifest, release.get("version") if isinstance(release, dict) else None


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
    for name in ("data", "images", *EXPORT_FORMATS, "README.md", "manifest.json"):
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
    folders = tuple(f"{name}/" for name in ("data", "images", *EXPORT_FORMATS))
    existing = [p for p in api.list_repo_files(repo_id, repo_type="dataset") if p.startswith(folders)]
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
    parser.add_argument(
        "--export",
        action="append",
        default=[],
        metavar="DIR",
        help="a `codepref export` of OUT to publish as the config named by its format (trl, themis); repeatable",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded; write nothing")


def run(args: argparse.Namespace, _: list[str]) -> int:
    """Checks, renders and publishes a release; see the module docstring."""
    from data_cards.card import CardSecretError, render_card
    from data_cards.sections import scrub_config

    out = os.path.abspath(args.out)
    if not _VERSION.match(args.version):
        raise ReleaseError(f"--version {args.version}: give X.Y.Z, like 1.0.0")
    if not _REPO_ID.match(args.repo_id):
        raise ReleaseError(f"--repo-id {args.repo_id}: give ORG/NAME")
    manifest_path = os.path.join(out, "manifest.json")
    if not os.path.exists(manifest_path):
        raise ReleaseError(f"{out} holds no manifest.json: give the output folder of a codepref run")
    manifest = read_manifest_file(manifest_path)
    check_release(out, manifest)
    exports = read_exports(args.export, manifest)
    for export in exports:
        findings = _secret_findings(export.folder, export.files())
        if findings:
            raise ReleaseError(f"the export {export.folder} holds secrets: " + "; ".join(findings) + "; export again")
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
            configs = [export_card_config(export) for export in exports]
            render_card(out, card_dir, args.repo_id, args.version, previous, previous_version, configs=configs)
        except CardSecretError as exc:  # from the config or a column no scan reads
            raise ReleaseError(f"{exc}; remove it from the run before publishing") from exc
        except ValueError as exc:  # the files do not hold what the manifest says
            raise ReleaseError(f"{out}: {exc}; re-run the pipeline") from exc
        release: dict[str, Any] = {"repo_id": args.repo_id, "version": args.version}
        if exports:
            release["configs"] = ["default", *(export.config for export in exports)]
        public = {**manifest, "config": scrub_config(manifest["config"]), "release": release}
        text = json.dumps(public, indent=2, ensure_ascii=False)
        findings = text_secrets(text, "manifest.json")
        if findings:
            raise ReleaseError(
                "the manifest to publish holds secrets: "
                + "; ".join(findings)
                + "; remove them from the run's config before publishing"
            )
        with open(os.path.join(card_dir, "manifest.json"), "w", encoding="utf-8") as f:
            f.write(text)
        files = release_files(out, manifest, card_dir)
        files += [ReleaseFile(source, path) for export in exports for source, path in export_release_files(export)]
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
