"""Validation pass of the trainer: strict pairwise accuracy on held-out shards.

Every rank takes part (FSDP and DDP need matching forward passes): the stream is
split by rank like training batches, the last partial batch is padded with
repeats that are masked out, and the sums are all-reduced. Reports `accuracy`
(ties wrong), mean `margin`, mean Bradley-Terry loss `bt` and `count`.
"""

__all__ = ["validate"]

import itertools
from collections.abc import Sequence
from typing import Any

import torch

from trainer.batching import micro_batches
from trainer.collate import PairCollator
from trainer.config import TrainConfig
from trainer.data import epoch_records


@torch.no_grad()
def validate(
    accelerator: Any,
    model: torch.nn.Module,
    tokenizer: Any,
    collator: PairCollator,
    files: Sequence[str],
    config: TrainConfig,
) -> dict[str, float]:
    """Scores validation pairs; every rank takes part, results are all-reduced.

    Args:
        accelerator: The run's `accelerate.Accelerator`.
        model: The prepared reward model.
        tokenizer: The tokenizer.
        collator: The pair collator.
        files: Validation Parquet files.
        config: The run config (batch size, lengths, prompt mix, limit).

    Returns:
        `accuracy` (strict), `margin`, `bt` and `count`.
    """
    was_training = model.training
    model.eval()
    records = epoch_records(
        files,
        epoch=0,
        seed=config.seed,
        shuffle=False,
        mix=config.prompt_mix(),
        use_system_column=config.use_system_column,
        principles=config.principle_texts(),
    )
    records = itertools.islice(records, config.eval_max_pairs or None)
    totals = torch.zeros(4, dtype=torch.float64, device=accelerator.device)
    for micro in micro_batches(
        records,
        tokenizer,
        batch_size=config.batch_size,
        max_length=config.max_length,
        rank=accelerator.process_index,
        world_size=accelerator.num_processes,
        truncate_response=config.truncate_response,
        pad_last=True,
    ):
        batch = {k: v.to(accelerator.device) for k, v in collator(micro.pairs).items()}
        batch.pop("chosen_lm_mask")
        with accelerator.autocast():
            out = model(**batch)
        diff = (out.chosen_rewards - out.rejected_rewards).double()[: micro.valid]
        bt = torch.nn.functional.softplus(-diff)
        count = torch.tensor(float(diff.numel()), dtype=torch.float64, device=diff.device)
        totals += torch.stack([(diff > 0).double().sum(), diff.sum(), bt.sum(), count])
    totals = accelerator.reduce(totals, reduction="sum")
    count = max(float(totals[3]), 1.0)
    model.train(was_training)
    return {
        "accuracy": float(totals[0]) / count,
        "margin": float(totals[1]) / count,
        "bt": float(totals[2]) / count,
        "count": int(totals[3]),
    }
