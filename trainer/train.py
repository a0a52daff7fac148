"""Bradley-Terry reward-model training loop on `accelerate`.

Runs single-process (CPU or one GPU) or multi-process with the same code:

    python -m trainer.train --data OUT --model PATH --output RUN
    accelerate launch --config_file trainer/configs/fsdp.yaml -m trainer.train ...

Per optimizer step it runs `grad_accum` micro-batches (gradient sync only on the
last), clips the gradient norm, steps AdamW (beta=(0.9, beta2)) and the cosine
schedule with warmup, and logs the loss parts, reward margin and accuracy to
`RUN/train_log.jsonl` and the console. Every `save_steps` it saves a checkpoint
(model, optimizer, scheduler, RNG, step and data position); `--resume` restarts
from one. At the end it scores the validation split, if any, and exports the
model to `RUN/model` as a `transformers` sequence classifier, with the principle
texts its assigned system prompts used (`codepref_principles.yaml`), which
`codepref eval` then uses by default.

On GPU, bf16 autocast and gradient checkpointing are on by default.
"""

__all__ = ["main", "train"]

import argparse
import collections
import contextlib
import functools
import itertools
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from typing import Any

import torch

from schemas.principles import write_principles
from trainer.batching import micro_batches
from trainer.checkpoint import (
    STATE_FILE,
    TrainState,
    checkpoint_dir,
    latest_checkpoint,
    prune_checkpoints,
    read_state,
    write_state,
)
from trainer.collate import PairCollator
from trainer.config import (
    MODEL_PRINCIPLES_FILE,
    HelpFormatter,
    TrainConfig,
    add_train_arguments,
    train_config_from_args,
)
from trainer.data import count_rows, epoch_records, resolve_data_files
from trainer.losses import cosine_with_warmup, reward_loss
from trainer.model import ensure_pad_token, export_sequence_classifier, load_reward_model
from trainer.validation import validate


logger = logging.getLogger(__name__)


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for _, param in model.named_parameters():
        if param.requires_grad:
            (decay if param.ndim >= 2 else no_decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def _as_float(value: Any) -> float:
    if hasattr(value, "full_tensor"):  # DTensor under FSDP2
        value = value.full_tensor()
    return float(value)


def _to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {key: value.to(device, non_blocking=True) for key, value in batch.items()}


class _JsonlLog:
    """Appends one JSON object per line; a no-op off the main process."""

    def __init__(self, path: str, enabled: bool) -> None:
        self.path = path
        self.enabled = enabled

    def write(self, record: dict[str, Any]) -> None:
        if self.enabled:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, sort_keys=True) + "\n")


def _build_accelerator(config: TrainConfig) -> Any:
    from accelerate import Accelerator

    precision = config.mixed_precision
    if precision == "auto":
        precision = "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "no"
    return Accelerator(mixed_precision=precision, step_scheduler_with_optimizer=False)


def _export_dtype(config: TrainConfig, accelerator: Any) -> torch.dtype | None:
    if config.export_dtype == "float32":
        return torch.float32
    if config.export_dtype == "bfloat16" or accelerator.mixed_precision == "bf16":
        return torch.bfloat16
    return None


def _save(accelerator: Any, config: TrainConfig, state: TrainState) -> str:
    path = checkpoint_dir(config.output, state.step)
    accelerator.save_state(path)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        write_state(path, state)
        prune_checkpoints(config.output, config.save_total_limit)
    accelerator.wait_for_everyone()
    return path


def train(config: TrainConfig) -> dict[str, Any]:
    """Trains a reward model and exports it; see the module docstring.

    Args:
        config: The run configuration.

    Returns:
        A summary: final `step`, `tokens`, last logged metrics, `validation`
        metrics (when a validation split exists) and the `model_dir`.

    Raises:
        FileNotFoundError: If there is no training data, or `--resume PATH` is not
            a complete checkpoint.
    """
    from accelerate.utils import DistributedType, set_seed
    from transformers import AutoTokenizer

    accelerator = _build_accelerator(config)
    set_seed(config.seed)
    os.makedirs(config.output, exist_ok=True)
    files = resolve_data_files(config.data, "train")
    if not files:
        raise FileNotFoundError(f"no training shards under {config.data!r}")
    val_files = resolve_data_files(config.data, "validation") if os.path.isdir(config.data) else []

    tokenizer = AutoTokenizer.from_pretrained(config.tokenizer or config.model, local_files_only=True)
    collator = PairCollator(ensure_pad_token(tokenizer))
    on_gpu = accelerator.device.type == "cuda"
    checkpointing = config.gradient_checkpointing == "on" or (config.gradient_checkpointing == "auto" and on_gpu)
    # Master weights in float32 (transformers would otherwise keep a bf16 checkpoint's
    # dtype); bf16 compute comes from autocast or the FSDP mixed-precision policy.
    model = load_reward_model(
        config.model,
        with_lm_head=config.lambda_lm > 0,
        dtype=torch.float32,
        attn_implementation=config.attn_implementation,
        gradient_checkpointing=checkpointing,
    )
    optimizer = torch.optim.AdamW(
        _param_groups(model, config.weight_decay),
        lr=config.lr,
        betas=(config.adam_beta1, config.adam_beta2),
        eps=config.adam_eps,
        # Fused kernels on GPU; FSDP's sharded (DTensor) parameters use the default path.
        fused=on_gpu and accelerator.distributed_type != DistributedType.FSDP,
    )
    world = accelerator.num_processes
    pairs_per_step = config.batch_size * config.grad_accum * world
    steps_per_epoch = max(math.ceil(count_rows(files) / pairs_per_step), 1)
    total_steps = config.max_steps or steps_per_epoch * config.epochs
    schedule = functools.partial(
        cosine_with_warmup,
        warmup_steps=int(config.warmup_ratio * total_steps),
        total_steps=total_steps,
        min_lr_ratio=config.min_lr_ratio,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)

    state = TrainState(config_id=config.config_id)
    path = latest_checkpoint(config.output) if config.resume == "latest" else config.resume
    if config.resume == "latest" and path is None:
        # Lets job scripts always pass --resume: the first attempt starts fresh.
        accelerator.print(f"--resume: no checkpoint under {config.output}/checkpoints yet; starting fresh")
    elif path is not None:
        if not os.path.isfile(os.path.join(path, STATE_FILE)):
            raise FileNotFoundError(f"--resume: {path} is not a complete checkpoint")
        accelerator.load_state(path)
        state = read_state(path)
        if state.config_id != config.config_id:
            logger.warning("resuming a run whose hyperparameters differ (config_id %s)", state.config_id)
            state.config_id = config.config_id
        accelerator.print(f"resumed from {path} at step {state.step}")
    if accelerator.is_main_process:
        with open(os.path.join(config.output, "train_config.json"), "w", encoding="utf-8") as fh:
            fh.write(config.to_json())
    log = _JsonlLog(os.path.join(config.output, "train_log.jsonl"), accelerator.is_main_process)
    skipped: collections.Counter = collections.Counter()
    window: list[dict[str, float]] = []
    last: dict[str, Any] = {}
    started = time.perf_counter()
    tokens_at_start = state.tokens
    model.train()
    # With --max-steps the data is cycled until the step budget is spent.
    epoch_limit = math.inf if config.max_steps else config.epochs
    while state.step < total_steps and state.epoch < epoch_limit:
        steps_this_epoch = 0
        records = epoch_records(
            files,
            epoch=state.epoch,
            seed=config.seed,
            buffer_size=config.shuffle_buffer,
            skip=state.position,
            mix=config.prompt_mix(),
            use_system_column=config.use_system_column,
            principles=config.principle_texts(),
        )
        stream = micro_batches(
            records,
            tokenizer,
            batch_size=config.batch_size,
            max_length=config.max_length,
            rank=accelerator.process_index,
            world_size=world,
            start_position=state.position,
            truncate_response=config.truncate_response,
            skipped=skipped,
        )
        while state.step < total_steps:
            group = list(itertools.islice(stream, config.grad_accum))
            if not group:
                break
            parts = []
            step_tokens = torch.zeros((), dtype=torch.long, device=accelerator.device)
            for i, micro in enumerate(group):
                batch = _to_device(collator(micro.pairs), accelerator.device)
                step_tokens += batch["chosen_attention_mask"].sum()
                step_tokens += batch["rejected_attention_mask"].sum()
                if config.lambda_lm == 0:
                    batch.pop("chosen_lm_mask")
                sync = i == len(group) - 1
                context = contextlib.nullcontext() if sync else accelerator.no_sync(model)
                with context:
                    with accelerator.autocast():
                        out = model(**batch)
                    loss = reward_loss(
                        out.chosen_rewards,
                        out.rejected_rewards,
                        lm=out.lm_loss,
                        lambda_lm=config.lambda_lm,
                        mu=config.mu,
                        magnitude_form=config.magnitude_form,
                    )
                    accelerator.backward(loss.total / len(group))
                parts.append(loss.metrics())
            grad_norm = None
            if config.clip > 0:
                grad_norm = accelerator.clip_grad_norm_(model.parameters(), config.clip)
            lr_used = scheduler.get_last_lr()[0]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            state.step += 1
            state.position = group[-1].position
            state.tokens += int(accelerator.reduce(step_tokens, reduction="sum"))
            step_metrics = {k: sum(p[k] for p in parts) / len(parts) for k in parts[0]}
            if grad_norm is not None:
                step_metrics["grad_norm"] = _as_float(grad_norm)
            window.append(step_metrics)
            if state.step % config.log_steps == 0 or state.step == total_steps:
                means = torch.tensor([[m[k] for k in window[0]] for m in window], device=accelerator.device).mean(0)
                means = accelerator.reduce(means, reduction="mean")
                elapsed = time.perf_counter() - started
                last = {
                    "step": state.step,
                    "epoch": state.epoch,
                    "lr": lr_used,
                    "tokens": state.tokens,
                    "tokens_per_s": (state.tokens - tokens_at_start) / max(elapsed, 1e-9),
                    "skipped": dict(skipped),
                    **{k: float(v) for k, v in zip(window[0], means.tolist(), strict=True)},
                }
                window = []
                log.write(last)
                accelerator.print(
                    f"step {state.step}/{total_steps} loss {last['loss/total']:.4f} "
                    f"bt {last['loss/bt']:.4f} lm {last['loss/lm']:.4f} "
                    f"mag {last['loss/mag']:.4f} margin {last['reward/margin']:.3f} "
                    f"acc {last['reward/accuracy']:.3f} lr {last['lr']:.2e}"
                )
            if config.save_steps and state.step % config.save_steps == 0:
                _save(accelerator, config, state)
            if val_files and config.eval_steps and state.step % config.eval_steps == 0:
                metrics = validate(accelerator, model, tokenizer, collator, val_files, config)
                log.write({"step": state.step, **{f"validation/{k}": v for k, v in metrics.items()}})
            steps_this_epoch += 1
        if state.step >= total_steps:
            break
        if steps_this_epoch == 0 and state.position == 0:
            accelerator.print(f"epoch {state.epoch} produced no batch; stopping")
            break
        state.epoch += 1
        state.position = 0

    if config.save_steps == 0 or state.step % config.save_steps != 0:
        _save(accelerator, config, state)
    summary: dict[str, Any] = {"step": state.step, "tokens": state.tokens, "last": last}
    if val_files:
        summary["validation"] = validate(accelerator, model, tokenizer, collator, val_files, config)
        log.write({"step": state.step, **{f"validation/{k}": v for k, v in summary["validation"].items()}})
        accelerator.print(f"validation: {summary['validation']}")
        if accelerator.is_main_process:
            with open(os.path.join(config.output, "validation.json"), "w", encoding="utf-8") as fh:
                json.dump(summary["validation"], fh, indent=2)
    state_dict = accelerator.get_state_dict(model)
    model_dir = os.path.join(config.output, "model")
    if accelerator.is_main_process:
        backbone_config = accelerator.unwrap_model(model).backbone.config
        export_sequence_classifier(
            state_dict,
            backbone_config,
            tokenizer,
            model_dir,
            dtype=_export_dtype(config, accelerator),
            verify=config.verify_export,
        )
        write_principles(config.principle_texts(), os.path.join(model_dir, MODEL_PRINCIPLES_FILE))
        accelerator.print(f"exported sequence classifier to {model_dir}")
    accelerator.wait_for_everyone()
    summary["model_dir"] = model_dir
    accelerator.end_training()
    return summary


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Entry point of `python -m trainer.train` (and `accelerate launch -m`).

    Args:
        argv: Command-line arguments; `sys.argv[1:]` when None.

    Returns:
        The training summary.
    """
    parser = argparse.ArgumentParser(
        prog="python -m trainer.train",
        description="Train a Bradley-Terry code reward model.",
        formatter_class=HelpFormatter,
    )
    add_train_arguments(parser)
    config = train_config_from_args(parser.parse_args(argv))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return train(config)


if __name__ == "__main__":
    main()
