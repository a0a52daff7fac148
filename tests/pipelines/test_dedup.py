"""`codepref dedup` end to end: Parquet in the pair schema, JSONL, a previous release."""

import json
import random
import subprocess
import sys

import datasets
import pyarrow.parquet as pq

from schemas.arrow import pair_schema
from schemas.records import PairRecord
from transforms.manifest import check_conservation
from transforms.sinks import write_shard


WORDS = [f"ident{i}" for i in range(30000)]


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "dedup", *args], capture_output=True, text=True, check=False
    )


def _pairs(n: int, seed: int) -> list[PairRecord]:
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        code = "\n".join(" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(20))
        prompt, half = f"Task {i}: write it.", code[: len(code) // 2]
        pairs.append(
            PairRecord(f"p{seed}-{i:03d}", prompt, code, half, "Go", "Readability and Maintainability", "test")
        )
    return pairs


def _write(path, pairs):
    write_shard(str(path), [p.to_row() for p in pairs], pair_schema())


def test_dedup_parquet_keeps_schema_and_records_duplicates(tmp_path):
    pairs = _pairs(40, 0)
    copy = pairs[3]._replace(idx="zz-copy")
    near = pairs[4]._replace(idx="zz-near", chosen=pairs[4].chosen.replace("\n", " x\n", 1))
    _write(tmp_path / "in-0.parquet", pairs[:20])
    _write(tmp_path / "in-1.parquet", [*pairs[20:], copy, near])
    out = tmp_path / "out"
    done = run("--input", str(tmp_path / "in-*.parquet"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert check_conservation(manifest) == []
    stages = {s["name"]: (s["in"], s["out"], s["rejected"]) for s in manifest["stages"]}
    assert stages["exact_dedup"] == (42, 41, {"exact_duplicate": 1})
    assert stages["near_dedup"] == (41, 40, {"near_duplicate": 1})
    ds = datasets.load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train")
    assert ds.num_rows == 40 and ds.features["language"].int2str(ds[0]["language"]) == "Go"
    kept = set(ds["idx"])
    near_pair = {pairs[4].idx, "zz-near"}  # the one with the smaller content hash is kept
    assert kept - near_pair == {p.idx for p in pairs} - near_pair and len(kept & near_pair) == 1
    rejects = {
        row["record_id"]: row
        for path in sorted((out / "rejects").glob("*/*.parquet"))
        for row in pq.read_table(path).to_pylist()
    }
    assert rejects["zz-copy"]["duplicate_of"] == pairs[3].idx
    (dropped,) = near_pair - kept
    assert rejects[dropped]["reason"] == "near_duplicate"
    assert rejects[dropped]["duplicate_of"] == (near_pair & kept).pop()
    assert json.loads(rejects[dropped]["payload"])["idx"] == dropped


def test_dedup_against_a_previous_release_and_jsonl(tmp_path):
    old, new = _pairs(10, 1), _pairs(10, 2)
    _write(tmp_path / "old.parquet", old)
    lines = [json.dumps({"idx": p.idx, "input": p.input, "chosen": p.chosen, "rejected": p.rejected}) for p in new]
    lines.append(
        json.dumps({"idx": "again", "input": old[0].input, "chosen": old[0].chosen, "rejected": old[0].rejected})
    )
    lines.append("{not json")
    lines.append(json.dumps({"idx": "nochosen", "input": "x"}))
    (tmp_path / "new.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    done = run("--input", str(tmp_path / "new.jsonl"), "--previous", str(tmp_path / "old.parquet"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    stages = {s["name"]: (s["in"], s["out"], s["rejected"]) for s in manifest["stages"]}
    assert stages["read_rows"] == (13, 11, {"malformed_json": 1, "missing_column": 1})
    assert stages["near_dedup"] == (11, 10, {"in_previous_release": 1})
    table = pq.read_table(out / "data" / "train-00000-of-00001.parquet")
    assert sorted(table.column("idx").to_pylist()) == sorted(p.idx for p in new)


def test_dedup_usage_errors(tmp_path):
    _write(tmp_path / "in.parquet", _pairs(2, 3))
    bad = run("--input", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "o"), "--columns", "prompt")
    assert bad.returncode == 2 and "'prompt' is not a column" in bad.stderr
    bad = run("--input", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "o"), "--threshold", "1.5")
    assert bad.returncode == 2 and "threshold" in bad.stderr
    bad = run("--input", str(tmp_path / "nothing*.parquet"), "--out", str(tmp_path / "o"))
    assert bad.returncode == 2 and "matched no file" in bad.stderr
