"""End to end: `codepref mine` on a history with non-UTF-8 file names and messages."""

import glob
import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from pipelines.git_history import GitHistory
from transforms.manifest import check_conservation


def codepref(*args):
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, check=False)


def read_rows(pattern):
    files = sorted(glob.glob(pattern))
    assert files, pattern
    return [row for f in files for row in pq.read_table(f).to_pylist()]


@pytest.fixture(scope="module")
def mined(non_utf8_repo, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("run") / "out")
    done = codepref("mine", "--repo", non_utf8_repo[0], "--out", out, "--batch-size", "3")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return out


def test_rows_and_rejects_are_written_and_read_back(mined, non_utf8_repo):
    expected = non_utf8_repo[1]
    rows = read_rows(os.path.join(mined, "data", "train-*.parquet"))
    assert {r["file_path"] for r in rows} == {'-rf "quoted"\tname\nwith newline.py', "menu.py"}
    assert {r["subject"] for r in rows} == {k for k, v in expected.items() if v == "kept"}
    rejects = read_rows(os.path.join(mined, "rejects", "01_mine_git", "rejects-*.parquet"))
    got = {json.loads(r["payload"])["subject"]: r["reason"] for r in rejects}
    assert got == {k: v for k, v in expected.items() if v != "kept"}
    details = {json.loads(r["payload"])["subject"]: r["detail"] for r in rejects}
    assert details["Fix bug in the legacy lookup table"] == "legacy/caf\\xe9.py"  # the Latin-1 byte as an escape
    assert details["Add the legacy lookup module"] == "legacy/caf\\xe9.py -> legacy/caf\\xe9.py"


def test_funnel_is_conserved(mined, non_utf8_repo):
    with open(os.path.join(mined, "manifest.json")) as f:
        manifest = json.load(f)
    assert check_conservation(manifest) == []
    git = manifest["stages"][0]
    assert git["name"] == "mine_git" and git["in"] == len(non_utf8_repo[1])
    assert git["rejected"]["path_not_utf8"] == 1 and git["rejected"]["message_undecodable"] == 1
    assert manifest["rejects"]["01_mine_git"]["rows"] == sum(git["rejected"].values())


def test_a_repository_path_that_is_not_utf8_is_a_clear_error(tmp_path):
    h = GitHistory()
    h.commit("Add the parser module here", {"a.py": "x = 1\n"})
    path = os.fsencode(str(tmp_path)) + b"/caf\xe9"
    h.write(os.fsdecode(path), bare=True)
    done = codepref("mine", "--repo", path, "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr.decode(errors="replace")
    assert b"not valid UTF-8" in done.stderr and b"Traceback" not in done.stderr
