"""CLI wiring: cheap import, flags and defaults, handlers, module entry points."""

import argparse
import json
import subprocess
import sys

import pytest

from trainer.cli import add_subcommands, main


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
