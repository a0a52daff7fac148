"""The final-stages config: defaults, relative paths, field-named errors."""

import pytest

from schemas.final import FinalConfig, load_final_config


def test_defaults_are_the_papers():
    cfg = load_final_config(None)
    assert cfg == FinalConfig()
    assert (cfg.length.max_tokens, cfg.dedup.ngram, cfg.dedup.threshold, cfg.decontamination.ngram) == (
        4096,
        20,
        0.75,
        13,
    )
    assert cfg.english_only and cfg.secrets and cfg.perplexity.model is None


def test_relative_paths_are_taken_from_the_files_folder(tmp_path):
    (tmp_path / "f.yaml").write_text(
        "decontamination: {benchmarks: [bench/*.jsonl, gs://b/x.parquet, /abs/y.jsonl]}\n"
        "previous_release: [old/*.parquet]\nlength: {tokenizer: tok.json, max_tokens: 2560}\n"
    )
    cfg = load_final_config(str(tmp_path / "f.yaml"))
    assert cfg.decontamination.benchmarks == (str(tmp_path / "bench/*.jsonl"), "gs://b/x.parquet", "/abs/y.jsonl")
    assert cfg.previous_release == (str(tmp_path / "old/*.parquet"),)
    assert cfg.length.tokenizer == str(tmp_path / "tok.json") and cfg.length.max_tokens == 2560


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dedup: {threshold: 1.5}", "dedup.threshold"),
        ("split: {validation_fraction: -1}", "split.validation_fraction"),
        ("lenght: {max_tokens: 10}", "lenght"),
        ("dedup: [", "not valid YAML"),
    ],
)
def test_errors_name_the_field(tmp_path, text, message):
    (tmp_path / "f.yaml").write_text(text)
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        load_final_config(str(tmp_path / "f.yaml"))


def test_missing_file():
    with pytest.raises(ValueError, match="no such file"):
        load_final_config("/nonexistent/filters.yaml")
