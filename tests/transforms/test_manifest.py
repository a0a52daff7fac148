import json

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

from schemas.records import RejectRecord
from transforms.manifest import StageReport, WriteManifest, assemble_manifest, check_conservation


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
