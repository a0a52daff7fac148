import pytest

from schemas.config import MineConfig
from transforms import commit_filters as cf
from transforms.licenses import PERMISSIVE_LICENSES
from transforms.sources.git import Change


CFG = MineConfig(licenses=PERMISSIVE_LICENSES, max_file_bytes=100)


def meta(**kw):
    args = {"repos": ["acme/x"], "license": "mit", "unix_time": 1_000, "message": "Fix bug in the parser loop"}
    args.update(kw)
    return cf.metadata_reject(cfg=kw.pop("cfg", CFG), **args)


@pytest.mark.parametrize(
    "message,reason",
    [
        ("", "message_too_short"),
        ("x" * 10, "message_too_short"),
        ("x" * 11, None),
        ("x" * 15000, "message_too_long"),
        ("x" * 14999, None),
        ("Initial commit", "message_blocklisted"),
        ("  Work In Progress\n", "message_blocklisted"),
        ("Merge branch 'dev' into main", "message_pattern"),
        ("merge pull request #12 from a/b", "message_pattern"),
        ("nightly pi push of sensor data", "message_pattern"),
        ("Bump version to 1.2.3", "message_pattern"),
        ("Fix bug where merge of two lists dropped items", None),
    ],
)
def test_message_reject(message, reason):
    got = cf.message_reject(message, CFG)
    assert (got[0] if got else None) == reason


def test_metadata_reject_checks_licence_allowlist_window_then_message():
    assert meta() is None
    assert meta(license="unknown")[0] == "license_unknown"
    assert meta(license="gpl-3.0")[0] == "license_not_permissive"
    assert meta(license="agpl-3.0")[0] == "license_not_permissive"
    allow = MineConfig(licenses=("mit",), allowlist=frozenset({"acme/y"}))
    assert cf.metadata_reject(repos=["acme/x", "fork/x"], license="mit", unix_time=1, message="x" * 20, cfg=allow)[
        0
    ] == ("repo_not_allowlisted")
    assert (
        cf.metadata_reject(repos=["fork/x", "acme/y"], license="mit", unix_time=1, message="x" * 20, cfg=allow) is None
    )
    window = MineConfig(licenses=("mit",), since=100, until=200)
    for t, ok in ((99, False), (100, True), (199, True), (200, False)):
        got = cf.metadata_reject(repos=["a"], license="mit", unix_time=t, message="x" * 20, cfg=window)
        assert (got is None) == ok, t
    # licence is checked before the message
    assert meta(license="unknown", message="")[0] == "license_unknown"


def change(status="M", old_mode="100644", new_mode="100644", path="a.py", new_path=None):
    return Change(old_mode, new_mode, "1" * 40, "2" * 40, status, path, new_path or path)


@pytest.mark.parametrize(
    "parents,changes,reason",
    [
        (1, [change()], None),
        (0, [change()], None),
        (2, [change()], "merge_commit"),
        (1, [], "no_file_change"),
        (1, [change(), change(path="b.py")], "multi_file"),
        (1, [change("A")], "added"),
        (1, [change("D")], "deleted"),
        (1, [change("R100", new_path="b.py")], "renamed"),
        (1, [change("C75", new_path="b.py")], "copied"),
        (1, [change("T")], "type_changed"),
        (1, [change(old_mode="120000", new_mode="120000")], "symlink"),
        (1, [change(old_mode="160000", new_mode="160000")], "submodule"),
        (1, [change(path="notes.txt")], "unsupported_language"),
    ],
)
def test_change_reject(parents, changes, reason):
    got = cf.change_reject(parents, changes)
    assert (got[0] if got else None) == reason


def test_change_reject_rejects_a_path_that_is_not_utf8_after_the_structural_checks():
    latin1 = Change("100644", "100644", "1" * 40, "2" * 40, "M", "caf\\xe9.py", "caf\\xe9.py", paths_utf8=False)
    assert cf.change_reject(1, [latin1]) == ("path_not_utf8", "caf\\xe9.py")
    assert cf.change_reject(1, [latin1._replace(status="A")]) == ("added", "caf\\xe9.py -> caf\\xe9.py")
    assert cf.change_reject(1, [latin1._replace(new_mode="120000")])[0] == "symlink"
    txt = latin1._replace(old_path="caf\\xe9.txt", new_path="caf\\xe9.txt")
    assert cf.change_reject(1, [txt])[0] == "path_not_utf8"  # the language comes from the path


def test_metadata_reject_rejects_an_undecodable_message_before_reading_it():
    assert meta(message_problem="not valid utf-8")[0] == "message_undecodable"
    assert meta(message_problem="not valid utf-8", message="")[0] == "message_undecodable"
    assert meta(message_problem="not valid utf-8", license="unknown")[0] == "license_unknown"
    assert meta(message_problem="") is None


@pytest.mark.parametrize(
    "old,new,reason",
    [
        (b"a = 1\n", b"a = 2\n", None),
        (b"a" * 101, b"a = 2\n", "too_large"),
        (b"a = 1\n", b"\x00\x01", "binary"),
        (b"caf\xe9 = 1\n", b"a = 2\n", "not_utf8"),
        (b"", b"a = 2\n", "empty_contents"),
        (b"  \n", b"a = 2\n", "empty_contents"),
        (b"a = 1\n", b"a  =  1\n\n", "whitespace_only"),
    ],
)
def test_decode_contents(old, new, reason):
    got = cf.decode_contents(old, new, CFG)
    if reason is None:
        assert got == cf.Contents(old.decode(), new.decode())
    else:
        assert got[0] == reason


def test_record_id_is_stable_and_part_sensitive():
    assert cf.record_id("a", "b") == cf.record_id("a", "b")
    assert cf.record_id("a", "b") != cf.record_id("ab", "")
    assert len(cf.record_id("x")) == 16


def test_config_validation_and_id():
    with pytest.raises(ValueError):
        MineConfig(licenses=())
    with pytest.raises(ValueError):
        MineConfig(licenses=("mit",), since=5, until=5)
    assert MineConfig(licenses=("mit",)).id == MineConfig(licenses=("mit",)).id
    assert MineConfig(licenses=("mit",)).id != MineConfig(licenses=("mit",), max_file_bytes=5).id
