import os

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
    assert meta.message == "Fix it\n\nBody \\xff"  # shown, not kept: the byte is flagged
    assert "utf-8" in meta.message_problem


HEADER = b"tree " + b"1" * 40 + b"\nauthor A <a@x> 10 +0000\ncommitter C <c@x> 20 +0000\n"


@pytest.mark.parametrize(
    "encoding,body,message",
    [
        (b"", "Fix caf\xe9 menu\n".encode(), "Fix caf\xe9 menu"),
        (b"encoding ISO-8859-1\n", b"Fix caf\xe9 menu\n", "Fix caf\xe9 menu"),
        (b"encoding latin1\n", b"Fix caf\xe9 menu\n", "Fix caf\xe9 menu"),
        (b"encoding Shift_JIS\n", "\u4fee\u6b63 fix".encode("shift_jis"), "\u4fee\u6b63 fix"),
        (b"encoding UTF-8\n", "na\xefve fix".encode(), "na\xefve fix"),
    ],
)
def test_parse_commit_object_decodes_the_declared_encoding(encoding, body, message):
    meta = git.parse_commit_object("s", HEADER + encoding + b"\n" + body)
    assert (meta.message, meta.message_problem) == (message, "")


@pytest.mark.parametrize(
    "encoding,body",
    [
        (b"", b"Fix caf\xe9 menu"),  # Latin-1 bytes but no header: git means UTF-8
        (b"encoding UTF-8\n", b"lone surrogate \xed\xa0\x80"),
        (b"encoding no-such-charset\n", b"Fix it"),
        (b"encoding base64\n", b"Rml4IGl0"),  # a codec, but not a text encoding
        (b"encoding unicode_escape\n", b"Fix \\ud800"),  # decodes to a lone surrogate
    ],
)
def test_parse_commit_object_flags_an_undecodable_message(encoding, body):
    meta = git.parse_commit_object("s", HEADER + encoding + b"\n" + body)
    assert meta.message_problem
    meta.message.encode("utf-8")  # what is shown is valid UTF-8, so a reject can carry it
    meta.message_problem.encode("utf-8")


def test_parse_diff_tree_flags_a_path_that_is_not_utf8():
    out = b"a" * 40 + b"\0:100644 100644 " + b"1" * 40 + b" " + b"2" * 40 + b" M\0legacy/caf\xe9.py\0"
    out += b":100644 100644 " + b"3" * 40 + b" " + b"4" * 40 + b" R090\0ok.py\0caf\xe9.py\0"
    modified, renamed = git.parse_diff_tree(out)["a" * 40]
    assert (modified.old_path, modified.new_path, modified.paths_utf8) == (
        "legacy/caf\\xe9.py",
        "legacy/caf\\xe9.py",
        False,
    )
    assert (renamed.old_path, renamed.new_path, renamed.paths_utf8) == ("ok.py", "caf\\xe9.py", False)
    for path in (modified.old_path, modified.new_path, renamed.new_path):
        path.encode("utf-8")  # writable as it is


def test_changed_files_carries_awkward_utf8_paths_exactly(tmp_path):
    names = ['-rf "quoted"\tname\nwith newline.py', "na\xefve/\u65e5\u672c.py", "back\\slash.py", "-x.py"]
    h = GitHistory()
    h.commit("add", {n: "x = 1\n" for n in names})
    h.commit("change", {n: "x = 2\n" for n in names})
    repo = h.write(str(tmp_path / "r"), bare=True)
    changes = [c for cs in git.changed_files(repo, git.iter_commit_shas(repo)).values() for c in cs]
    assert len(changes) == 2 * len(names)
    assert {c.new_path for c in changes} == set(names)
    assert all(c.paths_utf8 and c.old_path == c.new_path for c in changes)


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


def test_repository_name_refuses_a_name_that_is_not_utf8(tmp_path):
    folder = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9")
    os.mkdir(folder)
    with pytest.raises(ValueError, match=r"folder name caf\\xe9 is not valid UTF-8"):
        git.repository_name(folder)
