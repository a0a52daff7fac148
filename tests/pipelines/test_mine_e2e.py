"""End to end: `codepref mine` on real git repositories and a commit file."""

import glob
import json
import os
import subprocess
import sys

import datasets
import pytest

from schemas.labels import ASPECTS, LANGUAGES
from transforms.manifest import check_conservation


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def codepref(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


@pytest.fixture(scope="module")
def commit_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("files") / "export.jsonl"
    good = {
        "commit": "f" * 40,
        "subject": "Reduce memory usage of the cache",
        "message": "Reduce memory usage of the cache",
        "repos": "acme/lib",
        "file_path": "lib/cache.rb",
        "license": "apache-2.0",
        "unix_time": 1_550_000_000,
        "old_contents": "CACHE = {}\n",
        "new_contents": "CACHE = ObjectSpace::WeakMap.new\n",
    }
    path.write_text(json.dumps(good) + "\n{broken\n")
    return str(path)


@pytest.fixture(scope="module")
def mined(hostile_repo, unlicensed_repo, commit_file, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("run") / "out")
    args = [
        "mine",
        "--repo",
        hostile_repo[0],
        "--repo",
        unlicensed_repo,
        "--commits-file",
        commit_file,
        "--out",
        out,
        "--batch-size",
        "5",
    ]
    done = codepref(*args)
    assert done.returncode == 0, done.stderr
    return out, args, done


def test_rows_and_class_labels(mined, hostile_repo):
    out, _, done = mined
    assert done.stdout.strip().endswith(out)
    files = sorted(glob.glob(os.path.join(out, "data", "train-*-of-*.parquet")))
    assert files
    ds = datasets.load_dataset("parquet", data_files=files, split="train")
    expected = hostile_repo[1]
    assert ds.num_rows == sum(v == "kept" for v in expected.values()) + 1
    assert ds.features["language"].names == list(LANGUAGES)
    assert ds.features["criteria"].feature.names == list(ASPECTS)
    languages = {ds.features["language"].int2str(i) for i in ds["language"]}
    assert languages == {"C", "C#", "C++", "Go", "Java", "JavaScript", "Python", "Ruby"}
    assert all(row["criteria"] for row in ds)
    ruby = [r for r in ds if r["commit"] == "f" * 40][0]
    assert ruby["criteria"] == [ASPECTS.index("Memory Efficiency")]
    assert {r["license"] for r in ds} == {"mit", "apache-2.0"}


def test_manifest_conserves_and_counts_every_reason(mined, hostile_repo):
    out, _, _ = mined
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    assert check_conservation(manifest) == []
    stages = {s["name"]: s for s in manifest["stages"]}
    assert list(stages) == [
        "mine_git",
        "read_commit_files",
        "tag_criteria",
        "content_exact_dedup",
        "content_near_dedup",
    ]
    assert stages["content_exact_dedup"]["in"] == stages["tag_criteria"]["out"]
    expected = hostile_repo[1]
    git = stages["mine_git"]
    assert git["in"] == len(expected) + 2
    for reason in (
        "binary",
        "not_utf8",
        "renamed",
        "multi_file",
        "merge_commit",
        "message_too_short",
        "too_large",
        "deleted",
        "symlink",
        "submodule",
        "added",
        "unsupported_language",
        "message_pattern",
    ):
        assert git["rejected"][reason] == sum(v == reason for v in expected.values()), reason
    assert git["rejected"]["license_unknown"] == 2
    assert stages["read_commit_files"] == {
        "name": "read_commit_files",
        "in": 2,
        "out": 1,
        "rejected": {"malformed_json": 1},
    }
    assert stages["tag_criteria"]["rejected"] == {"no_criterion": 1}
    assert manifest["outputs"]["train"]["rows"] == stages["content_near_dedup"]["out"]
    for folder, info in manifest["rejects"].items():
        if not info["rows"]:  # a stage with no rejects writes no file
            assert info["files"] == [] and not sum(stages[folder.split("_", 1)[1]]["rejected"].values())
            continue
        rows = datasets.load_dataset("parquet", data_files=[os.path.join(out, f) for f in info["files"]], split="train")
        assert rows.num_rows == info["rows"]
        stage = folder.split("_", 1)[1]
        assert rows.num_rows == sum(stages[stage]["rejected"].values())
        assert set(rows["stage"]) <= {stage}


def test_rerun_gives_identical_files(mined):
    out, args, _ = mined
    before = {p: read(p, "rb") for p in glob.glob(os.path.join(out, "**", "*.*"), recursive=True)}
    done = codepref(*args)
    assert done.returncode == 0, done.stderr
    after = {p: read(p, "rb") for p in glob.glob(os.path.join(out, "**", "*.*"), recursive=True)}
    assert before == after


def test_clear_errors(tmp_path, hostile_repo):
    missing = codepref("mine", "--repo", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    not_git = codepref("mine", "--repo", str(plain), "--out", str(tmp_path / "o"))
    assert not_git.returncode == 2 and "not a git repository" in not_git.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    unwritable = codepref("mine", "--repo", hostile_repo[0], "--out", str(blocker / "out"))
    assert unwritable.returncode == 2 and "cannot write there" in unwritable.stderr
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.tex").write_text("x")
    occupied = codepref("mine", "--repo", hostile_repo[0], "--out", str(busy))
    assert occupied.returncode == 2 and "not empty" in occupied.stderr
    no_match = codepref("mine", "--commits-file", str(tmp_path / "*.jsonl"), "--out", str(tmp_path / "o"))
    assert no_match.returncode == 2 and "matched no file" in no_match.stderr
    bad_date = codepref("mine", "--repo", hostile_repo[0], "--since", "March", "--out", str(tmp_path / "o"))
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr


def test_time_window_and_allowlist(hostile_repo, tmp_path):
    allow = tmp_path / "allow.json"
    allow.write_text('["someone/else"]')
    done = codepref("mine", "--repo", hostile_repo[0], "--allowlist", str(allow), "--out", str(tmp_path / "a"))
    assert done.returncode == 0, done.stderr
    stage = json.loads(read(tmp_path / "a" / "manifest.json"))["stages"][0]
    assert stage["out"] == 0 and stage["rejected"] == {"repo_not_allowlisted": stage["in"]}
    done = codepref("mine", "--repo", hostile_repo[0], "--until", "2017-07-14T12:00:00", "--out", str(tmp_path / "b"))
    assert done.returncode == 0, done.stderr
    stage = json.loads(read(tmp_path / "b" / "manifest.json"))["stages"][0]
    assert 0 < stage["rejected"]["outside_time_window"] < stage["in"]


def test_help_for_every_subcommand():
    for sub in ("mine", "demo"):
        done = codepref(sub, "--help")
        assert done.returncode == 0 and "usage: codepref " + sub in done.stdout


def test_commit_files_compressed_broken_and_out_of_range_keep_the_funnel_exact(tmp_path):
    import bz2
    import gzip

    from transforms.sources.commit_files import iter_rows

    def line(commit, **kw):
        row = {
            "commit": commit,
            "subject": "Reduce memory usage of the cache",
            "repos": "acme/lib",
            "message": "Reduce memory usage of the cache",
            "file_path": "lib/cache.rb",
            "license": "mit",
            "unix_time": 1_550_000_000,
            "old_contents": f"CACHE_{commit} = {{}}\n",
            "new_contents": f"CACHE_{commit} = ObjectSpace::WeakMap.new\n",
            **kw,
        }
        return (json.dumps(row) + "\n").encode()

    files = tmp_path / "files"
    files.mkdir()
    latin1 = line("c4", message="Reduce memory usage of the caf\u00e9 cache").replace(b"\\u00e9", b"\xe9")
    odd_times = line("c2", unix_time="1550000000") + line("c3", unix_time=10**30)
    (files / "a.jsonl.gz").write_bytes(gzip.compress(line("c1") + odd_times + latin1 + line("c5", unix_time=True)))
    (files / "b.jsonl.bz2").write_bytes(bz2.compress(line("c6")))
    (files / "c.jsonl.gz").write_bytes(line("c7"))  # not gzip at all
    whole = gzip.compress(b"".join(line(f"t{i}", license="gpl-3.0") for i in range(3000)))
    (files / "d.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    (files / "e.parquet.gz").write_bytes(gzip.compress(b"PAR1 not really"))
    cut = 0
    with pytest.raises(OSError, match="truncated"):
        for _ in iter_rows(str(files / "d.jsonl.gz")):
            cut += 1
    assert cut > 0
    out = tmp_path / "out"
    done = codepref("mine", "--commits-file", str(files / "*"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    manifest = json.loads(read(out / "manifest.json"))
    assert check_conservation(manifest) == []
    stage = next(s for s in manifest["stages"] if s["name"] == "read_commit_files")
    assert stage == {
        "name": "read_commit_files",
        "in": 5 + 1 + 1 + cut + 1 + 1,  # every row read, plus one for each file that could not be read on
        "out": 3,  # c1, c2 (BigQuery writes INT64 as text), c6
        "rejected": {"invalid_row": 2, "not_utf8": 1, "unreadable_file": 3, "license_not_permissive": cut},
    }
    rejects = datasets.load_dataset(
        "parquet", data_files=str(out / "rejects" / "01_read_commit_files" / "*.parquet"), split="train"
    )
    assert rejects.num_rows == sum(stage["rejected"].values())
    by_reason = {}
    for r in rejects:
        by_reason.setdefault(r["reason"], []).append(r)
    assert sorted(r["record_id"] for r in by_reason["invalid_row"]) == ["c3", "c5"]
    assert all("unix_time" in r["detail"] for r in by_reason["invalid_row"])
    assert "caf\\xe9 cache" in json.loads(by_reason["not_utf8"][0]["payload"])  # shown escaped, never replaced
    assert sorted(r["record_id"].rsplit("/", 1)[-1] for r in by_reason["unreadable_file"]) == [
        "c.jsonl.gz",
        "d.jsonl.gz",
        "e.parquet.gz",
    ]
    kept = datasets.load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train")
    assert sorted(kept["commit"]) == ["c1", "c2", "c6"] and 1_550_000_000 in kept["unix_time"]
