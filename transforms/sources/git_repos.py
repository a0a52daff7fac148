r"""Mine single-file commits from local git repositories (bare or with a work tree).

`MineGitRepositories` takes a PCollection of repository paths. Per repository it
detects the licence and streams `git rev-list` into batches of commit shas, which
are reshuffled so the commits of one large repository are mined in parallel; no
worker walks a whole history before emitting. Each batch is mined through one
`git cat-file --batch` and one `git diff-tree --stdin` process.

Outputs (`transforms.manifest.StageOutputs`, one report, stage `mine_git`):
    main: `CommitRecord` (criteria empty) for each kept commit.
    rejected: `RejectRecord` with a reason of `transforms.commit_filters`,
        `git_error` when git fails on a commit or repository, or
        `repo_name_not_utf8` (one per repository, which is not listed) when the
        repository's name (its origin URL, else its folder) is not valid UTF-8.
        Details show undecodable bytes as `\xNN` escapes.
    reports: the stage's `StageReport`, whose `scanned` ints sum to the
        number of commits listed (plus one per repository that could not be
        listed), the stage's `in`.

Counters (namespace `codepref.mine_git`): `in`, `out`, `rejected:<reason>`.
"""

__all__ = ["STAGE", "MineGitRepositories", "mine_commit_batch"]

import dataclasses
from collections.abc import Iterator
from typing import NamedTuple

import apache_beam as beam

from schemas.config import MineConfig
from schemas.labels import language_for_path
from schemas.records import CommitRecord, RejectRecord
from transforms import commit_filters as cf
from transforms.licenses import repository_license
from transforms.manifest import StageOutputs, StageReport
from transforms.metrics import TAG_MAIN, TAG_REJECTED, Progress, beam_counter, route
from transforms.sources.git import (
    Change,
    CommitMeta,
    GitError,
    ObjectReader,
    changed_files,
    iter_commit_shas,
    parse_commit_object,
    printable,
    repository_name,
)


STAGE = "mine_git"
GIT_ERROR = "git_error"
REPO_NAME_NOT_UTF8 = "repo_name_not_utf8"
TAG_SCANNED = "scanned"
TAG_BATCHES = "batches"


class CommitBatch(NamedTuple):
    """A slice of one repository's history: the unit of parallel mining."""

    path: str
    name: str
    license: str
    shas: tuple[str, ...]


def _reject(batch: CommitBatch, sha: str, reason: str, detail: str, subject: str = "") -> RejectRecord:
    payload = {"repos": batch.name, "commit": sha, "subject": subject}
    return RejectRecord.make(STAGE, reason, sha, detail, payload)


def mine_commit_batch(batch: CommitBatch, cfg: MineConfig) -> Iterator[CommitRecord | RejectRecord]:
    """Mines one batch: yields exactly one record or reject per sha, in order.

    Raises:
        GitError: git could not be started in the repository.
    """
    kept: dict[str, tuple[CommitMeta, str]] = {}
    with ObjectReader(batch.path) as reader:
        for sha in batch.shas:
            obj = reader.read(sha)
            if obj is None or obj[0] != "commit" or obj[2] is None:
                yield _reject(batch, sha, GIT_ERROR, "commit object missing")
                continue
            meta = parse_commit_object(sha, obj[2])
            subject = meta.message.split("\n", 1)[0]
            problem = cf.metadata_reject(
                repos=[batch.name],
                license=batch.license,
                unix_time=meta.committer_time,
                message=meta.message,
                cfg=cfg,
                message_problem=meta.message_problem,
            )
            if not problem and len(meta.parents) > 1:
                problem = cf.MERGE_COMMIT, f"{len(meta.parents)} parents"
            if problem:
                yield _reject(batch, sha, *problem, subject=subject)
            else:
                kept[sha] = (meta, subject)
        try:
            changes = changed_files(batch.path, kept) if kept else {}
        except GitError as exc:
            for sha, (_, subject) in kept.items():
                yield _reject(batch, sha, GIT_ERROR, str(exc), subject)
            return
        for sha, (meta, subject) in kept.items():
            yield _mine_one(reader, batch, meta, subject, changes.get(sha, []), cfg)


def _mine_one(
    reader: ObjectReader,
    batch: CommitBatch,
    meta: CommitMeta,
    subject: str,
    changes: list[Change],
    cfg: MineConfig,
) -> CommitRecord | RejectRecord:
    problem = cf.change_reject(len(meta.parents), changes)
    if problem:
        return _reject(batch, meta.sha, *problem, subject=subject)
    change = changes[0]
    old = reader.read(change.old_sha, cfg.max_file_bytes)
    new = reader.read(change.new_sha, cfg.max_file_bytes)
    if old is None or new is None:
        return _reject(batch, meta.sha, GIT_ERROR, "blob missing (shallow or partial clone?)", subject)
    if old[2] is None or new[2] is None:
        size = max(old[1], new[1])
        return _reject(batch, meta.sha, cf.TOO_LARGE, f"{size} bytes > {cfg.max_file_bytes}", subject)
    decoded = cf.decode_contents(old[2], new[2], cfg)
    if not isinstance(decoded, cf.Contents):
        return _reject(batch, meta.sha, *decoded, subject=subject)
    return CommitRecord(
        commit=meta.sha,
        subject=subject,
        message=meta.message,
        repos=batch.name,
        file_path=change.new_path,
        license=batch.license,
        unix_time=meta.committer_time,
        old_contents=decoded.old,
        new_contents=decoded.new,
        language=language_for_path(change.new_path) or "",
    )


class _ListCommitBatchesFn(beam.DoFn):
    """Streams a repository's history into `CommitBatch`es."""

    def __init__(self, batch_size: int) -> None:
        self._batch_size = batch_size

    def process(self, path: str):
        try:
            name = repository_name(path)
        except ValueError as exc:  # no row could carry its name: reject it whole, as an unlistable one
            yield beam.pvalue.TaggedOutput(TAG_SCANNED, 1)
            where = printable(path)
            reject = RejectRecord.make(STAGE, REPO_NAME_NOT_UTF8, where, str(exc), {"path": where})
            yield beam.pvalue.TaggedOutput(TAG_REJECTED, reject)
            return
        license = repository_license(path)
        batch: list[str] = []
        try:
            for sha in iter_commit_shas(path):
                batch.append(sha)
                if len(batch) >= self._batch_size:
                    yield CommitBatch(path, name, license, tuple(batch))
                    batch = []
        except GitError as exc:
            yield beam.pvalue.TaggedOutput(TAG_SCANNED, 1)
            reject = RejectRecord.make(STAGE, GIT_ERROR, name, f"listing {printable(path)}: {exc}", {"repos": name})
            yield beam.pvalue.TaggedOutput(TAG_REJECTED, reject)
        if batch:
            yield CommitBatch(path, name, license, tuple(batch))


class _MineCommitBatchFn(beam.DoFn):
    """Adapts `mine_commit_batch` to Beam: tagged outputs, counters, progress."""

    def __init__(self, cfg: MineConfig) -> None:
        self._cfg = cfg

    def setup(self) -> None:
        self._count = beam_counter(STAGE)
        self._progress = Progress(STAGE, "commits")

    def process(self, batch: CommitBatch):
        self._count("in", len(batch.shas))
        yield beam.pvalue.TaggedOutput(TAG_SCANNED, len(batch.shas))
        done = 0
        items: list[CommitRecord | RejectRecord] = []
        try:
            # Mine the whole batch before yielding: downstream stages run fused inside
            # `yield`, and one that forks (a subprocess-isolated parser) would inherit
            # the open `git cat-file` pipe and keep git from ever seeing EOF.
            items = list(mine_commit_batch(batch, self._cfg))
        except GitError as exc:
            failure = exc
        else:
            failure = None
        for item in items:
            done += 1
            yield route(item, self._count)
        if failure is not None:
            for sha in batch.shas[done:]:
                self._count(f"rejected:{GIT_ERROR}", 1)
                yield beam.pvalue.TaggedOutput(TAG_REJECTED, _reject(batch, sha, GIT_ERROR, str(failure)))
        self._progress.tick(len(batch.shas), sum(isinstance(i, CommitRecord) for i in items))


@dataclasses.dataclass
class MineGitRepositories(beam.PTransform):
    """Mines single-file commits from repository paths; see the module docstring.

    Attributes:
        cfg: what to keep.
    """

    cfg: MineConfig

    def expand(self, paths: beam.PCollection[str]):  # returns StageOutputs
        listed = paths | "ListCommitBatches" >> beam.ParDo(_ListCommitBatchesFn(self.cfg.batch_size)).with_outputs(
            TAG_SCANNED, TAG_REJECTED, main=TAG_BATCHES
        )
        mined = (
            listed[TAG_BATCHES]
            | "SpreadBatches" >> beam.Reshuffle()
            | "MineBatches"
            >> beam.ParDo(_MineCommitBatchFn(self.cfg)).with_outputs(TAG_SCANNED, TAG_REJECTED, main=TAG_MAIN)
        )
        rejected = (listed[TAG_REJECTED], mined[TAG_REJECTED]) | "MergeRejects" >> beam.Flatten()
        scanned = (listed[TAG_SCANNED], mined[TAG_SCANNED]) | "MergeScanned" >> beam.Flatten()
        commits = mined[TAG_MAIN]
        return StageOutputs(commits, rejected, (StageReport(STAGE, scanned, commits, rejected),))
