"""End-to-end CPU training: loss falls, held-out accuracy, export parity, resume."""

import json
import os
import shutil

import pytest
import torch


def _log(output: str) -> list[dict]:
    with open(os.path.join(output, "train_log.jsonl"), encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_loss_falls_and_parts_are_logged(trained_run):
    steps = [r for r in _log(trained_run["output"]) if "loss/total" in r]
    assert [r["step"] for r in steps] == list(range(1, trained_run["summary"]["step"] + 1))
    assert steps[0]["loss/bt"] == pytest.approx(0.6931, abs=1e-3)  # zero-initialised head
    first = sum(r["loss/total"] for r in steps[:3]) / 3
    last = sum(r["loss/total"] for r in steps[-3:]) / 3
    assert last < 0.7 * first
    assert steps[-1]["loss/bt"] < 0.2
    for key in ("loss/lm", "loss/mag", "reward/margin", "reward/accuracy", "lr", "grad_norm", "tokens"):
        assert key in steps[-1]
    assert steps[-1]["reward/margin"] > 0
    peak = trained_run["config"].lr
    assert steps[0]["lr"] == pytest.approx(peak / 2)  # first of two warmup steps
    assert max(r["lr"] for r in steps) == pytest.approx(peak)
    assert steps[-1]["lr"] < max(r["lr"] for r in steps)  # cosine decay


def test_exported_model_holds_the_principle_texts_it_was_trained_with(trained_run):
    from schemas.principles import default_principles, load_principles
    from trainer.config import MODEL_PRINCIPLES_FILE

    assert trained_run["config"].principles is None  # codepref's own texts
    path = os.path.join(trained_run["summary"]["model_dir"], MODEL_PRINCIPLES_FILE)
    assert path == os.path.join(trained_run["output"], "model", "codepref_principles.yaml")
    assert os.path.isfile(path)
    assert load_principles(path) == default_principles()
    assert load_principles(path).sha256 == default_principles().sha256


def test_training_prompts_and_export_use_a_principles_file(
    tiny_model_dir, pair_run_dir, tmp_path, monkeypatch, principles_file
):
    import trainer.data
    import trainer.train
    import trainer.validation
    from schemas.principles import load_principles
    from trainer.config import MODEL_PRINCIPLES_FILE, TrainConfig
    from trainer.train import train

    texts = principles_file(tmp_path / "principles.yaml")
    seen = {"train": [], "validation": []}

    def recording(kind):
        def epoch_records(*args, **kwargs):
            for record in trainer.data.epoch_records(*args, **kwargs):
                seen[kind].append(record.system)
                yield record

        return epoch_records

    monkeypatch.setattr(trainer.train, "epoch_records", recording("train"))
    monkeypatch.setattr(trainer.validation, "epoch_records", recording("validation"))
    output = str(tmp_path / "run")
    config = TrainConfig(
        data=pair_run_dir,
        model=tiny_model_dir,
        output=output,
        max_length=256,
        batch_size=2,
        max_steps=2,
        save_steps=0,
        eval_max_pairs=4,
        shuffle_buffer=8,
        prompt_none=0.0,
        prompt_single=0.5,
        prompt_all=0.5,
        use_system_column=False,
        principles=str(tmp_path / "principles.yaml"),
    )
    train(config)
    assert seen["train"] and seen["validation"]
    for system in seen["train"] + seen["validation"]:
        assert system.startswith(texts.base) and system.endswith(texts.suffix)
        assert any(text in system for text in texts.criteria.values())
    exported = os.path.join(output, "model", MODEL_PRINCIPLES_FILE)
    assert load_principles(exported) == texts


def test_held_out_accuracy(trained_run):
    validation = trained_run["summary"]["validation"]
    assert validation["count"] == 80
    assert validation["accuracy"] > 0.9
    with open(os.path.join(trained_run["output"], "validation.json"), encoding="utf-8") as handle:
        assert json.load(handle)["accuracy"] == validation["accuracy"]


def test_checkpoints_are_rotated_and_complete(trained_run):
    root = os.path.join(trained_run["output"], "checkpoints")
    names = sorted(os.listdir(root))
    assert len(names) == 2 and names[-1] == f"step-{trained_run['summary']['step']:07d}"
    with open(os.path.join(root, names[-1], "trainer_state.json"), encoding="utf-8") as handle:
        state = json.load(handle)
    assert state["step"] == trained_run["summary"]["step"] and state["tokens"] > 0
    assert state["config_id"] == trained_run["config"].config_id


def test_exported_model_matches_training_weights(trained_run, pair_run_dir):
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from trainer.batching import micro_batches
    from trainer.collate import PairCollator
    from trainer.data import epoch_records, resolve_data_files
    from trainer.model import load_reward_model

    output = trained_run["output"]
    last_ckpt = os.path.join(output, "checkpoints", sorted(os.listdir(os.path.join(output, "checkpoints")))[-1])
    model = load_reward_model(trained_run["config"].model, with_lm_head=True)
    model.load_state_dict(load_file(os.path.join(last_ckpt, "model.safetensors")), strict=False)
    model.eval()
    model_dir = trained_run["summary"]["model_dir"]
    classifier = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    records = epoch_records(resolve_data_files(pair_run_dir, "validation"), epoch=0, seed=0, shuffle=False)
    micro = next(iter(micro_batches(records, tokenizer, batch_size=6, max_length=512)))
    batch = PairCollator(tokenizer.pad_token_id)(micro.pairs)
    with torch.no_grad():
        ours = model(**batch)
        theirs = classifier(input_ids=batch["chosen_input_ids"], attention_mask=batch["chosen_attention_mask"])
    assert torch.allclose(theirs.logits[:, 0], ours.chosen_rewards, atol=1e-4)
    assert (ours.chosen_rewards > ours.rejected_rewards).all()


def test_resume_continues_step_count_and_reproduces_the_run(tiny_model_dir, pair_run_dir, tmp_path):
    from safetensors.torch import load_file

    from trainer.config import TrainConfig
    from trainer.train import train

    base = {
        "data": pair_run_dir,
        "model": tiny_model_dir,
        "max_length": 512,
        "batch_size": 4,
        "grad_accum": 1,
        "lr": 1e-3,
        "lambda_lm": 0.0,
        "max_steps": 6,
        "save_steps": 2,
        "save_total_limit": 0,
        "shuffle_buffer": 16,
        "prompt_none": 1.0,
        "prompt_single": 0.0,
        "prompt_all": 0.0,
    }
    straight = str(tmp_path / "straight")
    summary = train(TrainConfig(output=straight, **base))
    assert summary["step"] == 6
    reference = load_file(os.path.join(straight, "model", "model.safetensors"))

    # Pretend the run died after step 4: drop the newer checkpoint and resume.
    shutil.rmtree(os.path.join(straight, "checkpoints", "step-0000006"))
    with open(os.path.join(straight, "checkpoints", "step-0000004", "trainer_state.json"), encoding="utf-8") as fh:
        state = json.load(fh)
    assert state["step"] == 4 and state["position"] == 16
    resumed = train(TrainConfig(output=straight, resume="latest", **base))
    assert resumed["step"] == 6
    steps = [r["step"] for r in _log(straight) if "loss/total" in r]
    assert steps == [1, 2, 3, 4, 5, 6, 5, 6]
    again = load_file(os.path.join(straight, "model", "model.safetensors"))
    assert again.keys() == reference.keys()
    for key, value in reference.items():
        assert torch.allclose(again[key], value, atol=1e-6), key
    with pytest.raises(FileNotFoundError, match="not a complete checkpoint"):
        train(TrainConfig(output=str(tmp_path / "bad"), resume=str(tmp_path / "nowhere"), **base))


def test_two_process_cpu_launch(tiny_model_dir, pair_run_dir, tmp_path):
    """Two CPU processes (torchrun + `Accelerator`, DDP over gloo) run the same code."""
    import subprocess
    import sys

    output = str(tmp_path / "ddp")
    command = [
        *(sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"),
        *("-m", "trainer.train", "--data", pair_run_dir, "--model", tiny_model_dir, "--output", output),
        *("--max-length", "512", "--batch-size", "2", "--grad-accum", "2", "--max-steps", "3", "--save-steps", "0"),
        *("--lr", "1e-3", "--prompt-none", "1", "--prompt-single", "0", "--prompt-all", "0"),
    ]
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    steps = [r["step"] for r in _log(output) if "loss/total" in r]
    assert steps == [1, 2, 3]  # one log line per step: only the main process writes
    with open(os.path.join(output, "validation.json"), encoding="utf-8") as handle:
        assert json.load(handle)["count"] == 80  # every held-out pair scored once across ranks
    with open(os.path.join(output, "checkpoints", "step-0000003", "trainer_state.json"), encoding="utf-8") as fh:
        assert json.load(fh)["position"] == 3 * 2 * 2 * 2  # steps x accum x batch x ranks
    assert os.path.exists(os.path.join(output, "model", "model.safetensors"))


def test_fsdp_config_is_a_valid_accelerate_config():
    from accelerate.commands.config.config_args import load_config_from_file

    path = os.path.join(os.path.dirname(__file__), "..", "..", "trainer", "configs", "fsdp.yaml")
    config = load_config_from_file(path)
    assert str(config.distributed_type).endswith("FSDP")
    assert config.fsdp_config["fsdp_version"] == 2
    assert config.fsdp_config["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert config.mixed_precision == "bf16"
