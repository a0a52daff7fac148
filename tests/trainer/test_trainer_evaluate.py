"""Evaluator: strict accuracy (ties wrong), breakdowns, output files, prompt modes."""

import json
import os

import pyarrow.parquet as pq
import pytest

from schemas.principles import default_principles
from trainer.config import MODEL_PRINCIPLES_FILE, EvalConfig
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
    # the trained model's own texts (codepref's), read from the file train exported with it
    assert saved["principles"] == os.path.join(trained_run["summary"]["model_dir"], MODEL_PRINCIPLES_FILE)
    assert saved["principles_sha256"] == default_principles().sha256
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
        assert results["principles"] is None  # no file: codepref's own texts
        assert results["principles_sha256"] == default_principles().sha256
        with open(os.path.join(str(tmp_path / mode), "results.json"), encoding="utf-8") as handle:
            saved = json.load(handle)
        assert saved["principles"] is None and saved["principles_sha256"] == default_principles().sha256


def _zero_head_model(tiny_model_dir: str, folder: str) -> str:
    from transformers import AutoTokenizer

    from trainer.model import export_sequence_classifier, load_reward_model

    model = load_reward_model(tiny_model_dir, with_lm_head=False)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    return export_sequence_classifier(model.state_dict(), model.backbone.config, tokenizer, folder)


def test_evaluation_prompts_are_made_of_the_principle_texts(
    tiny_model_dir, bench_file, tmp_path, monkeypatch, principles_file
):
    import trainer.evaluate
    import trainer.tokenization
    from trainer.evaluate import evaluate
    from trainer.prompts import full_prompt, prompt_for_mode
    from transforms.system_prompt import aspect_prompt

    systems = []

    def recording(tokenizer, system, prompt, response, max_length):
        systems.append(system)
        return trainer.tokenization.encode_for_scoring(tokenizer, system, prompt, response, max_length)

    monkeypatch.setattr(trainer.evaluate, "encode_for_scoring", recording)
    model_dir = _zero_head_model(tiny_model_dir, str(tmp_path / "m"))
    aspects = [row["aspect"] for row in read_bench(bench_file, limit=10)]
    flag = str(tmp_path / "given.yaml")
    given = principles_file(flag, tag="given")

    def run(name, **kwargs):
        systems.clear()
        config = EvalConfig(model=model_dir, bench=bench_file, output=str(tmp_path / name), limit=10, **kwargs)
        results = evaluate(config)
        with open(os.path.join(str(tmp_path / name), "results.json"), encoding="utf-8") as handle:
            assert json.load(handle) == results
        return results

    results = run("given", principles=flag)  # prompt_mode aspect: base + the row's criterion, in the file's words
    assert systems == [aspect_prompt(aspect, given) for aspect in aspects for _ in ("chosen", "rejected")]
    assert {system.split("\n\n")[1] for system in systems} == {f"3. given text of {name}." for name in given.criteria}
    assert all(default_principles().base not in system for system in systems)
    assert results["principles"] == flag and results["principles_sha256"] == given.sha256
    run("given-full", principles=flag, prompt_mode="full")
    assert set(systems) == {full_prompt(given)} and full_prompt(given) != full_prompt()

    run("default")  # no file anywhere: codepref's own texts
    assert systems == [prompt_for_mode("aspect", aspect) for aspect in aspects for _ in ("chosen", "rejected")]

    trained_with = principles_file(os.path.join(model_dir, MODEL_PRINCIPLES_FILE), tag="trained")
    results = run("trained")  # the model's own file, when there is no --principles
    assert systems == [aspect_prompt(aspect, trained_with) for aspect in aspects for _ in ("chosen", "rejected")]
    assert results["principles"] == os.path.join(model_dir, MODEL_PRINCIPLES_FILE)
    assert results["principles_sha256"] == trained_with.sha256 != given.sha256
    results = run("flag-wins", principles=flag)
    assert systems == [aspect_prompt(aspect, given) for aspect in aspects for _ in ("chosen", "rejected")]
    assert results["principles"] == flag
