"""`codepref eval` inputs (file, glob, CRB Hub-layout folder, Hub id) and the Themis results layout."""

import json
import math
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemas.principles import default_principles
from trainer.bench_inputs import BenchInputError, read_bench, resolve_bench, split_of
from trainer.evaluate import headline, summarize_themis


def _rows(prefix: str, n: int, aspect: str = "Functional_Correctness", language: str = "Cpp") -> list[dict]:
    return [
        {
            "prompt": f"{prefix} prompt {i}",
            "chosen": "good",
            "rejected": "bad",
            "language": language,
            "aspect": aspect,
            "subset": "SYNTH",
            "id": f"{prefix}_{i}",
            "extra": "not read",
        }
        for i in range(n)
    ]


def _write(path: str, rows: list[dict]) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.fixture
def crb_folder(tmp_path) -> str:
    """A tiny CRB in the Hub layout: the three configs, in three file layouts."""
    root = str(tmp_path / "Themis-CodeRewardBench")
    _write(os.path.join(root, "Full", "Full-00000-of-00001.parquet"), _rows("full", 5))
    aspect = os.path.join(root, "Stratified_Aspect", "data")
    _write(os.path.join(aspect, "Functional_Correctness-00000-of-00001.parquet"), _rows("fc", 3))
    _write(os.path.join(aspect, "Memory_Efficiency-00000-of-00001.parquet"), _rows("me", 2, aspect="Memory_Efficiency"))
    language = os.path.join(root, "Stratified_Language")
    _write(os.path.join(language, "Cpp", "0000.parquet"), _rows("cpp", 2))
    _write(os.path.join(language, "Python", "0000.parquet"), _rows("py", 3, language="Python"))
    os.makedirs(os.path.join(root, ".cache", "huggingface"))
    with open(os.path.join(root, "README.md"), "w", encoding="utf-8") as handle:
        handle.write("card\n")
    return root


def test_crb_folder_configs_and_splits(crb_folder):
    full = read_bench(crb_folder)  # default config: Full
    assert [r["id"] for r in full] == [f"full_{i}" for i in range(5)]
    assert set(full[0]) == {"prompt", "chosen", "rejected", "language", "aspect", "subset", "id"}
    by_aspect = read_bench(crb_folder, config="Stratified_Aspect")
    assert [r["id"] for r in by_aspect] == ["fc_0", "fc_1", "fc_2", "me_0", "me_1"]
    memory = read_bench(crb_folder, config="Stratified_Aspect", split="Memory_Efficiency")
    assert [r["id"] for r in memory] == ["me_0", "me_1"]
    python = read_bench(crb_folder, config="Stratified_Language", split="Python", limit=2)
    assert [r["id"] for r in python] == ["py_0", "py_1"]
    source = resolve_bench(crb_folder, config="Stratified_Language")
    assert source.config == "Stratified_Language" and len(source.files) == 2


def test_crb_folder_under_top_level_data(tmp_path):
    root = str(tmp_path / "snapshot")
    _write(os.path.join(root, "data", "Full", "Full-00000-of-00001.parquet"), _rows("full", 2))
    assert [r["id"] for r in read_bench(root)] == ["full_0", "full_1"]


def test_split_of_file_layouts(tmp_path):
    folder = str(tmp_path / "Stratified_Aspect")
    assert split_of(os.path.join(folder, "Runtime_Efficiency-00000-of-00002.parquet"), folder) == "Runtime_Efficiency"
    assert split_of(os.path.join(folder, "data", "Security_Hardness-00001-of-00002.parquet"), folder) == (
        "Security_Hardness"
    )
    assert split_of(os.path.join(folder, "Memory_Efficiency", "0000.parquet"), folder) == "Memory_Efficiency"


def test_config_and_split_errors_list_what_exists(crb_folder, tmp_path):
    with pytest.raises(BenchInputError, match="configs found: Full, Stratified_Aspect, Stratified_Language"):
        read_bench(crb_folder, config="Stratified_Subset")
    with pytest.raises(BenchInputError, match="splits found: Cpp, Python"):
        read_bench(crb_folder, config="Stratified_Language", split="Rust")
    empty = tmp_path / "empty"
    (empty / "notes").mkdir(parents=True)
    with pytest.raises(BenchInputError, match=r"no config subfolder.*Full/, Stratified_Aspect/"):
        read_bench(str(empty))
    single = _write(str(tmp_path / "one.parquet"), _rows("one", 1))
    with pytest.raises(BenchInputError, match="--config Full: applies to a CRB folder or a Hub id"):
        read_bench(single, config="Full")
    with pytest.raises(BenchInputError, match="--split Python: applies"):
        read_bench(single, split="Python")


def test_glob_over_two_files_streams_in_order_with_a_shared_limit(tmp_path):
    _write(str(tmp_path / "part-1.parquet"), _rows("b", 3))
    _write(str(tmp_path / "part-0.parquet"), _rows("a", 2))
    (tmp_path / "part-2.jsonl").write_text(json.dumps({"prompt": "p", "chosen": "c", "rejected": "r"}) + "\n")
    pattern = str(tmp_path / "part-*")
    rows = read_bench(pattern)
    assert [r["id"] for r in rows] == ["a_0", "a_1", "b_0", "b_1", "b_2", "5"]  # no id: its position
    assert rows[-1]["aspect"] is None
    assert [r["id"] for r in read_bench(pattern, limit=3)] == ["a_0", "a_1", "b_0"]
    with pytest.raises(BenchInputError, match="the glob matches no file"):
        read_bench(str(tmp_path / "nothing-*.parquet"))


def test_missing_local_file_is_not_taken_for_a_hub_id(tmp_path):
    with pytest.raises(BenchInputError, match="no such file or folder"):
        read_bench("out/crb.parquet")
    with pytest.raises(BenchInputError, match="no such file or folder"):
        read_bench(str(tmp_path / "missing"))


def test_hub_id_success_passes_config_and_split(monkeypatch):
    import datasets

    calls = []

    def fake_load_dataset(path, name=None, split=None):
        calls.append((path, name, split))
        return datasets.Dataset.from_list(_rows("hub", 4, language="CSharp"))

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    rows = read_bench("project-themis/Themis-CodeRewardBench", limit=3)
    assert calls == [("project-themis/Themis-CodeRewardBench", "Full", None)]
    assert [r["id"] for r in rows] == ["hub_0", "hub_1", "hub_2"] and "extra" not in rows[0]
    read_bench("owner/name", config="Stratified_Language", split="CSharp")
    assert calls[-1] == ("owner/name", "Stratified_Language", "CSharp")


def test_hub_id_dataset_dict_reads_every_split(monkeypatch):
    import datasets

    def fake_load_dataset(path, name=None, split=None):
        return datasets.DatasetDict(
            {
                "Cpp": datasets.Dataset.from_list(_rows("cpp", 1)),
                "Python": datasets.Dataset.from_list(_rows("py", 2, language="Python")),
            }
        )

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    rows = read_bench("owner/name", config="Stratified_Language")
    assert [r["id"] for r in rows] == ["cpp_0", "py_0", "py_1"]


def test_hub_id_offline_says_to_pass_a_local_copy(monkeypatch):
    import datasets

    def offline(path, name=None, split=None):
        raise ConnectionError("Couldn't reach 'owner/name' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(BenchInputError, match="could not load it from the Hugging Face Hub") as error:
        read_bench("owner/name")
    message = str(error.value)
    assert "ConnectionError" in message and "pass a local copy" in message and "config Full" in message
    assert isinstance(error.value.__cause__, ConnectionError)


def _scored(c, r, aspect, language, subset):
    return {"chosen_score": c, "rejected_score": r, "aspect": aspect, "language": language, "subset": subset}


def test_themis_layout_numbers_by_hand():
    rows = [
        _scored(2.0, 1.0, "Functional_Correctness", "Cpp", "A"),  # +1
        _scored(1.0, 1.0, "Functional_Correctness", "Cpp", "A"),  # 0: a tie is wrong
        _scored(0.0, 3.0, "Memory_Efficiency", "CSharp", "B"),  # -3
        _scored(5.0, 1.0, "Memory_Efficiency", "CSharp", "B"),  # +4
        _scored(3.0, 0.5, "Functional Correctness", "C++", "C"),  # +2.5, canonical spellings: the same groups
    ]
    results = summarize_themis(rows)
    assert set(results) == {"overall", "by_aspect", "by_language", "by_subset"}
    overall = results["overall"]
    assert overall["total_examples"] == 5 and overall["correct_predictions"] == 3
    assert overall["accuracy"] == pytest.approx(0.6)
    assert overall["mean_score_difference"] == pytest.approx(0.9)  # 4.5 / 5
    assert overall["median_score_difference"] == pytest.approx(1.0)
    # sample std: squared deviations from 0.9 sum to 28.2, over n - 1 = 4
    assert overall["std_score_difference"] == pytest.approx(math.sqrt(28.2 / 4))
    assert set(results["by_aspect"]) == {"Functional_Correctness", "Memory_Efficiency"}  # CRB's spellings
    fc = results["by_aspect"]["Functional_Correctness"]
    assert fc["count"] == fc["total_examples"] == 3 and fc["correct_predictions"] == 2
    assert fc["mean_score_difference"] == pytest.approx(3.5 / 3)
    assert fc["std_score_difference"] == pytest.approx(math.sqrt((1 / 36 + 49 / 36 + 64 / 36) / 2))
    memory = results["by_aspect"]["Memory_Efficiency"]
    assert memory["accuracy"] == 0.5 and memory["std_score_difference"] == pytest.approx(math.sqrt(24.5))
    assert set(results["by_language"]) == {"Cpp", "CSharp"} and results["by_language"]["Cpp"]["count"] == 3
    assert results["by_subset"]["C"]["count"] == 1 and results["by_subset"]["C"]["std_score_difference"] is None
    assert [r["correct"] for r in rows] == [True, False, False, True, True]
    assert json.loads(json.dumps(results)) == results  # plain JSON, no NaN
    assert headline(results) == {"accuracy": pytest.approx(0.6), "total": 5, "correct": 3}


def test_themis_layout_groups_by_meaning_and_keys_by_crb_spelling():
    rows = [
        _scored(1.0, 0.0, "Runtime Efficiency", "C#", "A"),
        _scored(1.0, 0.0, "Runtime_Efficiency", "CSharp", "A"),
        _scored(0.0, 1.0, "Readability and Maintainability", "C++", "A"),
        _scored(0.0, 1.0, "Readability_Maintainability", "Cpp", "A"),
        _scored(1.0, 0.0, "Security Hardness", "Python", "A"),
    ]
    results = summarize_themis(rows)
    assert {name: group["count"] for name, group in results["by_aspect"].items()} == {
        "Runtime_Efficiency": 2,
        "Readability_Maintainability": 2,
        "Security_Hardness": 1,
    }
    assert {name: group["count"] for name, group in results["by_language"].items()} == {
        "CSharp": 2,
        "Cpp": 2,
        "Python": 1,
    }
    assert results["by_aspect"]["Runtime_Efficiency"]["accuracy"] == 1.0
    assert results["by_language"]["Cpp"]["accuracy"] == 0.0


def test_themis_layout_keeps_unknown_names_and_empty_input():
    results = summarize_themis([_scored(1.0, 0.0, None, "Kotlin", "A")])
    assert set(results["by_aspect"]) == {"None"} and set(results["by_language"]) == {"Kotlin"}
    empty = summarize_themis([])["overall"]
    assert empty["total_examples"] == 0 and empty["accuracy"] == 0.0 and empty["mean_score_difference"] is None


def test_cli_eval_crb_folder_themis_format(tiny_model_dir, crb_folder, tmp_path, capsys):
    from transformers import AutoTokenizer

    from trainer.cli import main
    from trainer.model import export_sequence_classifier, load_reward_model

    model = load_reward_model(tiny_model_dir, with_lm_head=False)  # zero head: every pair ties
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model_dir = export_sequence_classifier(model.state_dict(), model.backbone.config, tokenizer, str(tmp_path / "m"))
    out = tmp_path / "eval"
    args = ["eval", "--model", model_dir, "--bench", crb_folder, "--output", str(out), "--prompt-mode", "aspect"]
    code = main([*args, "--config", "Stratified_Language", "--split", "Python", "--results-format", "themis"])
    assert code == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"accuracy": 0.0, "total": 3, "correct": 0}
    saved = json.loads((out / "results.json").read_text())
    assert saved["overall"]["total_examples"] == 3 and saved["overall"]["correct_predictions"] == 0
    assert set(saved["by_language"]) == {"Python"} and set(saved["by_aspect"]) == {"Functional_Correctness"}
    assert saved["run"]["config"] == "Stratified_Language" and saved["run"]["split"] == "Python"
    assert saved["run"]["principles"] is None and saved["run"]["principles_sha256"] == default_principles().sha256
    assert pq.read_table(out / "scores.parquet").column("id").to_pylist() == ["py_0", "py_1", "py_2"]
    with pytest.raises(SystemExit) as exit_info:  # a BenchInputError is a UsageError: one line, status 2
        main([*args, "--config", "Nope"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "--config Nope: no such config" in error and "configs found" in error and "Traceback" not in error


def test_eval_help_lists_the_new_flags(capsys):
    from trainer.cli import main

    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = capsys.readouterr().out
    assert "--config" in text and "--split" in text and "--results-format" in text and "themis" in text
