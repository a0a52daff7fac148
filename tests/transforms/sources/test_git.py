import pytest

from pipelines.git_history import GitHistory
from transforms.sources import git


def test_parse_diff_tree_handles_renames_and_empty_commits():
    out = (
        b"a" * 40 + b"\0:100644 100644 " + b"1" * 40 + b" " + b"2" * 40 + b" M\0x y.py\0"
        b":100644 100644 " + b"3" * 40 + b" " + b"3" * 40 + b" R100\0old.py\0new.py\0" + b"b" * 40 + b"\0"
    )
    parsed = git.parse_diff_tree(out)
    assert list(parsed) == ["a" * 40, "b" * 40]
    first, second = parsed["a" * 40]
    assert (first.status, first.old_path, first.new_path) == ("M", "x y.py", "x y.py")
    assert (second.status, second.old_path, second.new_path) == ("R100", "old.py", "new.py")
    assert parsed["b" * 40] == []


def test_parse_commit_object():
    raw = (
        b"tree " + b"1" * 40 + b"\nparent " + b"2" * 40 + b"\nparent " + b"3" * 40 + b"\n"
        b"author A <a@x> 10 +0000\ncommitter C <c@x> 1500000000 +0200\n\nFix it\n\nBody \xff\n"
    )
    meta = git.parse_commit_object("s", raw)
    assert meta.parents == ("2" * 40, "3" * 40)
    assert meta.committer_time == 1500000000
    assert meta.message == "Fix it\n\nBody \ufffd"


@pytest.fixture(scope="module")
def small_repo(tmp_path_factory):
    h = GitHistory()
    h.commit("one", {"a.py": "x = 1\n"})
    h.commit("two", {"a.py": "x = 2\n" * 100})
    h.commit("three", {"a.py": "x = 3\n"}, branch="dev", parent=1)
    return h.write(str(tmp_path_factory.mktemp("g") / "r"), origin="https://github.com/acme/widgets.git")


def test_iter_commit_shas_lists_all_branches(small_repo):
    shas = list(git.iter_commit_shas(small_repo))
    assert len(shas) == 3 and len(set(shas)) == 3


def test_repository_name_and_detection(small_repo, tmp_path):
    assert git.repository_name(small_repo) == "acme/widgets"
    assert git.is_git_repository(small_repo)
    assert not git.is_git_repository(str(tmp_path))
    (tmp_path / "sub").mkdir()
    assert git.repository_name(str(tmp_path / "sub")) == "sub"


def test_object_reader_limits_size(small_repo):
    shas = list(git.iter_commit_shas(small_repo))
    changes = git.changed_files(small_repo, shas)
    blob = next(c.new_sha for cs in changes.values() for c in cs if c.new_sha != "0" * 40)
    with git.ObjectReader(small_repo) as reader:
        kind, size, data = reader.read(blob)
        assert kind == "blob" and len(data) == size
        assert reader.read(blob, max_bytes=size - 1) == ("blob", size, None)
        assert reader.read("f" * 40) is None
        assert reader.read(blob)[2] == data  # the stream stays in sync after a skip


def test_run_git_raises_with_stderr(tmp_path):
    with pytest.raises(git.GitError, match="not a git repository|failed"):
        git.run_git(str(tmp_path), "log")
