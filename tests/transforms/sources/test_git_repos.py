import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.config import MineConfig
from schemas.records import CommitRecord, RejectRecord
from transforms.licenses import PERMISSIVE_LICENSES
from transforms.sources.git import iter_commit_shas
from transforms.sources.git_repos import CommitBatch, MineGitRepositories, mine_commit_batch


CFG = MineConfig(licenses=PERMISSIVE_LICENSES, batch_size=7)


def _subject(item):
    if isinstance(item, CommitRecord):
        return item.subject
    return json.loads(item.payload)["subject"]


def test_mine_commit_batch_gives_each_commit_its_reason(hostile_repo):
    path, expected = hostile_repo
    shas = tuple(iter_commit_shas(path))
    items = list(mine_commit_batch(CommitBatch(path, "acme/hostile", "mit", shas), CFG))
    assert len(items) == len(shas)
    got = {_subject(i): ("kept" if isinstance(i, CommitRecord) else i.reason) for i in items}
    want = {k: ("kept" if v in ("kept", "no_criterion") else v) for k, v in expected.items()}
    assert got == want
    kept = [i for i in items if isinstance(i, CommitRecord)]
    languages = {k.language for k in kept}
    assert languages == {"C", "C#", "C++", "Go", "Java", "JavaScript", "Python", "Ruby"}
    for k in kept:
        assert k.repos == "acme/hostile" and k.license == "mit"
        assert k.old_contents != k.new_contents and k.unix_time > 1_500_000_000


def test_unlicensed_repository_rejects_every_commit(unlicensed_repo):
    shas = tuple(iter_commit_shas(unlicensed_repo))
    items = list(mine_commit_batch(CommitBatch(unlicensed_repo, "nolicense", "unknown", shas), CFG))
    assert [i.reason for i in items] == ["license_unknown"] * 2


def test_mine_git_repositories_pipeline(hostile_repo, unlicensed_repo, tmp_path):
    path, expected = hostile_repo
    n_kept = sum(v in ("kept", "no_criterion") for v in expected.values())
    with TestPipeline() as p:
        out = p | beam.Create([path, unlicensed_repo, str(tmp_path / "missing")]) | MineGitRepositories(CFG)
        assert_that(out.commits | beam.combiners.Count.Globally(), equal_to([n_kept]), label="CheckMain")
        reasons = out.rejected | beam.Map(lambda r: r.reason) | beam.combiners.Count.PerElement()
        want = {}
        for v in expected.values():
            if v not in ("kept", "no_criterion"):
                want[v] = want.get(v, 0) + 1
        want["license_unknown"] = 2
        want["git_error"] = 1  # the missing repository
        assert_that(reasons, equal_to(sorted(want.items())), label="CheckRejected")
        total = out.scanned | beam.CombineGlobally(sum)
        assert_that(total, equal_to([len(expected) + 2 + 1]), label="CheckScanned")
        assert_that(
            out.rejected | beam.Map(lambda r: isinstance(r, RejectRecord) and r.stage == "mine_git"),
            equal_to([True] * sum(want.values())),
            label="CheckStage",
        )
