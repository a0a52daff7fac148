import json
import subprocess

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.git_history import GitHistory
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
        assert_that(out.main | beam.combiners.Count.Globally(), equal_to([n_kept]), label="CheckMain")
        reasons = out.rejected | beam.Map(lambda r: r.reason) | beam.combiners.Count.PerElement()
        want = {}
        for v in expected.values():
            if v not in ("kept", "no_criterion"):
                want[v] = want.get(v, 0) + 1
        want["license_unknown"] = 2
        want["git_error"] = 1  # the missing repository
        assert_that(reasons, equal_to(sorted(want.items())), label="CheckRejected")
        total = out.reports[0].scanned | beam.CombineGlobally(sum)
        assert_that(total, equal_to([len(expected) + 2 + 1]), label="CheckScanned")
        assert_that(
            out.rejected | beam.Map(lambda r: isinstance(r, RejectRecord) and r.stage == "mine_git"),
            equal_to([True] * sum(want.values())),
            label="CheckStage",
        )


def _writable(item):
    """Every text field of a record encodes as strict UTF-8, as the Parquet writer needs."""
    for value in item.to_row().values():
        if isinstance(value, str):
            value.encode("utf-8")
    return True


def test_non_utf8_names_and_messages_are_carried_or_rejected(non_utf8_repo):
    path, expected = non_utf8_repo
    shas = tuple(iter_commit_shas(path))
    items = list(mine_commit_batch(CommitBatch(path, "acme/legacy", "mit", shas), CFG))
    assert len(items) == len(shas) == len(expected)
    assert all(_writable(i) for i in items)
    assert {_subject(i): ("kept" if isinstance(i, CommitRecord) else i.reason) for i in items} == expected
    by_reason = {i.reason: i for i in items if isinstance(i, RejectRecord)}
    assert by_reason["path_not_utf8"].detail == "legacy/caf\\xe9.py"
    assert by_reason["added"].detail.encode("utf-8")
    assert by_reason["renamed"].detail == "legacy/caf\\xe9.py -> pkg/caf\\xe9.py"
    assert "utf-8" in by_reason["message_undecodable"].detail
    kept = {i.file_path: i for i in items if isinstance(i, CommitRecord)}
    assert set(kept) == {'-rf "quoted"\tname\nwith newline.py', "menu.py"}  # the odd path, exactly
    assert kept["menu.py"].message == "Fix bug in the caf\xe9 menu prices"  # Latin-1, re-encoded losslessly


def test_repository_whose_name_is_not_utf8_is_rejected(tmp_path):
    h = GitHistory()
    h.commit("Add the parser module here", {"a.py": "x = 1\n"})
    path = h.write(str(tmp_path / "r"), bare=True)
    subprocess.run(["git", "-C", path, "config", "remote.origin.url", b"git@example.com:caf\xe9/r.git"], check=True)
    with TestPipeline() as p:
        out = p | beam.Create([path]) | MineGitRepositories(CFG)
        assert_that(out.main, equal_to([]), label="CheckMain")
        rejects = out.rejected | beam.Map(lambda r: (r.reason, r.record_id, r.detail))
        detail = "the origin URL git@example.com:caf\\xe9/r.git is not valid UTF-8"
        assert_that(rejects, equal_to([("repo_name_not_utf8", path, detail)]), label="CheckRejected")
        assert_that(out.reports[0].scanned | beam.CombineGlobally(sum), equal_to([1]), label="CheckScanned")
