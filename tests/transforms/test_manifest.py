import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from schemas.records import RejectRecord
from transforms.manifest import (
    StageReport,
    WriteManifest,
    assemble_manifest,
    check_conservation,
    check_flow,
    upstream,
)


def test_assemble_and_conservation():
    counts = [
        ("a", "in", 5),
        ("a", "out", 3),
        ("a", "rejected:x", 1),
        ("a", "rejected:y", 1),
        ("b", "in", 3),
        ("b", "out", 2),
    ]
    m = assemble_manifest(
        config_id="id",
        config={},
        stage_order=["a", "b", "c"],
        counts=counts,
        outputs={"train": [("/o/data/t-1.parquet", 1), ("/o/data/t-0.parquet", 1)]},
        rejects={},
        root="/o",
    )
    assert m["stages"][0] == {"name": "a", "in": 5, "out": 3, "rejected": {"x": 1, "y": 1}}
    assert m["stages"][2] == {"name": "c", "in": 0, "out": 0, "rejected": {}}
    assert m["outputs"]["train"] == {"rows": 2, "files": ["data/t-0.parquet", "data/t-1.parquet"]}
    assert check_conservation(m) == ["b: in 3 != out + rejected 2"]


def test_write_manifest_counts_the_data(tmp_path):
    with TestPipeline() as p:
        scanned = p | "S" >> beam.Create([2, 2])
        out = p | "O" >> beam.Create(["k1", "k2", "k3"])
        rej = p | "R" >> beam.Create([RejectRecord.make("st", "bad", "r1")])
        written = p | "W" >> beam.Create([(str(tmp_path / "data" / "train-00000-of-00001.parquet"), 3)])
        _ = p | WriteManifest(
            str(tmp_path),
            "cid",
            {"k": 1},
            [StageReport("st", scanned, out, rej)],
            {"train": written},
            {"01_st": p | "E" >> beam.Create([])},
        )
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["config_id"] == "cid"
    assert m["stages"] == [{"name": "st", "in": 4, "out": 3, "rejected": {"bad": 1}}]
    assert m["outputs"] == {"train": {"rows": 3, "files": ["data/train-00000-of-00001.parquet"]}}
    assert m["rejects"] == {"01_st": {"rows": 0, "files": []}}
    assert check_conservation(m) == []


def test_the_manifest_removes_a_previous_runs_shards_it_does_not_list(tmp_path):
    previous = [
        "data/train-00000-of-00003.parquet",
        "data/train-00001-of-00003.parquet",
        "data/train-00000-of-00001.parquet",  # rewritten by this run: listed, stays
        "data/.tmp-train-00002-of-00003.0123456789abcdef0123456789abcdef.partial",  # a killed attempt
        "data/validation-00000-of-00001.parquet",  # a split this run does not write: untouched
        "data/notes.txt",
        "rejects/01_st/rejects-00000-of-00002.parquet",
        "rejects/01_st/rejects-00001-of-00002.parquet",
        "rejects/01_st/README.md",
        "rejects/07_other/rejects-00000-of-00001.parquet",  # a folder this run does not write: untouched
    ]
    for name in previous:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"old")
    with TestPipeline() as p:
        scanned = p | "S" >> beam.Create([1])
        out = p | "O" >> beam.Create(["k1"])
        written = p | "W" >> beam.Create([(str(tmp_path / "data" / "train-00000-of-00001.parquet"), 1)])
        _ = p | WriteManifest(
            str(tmp_path),
            "cid",
            {},
            [StageReport("st", scanned, out, p | "R" >> beam.Create([]))],
            {"train": written},
            {"01_st": p | "E" >> beam.Create([])},
        )
    left = sorted(str(f.relative_to(tmp_path)) for f in tmp_path.rglob("*") if f.is_file())
    assert left == [
        "data/notes.txt",
        "data/train-00000-of-00001.parquet",
        "data/validation-00000-of-00001.parquet",
        "manifest.json",
        "rejects/01_st/README.md",
        "rejects/07_other/rejects-00000-of-00001.parquet",
    ]


def chained():
    """A manifest with a source, a fan-in, a stage made from another's rows, and a last stage."""
    stage = lambda name, n_in, out, **rejected: {"name": name, "in": n_in, "out": out, "rejected": rejected}  # noqa: E731
    return {
        "stages": [
            stage("read_a", 5, 4, bad=1),
            stage("read_b", 3, 3),
            stage("pairs_of_b", 3, 2, unpaired=1),
            stage("filter", 6, 5, too_long=1),
            stage("dedup", 5, 5),
        ],
        "flow": {
            "read_a": {"rows_from": [], "made_from": []},
            "read_b": {"rows_from": [], "made_from": []},
            "pairs_of_b": {"rows_from": [], "made_from": ["read_b"]},
            "filter": {"rows_from": ["read_a"], "made_from": ["pairs_of_b"]},
            "dedup": {"rows_from": ["filter"], "made_from": []},
        },
        "outputs": {"train": {"rows": 4, "files": []}, "validation": {"rows": 1, "files": []}},
        "rejects": {
            f"{i:02d}_{n}": {"rows": 0, "files": []}
            for i, n in enumerate(["read_a", "read_b", "pairs_of_b", "filter", "dedup"], start=1)
        },
    }


def test_check_flow_follows_the_chain():
    assert check_flow(chained()) == []
    m = chained()
    m["stages"][4]["in"] = 4  # dedup does not read what filter passed
    assert check_flow(m) == ["dedup: in 4 != out of filter 5"]
    m = chained()
    m["stages"][3]["in"] = 4  # filter read no more than read_a passed, though pairs_of_b passed 2 to make pairs from
    assert check_flow(m) == ["filter: in 4, but pairs_of_b passed 2 rows to make more from, beside the 4 of read_a"]
    m = chained()
    m["stages"][2].update({"out": 0, "rejected": {"unpaired": 3}})  # then filter reads read_a's rows only
    assert check_flow(m) == ["filter: in 6 != out of read_a 4"]
    m = chained()
    m["outputs"]["validation"]["rows"] = 0
    assert check_flow(m) == ["the outputs hold 4 rows, but the last stage, dedup, passed 5"]


def test_check_flow_finds_removed_reordered_and_unknown_stages():
    m = chained()
    del m["stages"][1]
    assert check_flow(m) == ["stage read_b of the pipeline's graph is not in the stages (removed?)"]
    m = chained()
    m["stages"][0], m["stages"][1] = m["stages"][1], m["stages"][0]
    assert (
        check_flow(m)[0].startswith("the stages (read_b, read_a, ")
        and "not in the pipeline's order" in check_flow(m)[0]
    )
    m = chained()
    m["flow"]["filter"]["rows_from"] = ["dedup"]
    assert check_flow(m) == ["filter reads from dedup, not an earlier stage"]
    m = chained()
    m["rejects"]["09_dedup"] = m["rejects"].pop("05_dedup")
    assert check_flow(m) == [
        "no reject folder 05_dedup for stage dedup",
        "reject folder 09_dedup is no stage's (stages: 01_read_a, 02_read_b, 03_pairs_of_b, 04_filter, 05_dedup)",
    ]
    m = chained()
    del m["flow"]
    assert "records no stage graph" in check_flow(m)[0]


def test_upstream_and_the_manifest_flow(tmp_path):
    def report(p, name, **links):
        label = name.capitalize()
        return StageReport(
            name,
            p | f"S{label}" >> beam.Create([1]),
            p | f"O{label}" >> beam.Create(["k"]),
            p | f"R{label}" >> beam.Create([]),
            **links,
        )

    with TestPipeline() as p:
        reports = [report(p, "a"), report(p, "b"), report(p, "c", made_from=("b",), expands=True)]
        assert upstream(reports) == {"rows_from": ("a",), "made_from": ("c",)}
        reports.append(report(p, "d", **upstream(reports)))
        rejects = {f"0{i}_{r.name}": p | f"E{i}" >> beam.Create([]) for i, r in enumerate(reports, start=1)}
        _ = p | WriteManifest(str(tmp_path), "cid", {}, reports, {}, rejects)
    flow = json.loads((tmp_path / "manifest.json").read_text())["flow"]
    assert flow == {
        "a": {"rows_from": [], "made_from": []},
        "b": {"rows_from": [], "made_from": []},
        "c": {"rows_from": [], "made_from": ["b"]},
        "d": {"rows_from": ["a"], "made_from": ["c"]},
    }


def test_a_stage_reading_from_no_earlier_stage_is_a_wiring_error():
    p = TestPipeline()
    scanned, out, rejected = p | "S" >> beam.Create([1]), p | "O" >> beam.Create([1]), p | "R" >> beam.Create([])
    reports = [StageReport("b", scanned, out, rejected, rows_from=("a",))]
    with pytest.raises(ValueError, match="stage b reads from a, not an earlier stage"):
        _ = p | WriteManifest("/nowhere", "cid", {}, reports, {}, {})
