"""Evaluator: strict accuracy (ties wrong), breakdowns, output files, prompt modes."""

import json
import os

import pyarrow.parquet as pq
import pytest

from trainer.config import EvalConfig
from trainer.evaluate import read_bench, summarize


def _row(c, r, aspect="Functional_Correctness", language="Cpp", subset="A"):
    return {"chosen_score": c, "rejected_score": r, "aspect": aspect, "language": language, "subset": subset}


def test_summarize_counts_ties_as_wrong():
    rows = [
        _row(2.0, 1.0),
        _row(1.0, 1.0),  # tie -> wrong
        _row(0.0, 3.0, aspect="Memory_Efficiency", language="CSharp", subset="B"),
        _row(5.0, 1.0, aspect="Memory_Efficiency", language="CSharp", subset="B"),
    ]
    results = summarize(rows)
    assert results["total"] == 4 and results["correct"] == 2 and results["accuracy"] == 0.5
    assert [r["correct"] for r in rows] == [True, False, False, True]
    assert results["mean_score_diff"] == pytest.approx((1 + 0 - 3 + 4) / 4)
    assert results["median_score_diff"] == pytest.approx(0.5)
    assert results["std_score_diff"] == pytest.approx(2.5)  # population std of [1, 0, -3, 4]
    assert results["by_aspect"]["Functional_Correctness"] == {"accuracy": 0.5, "count": 2, "correct": 1}
    assert results["by_language"]["CSharp"]["accuracy"] == 0.5
    assert set(results["by_subset"]) == {"A", "B"}


def test_read_bench_jsonl_and_validation(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(
        json.dumps({"prompt": "p", "chosen": "a", "rejected": "b", "id": "x1"})
        + "\n\n"
        + json.dumps({"prompt": "q", "chosen": "c", "rejected": "d"})
        + "\n"
    )
    rows = read_bench(str(path))
    assert [r["id"] for r in rows] == ["x1", "1"] and rows[0]["aspect"] is None
    assert len(read_bench(str(path), limit=1)) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "p", "chosen": "a"}) + "\n")
    with pytest.raises(ValueError, match="rejected"):
        read_bench(str(bad))


def test_evaluate_trained_model_writes_both_files(trained_run, bench_file, tmp_path):
    from trainer.evaluate import evaluate

    out = str(tmp_path / "eval")
    results = evaluate(
        EvalConfig(model=trained_run["summary"]["model_dir"], bench=bench_file, output=out, batch_size=7)
    )
    assert results["total"] == 48 and results["accuracy"] > 0.9
    with open(os.path.join(out, "results.json"), encoding="utf-8") as handle:
        saved = json.load(handle)
    for key in ("accuracy", "total", "correct", "mean_score_diff", "median_score_diff", "std_score_diff"):
        assert key in saved
    assert set(saved["by_aspect"]) == {
        "Functional_Correctness",
        "Memory_Efficiency",
        "Readability_Maintainability",
        "Runtime_Efficiency",
        "Security_Hardness",
    }
    assert sum(v["count"] for v in saved["by_language"].values()) == 48
    assert saved["by_subset"]["SYNTH_A"]["count"] == 24
    table = pq.read_table(os.path.join(out, "scores.parquet"))
    assert table.column_names == [
        "id",
        "chosen_score",
        "rejected_score",
        "correct",
        "score_diff",
        "language",
        "aspect",
        "subset",
    ]
    assert table.num_rows == 48 and sum(table.column("correct").to_pylist()) == results["correct"]


def test_untrained_model_ties_everything(tiny_model_dir, bench_file, tmp_path):
    from transformers import AutoTokenizer

    from trainer.evaluate import evaluate
    from trainer.model import export_sequence_classifier, load_reward_model

    model = load_reward_model(tiny_model_dir, with_lm_head=False)  # zero head: every score is 0
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model_dir = export_sequence_classifier(model.state_dict(), model.backbone.config, tokenizer, str(tmp_path / "m"))
    for mode in ("none", "full", "aspect"):
        results = evaluate(
            EvalConfig(model=model_dir, bench=bench_file, output=str(tmp_path / mode), prompt_mode=mode, limit=10)
        )
        assert results["total"] == 10 and results["correct"] == 0 and results["accuracy"] == 0.0
        assert results["prompt_mode"] == mode
