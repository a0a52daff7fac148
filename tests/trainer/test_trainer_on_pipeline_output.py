"""The trainer consumes what the pipeline writes: `codepref mutate` shards → `codepref train` → `codepref eval`."""

import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.principles import load_principles


def codepref(*args):
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done


def test_train_and_eval_on_pipeline_shards(tiny_model_dir, tmp_path, principles_file):
    codepref("mutate", "--input", "pipelines/demo/instructions.jsonl", "--out", str(tmp_path / "pairs"))
    two_small_steps = ["--max-steps", "2", "--batch-size", "2", "--max-length", "256", "--save-steps", "0"]
    pairs_dir, rm_dir = str(tmp_path / "pairs"), str(tmp_path / "rm")
    texts = principles_file(tmp_path / "my-principles.yaml")
    principles = ["--principles", str(tmp_path / "my-principles.yaml")]
    codepref("train", "--data", pairs_dir, "--model", tiny_model_dir, "--output", rm_dir, *two_small_steps, *principles)
    model = tmp_path / "rm" / "model"
    assert (model / "config.json").exists()
    assert load_principles(str(model / "codepref_principles.yaml")) == texts  # the model keeps its texts
    rows = pq.read_table(next((tmp_path / "pairs" / "data").glob("*.parquet"))).to_pylist()[:4]
    bench = [
        {
            "prompt": r["input"],
            "chosen": r["chosen"],
            "rejected": r["rejected"],
            "language": "Python",
            "aspect": "Functional_Correctness",
            "subset": "BUGGED",
            "id": r["idx"],
        }
        for r in rows
    ]
    bench_path, eval_dir = tmp_path / "bench.parquet", tmp_path / "eval"
    pq.write_table(pa.Table.from_pylist(bench), bench_path)
    codepref(
        "eval", "--model", str(model), "--bench", str(bench_path), "--output", str(eval_dir), "--max-length", "256"
    )
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert results["total"] == 4 and 0.0 <= results["accuracy"] <= 1.0
    # no --principles: eval uses what the model was trained with
    assert results["principles"] == str(model / "codepref_principles.yaml")
    assert results["principles_sha256"] == texts.sha256
    assert (tmp_path / "eval" / "scores.parquet").exists()
