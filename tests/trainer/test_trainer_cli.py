"""CLI wiring: cheap import, flags and defaults, handlers, module entry points."""

import argparse
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

from schemas.principles import DEFAULT_PRINCIPLES_PATH, default_principles
from trainer.cli import add_subcommands, main
from trainer.config import MODEL_PRINCIPLES_FILE, EvalConfig, TrainConfig


def _parser():
    parser = argparse.ArgumentParser(prog="codepref")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    return parser


def test_import_is_cheap():
    heavy = "('torch', 'transformers', 'accelerate', 'apache_beam')"
    code = f"import sys, trainer.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_beam_imports_in_trainer():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "trainer"
    for path in root.rglob("*.py"):
        assert "apache_beam" not in path.read_text(), path


def test_train_flags_and_defaults():
    from trainer.config import train_config_from_args

    args = _parser().parse_args(["train", "--data", "d", "--model", "m", "--output", "o", "--resume"])
    config = train_config_from_args(args)
    assert args.func.__name__ == "run_train"
    assert config.resume == "latest"
    assert (config.lr, config.adam_beta2, config.warmup_ratio, config.clip) == (1e-5, 0.95, 0.05, 1.5)
    assert (config.lambda_lm, config.mu, config.magnitude_form) == (0.25, 0.001, "centered")
    assert (config.prompt_none, config.prompt_single, config.prompt_all) == (0.15, 0.60, 0.25)
    args = _parser().parse_args(
        [
            "train",
            "--data",
            "d",
            "--model",
            "m",
            "--output",
            "o",
            "--magnitude-form",
            "abs",
            "--lambda-lm",
            "0",
            "--max-steps",
            "10",
            "--prompt-single",
            "0.65",
            "--prompt-all",
            "0.2",
            "--no-use-system-column",
        ]
    )
    config = train_config_from_args(args)
    assert config.magnitude_form == "abs" and config.max_steps == 10 and not config.use_system_column
    bad = _parser().parse_args(["train", "--data", "d", "--model", "m", "--output", "o", "--prompt-all", "0.5"])
    with pytest.raises(ValueError, match="sum to 1"):
        train_config_from_args(bad)


def test_unknown_flags_are_errors(bench_file, tmp_path):
    with pytest.raises(SystemExit, match="unrecognized arguments: --bogus"):
        main(["eval", "--model", "m", "--bench", bench_file, "--output", str(tmp_path), "--bogus"])


def test_help_texts(capsys):
    for command, flag in (("train", "--magnitude-form"), ("eval", "--prompt-mode")):
        with pytest.raises(SystemExit) as exit_info:
            _parser().parse_args([command, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        assert flag in text and "examples:" in text and "default" in text


def test_module_entry_points_have_help():
    for module in ("trainer.train", "trainer.evaluate"):
        out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=True)
        assert "--model" in out.stdout


def test_eval_handler_runs(trained_run, bench_file, tmp_path, capsys):
    out = tmp_path / "cli-eval"
    code = main(
        [
            "eval",
            "--model",
            trained_run["summary"]["model_dir"],
            "--bench",
            bench_file,
            "--output",
            str(out),
            "--prompt-mode",
            "none",
            "--batch-size",
            "16",
            "--max-length",
            "256",
            "--limit",
            "12",
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["total"] == 12
    assert (out / "results.json").exists() and (out / "scores.parquet").exists()


def _id_before_principles(config: TrainConfig) -> str:
    """`config_id` as it was computed before `TrainConfig.principles` existed."""
    skip = {"data", "model", "output", "tokenizer", "resume", "save_steps", "log_steps", "principles"}
    items = {k: v for k, v in dataclasses.asdict(config).items() if k not in skip}
    return hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()[:10]


def test_config_id_covers_the_principle_texts_not_their_path(tmp_path, principles_file):
    paths = {"data": "d", "model": "m", "output": "o"}
    plain = TrainConfig(**paths)
    assert plain.principles is None and plain.principle_texts() == default_principles()
    assert plain.config_id == _id_before_principles(plain)  # runs without --principles keep their id
    assert TrainConfig(**paths, lr=3e-5).config_id == _id_before_principles(TrainConfig(**paths, lr=3e-5))
    texts = principles_file(tmp_path / "a" / "principles.yaml")
    custom = TrainConfig(**paths, principles=str(tmp_path / "a" / "principles.yaml"))
    assert custom.principle_texts() == texts
    assert custom.config_id != plain.config_id
    same = principles_file(tmp_path / "b" / "copy.yaml")
    moved = TrainConfig(data="d2", model="m", output="o2", principles=str(tmp_path / "b" / "copy.yaml"))
    assert same == texts and moved.config_id == custom.config_id  # the texts count, not the path
    principles_file(tmp_path / "c" / "other.yaml", tag="other")
    other = TrainConfig(**paths, principles=str(tmp_path / "c" / "other.yaml"))
    assert other.config_id not in (plain.config_id, custom.config_id)


def test_a_bad_principles_file_is_refused_when_the_config_is_built(tmp_path):
    missing = str(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match=re.escape(f"--principles {missing}: no such file")):
        TrainConfig(data="d", model="m", output="o", principles=missing)
    incomplete = tmp_path / "incomplete.yaml"
    incomplete.write_text("base: Judge.\ncriteria:\n  Functional_Correctness: FC.\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(str(incomplete)) + ".*no text for") as error:
        TrainConfig(data="d", model="m", output="o", principles=str(incomplete))
    assert "criteria" in str(error.value)
    with pytest.raises(ValueError, match=re.escape(str(incomplete))):
        EvalConfig(model="m", bench="b", output="o", principles=str(incomplete))
    args = _parser().parse_args(["train", "--data", "d", "--model", "m", "--output", "o", "--principles", missing])
    from trainer.config import train_config_from_args

    with pytest.raises(ValueError, match=re.escape(missing)):
        train_config_from_args(args)


def test_principles_flags_reach_the_configs():
    from trainer.config import eval_config_from_args, train_config_from_args

    train = ["train", "--data", "d", "--model", "m", "--output", "o"]
    assert train_config_from_args(_parser().parse_args(train)).principles is None
    flagged = train_config_from_args(_parser().parse_args([*train, "--principles", DEFAULT_PRINCIPLES_PATH]))
    assert flagged.principles == DEFAULT_PRINCIPLES_PATH and flagged.principle_texts() == default_principles()
    evaluate = ["eval", "--model", "m", "--bench", "b", "--output", "o"]
    assert eval_config_from_args(_parser().parse_args(evaluate)).principles is None
    config = eval_config_from_args(_parser().parse_args([*evaluate, "--principles", DEFAULT_PRINCIPLES_PATH]))
    assert config.principles == DEFAULT_PRINCIPLES_PATH


@pytest.mark.parametrize("command", ["train", "eval"])
def test_codepref_with_a_missing_principles_file_is_a_clean_error(command, tmp_path):
    missing = str(tmp_path / "missing.yaml")
    paths = ["--data", "d"] if command == "train" else ["--bench", "b"]
    argv = [command, *paths, "--model", str(tmp_path / "m"), "--output", str(tmp_path / "o"), "--principles", missing]
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *argv], capture_output=True, text=True, timeout=300, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 2
    assert f"codepref {command}: error: --principles {missing}: no such file" in done.stderr
    assert not os.path.exists(tmp_path / "o")


def test_eval_principles_path_prefers_the_flag_then_the_models_file(tmp_path, principles_file):
    model = tmp_path / "model"
    model.mkdir()
    bare = EvalConfig(model=str(model), bench="b", output="o")
    assert bare.principles_path() is None and bare.principle_texts() == default_principles()
    trained_with = principles_file(model / MODEL_PRINCIPLES_FILE, tag="trained")
    assert bare.principles_path() == str(model / MODEL_PRINCIPLES_FILE)
    assert bare.principle_texts() == trained_with
    flag = tmp_path / "flag.yaml"
    given = principles_file(flag, tag="given")
    explicit = EvalConfig(model=str(model), bench="b", output="o", principles=str(flag))
    assert explicit.principles_path() == str(flag) and explicit.principle_texts() == given
    (model / MODEL_PRINCIPLES_FILE).unlink()
    (model / MODEL_PRINCIPLES_FILE).mkdir()  # not a file: not the model's texts
    assert bare.principles_path() is None
    assert EvalConfig(model=str(tmp_path / "nowhere"), bench="b", output="o").principles_path() is None


def test_a_bad_principles_file_in_the_model_is_refused_when_the_eval_config_is_built(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / MODEL_PRINCIPLES_FILE).write_text("base: only a base\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"{MODEL_PRINCIPLES_FILE}: criteria: Field required"):
        EvalConfig(model=str(model), bench="b", output="o", prompt_mode="none")


def test_default_texts_given_as_a_file_keep_the_training_config_id():
    from schemas.principles import DEFAULT_PRINCIPLES_PATH

    plain = TrainConfig(data="d", model="m", output="o")
    assert TrainConfig(data="d", model="m", output="o", principles=DEFAULT_PRINCIPLES_PATH).config_id == plain.config_id
