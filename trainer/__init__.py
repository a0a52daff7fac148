"""Bradley-Terry reward-model trainer and evaluator for codepref preference data.

A thin, Beam-free package (house-style rule 28) that reads the Parquet shards the
pipelines write (`schemas.arrow.pair_schema()`), trains a scalar reward model on a
`transformers` backbone with `accelerate`, exports it as a sequence classifier,
and evaluates it on CodeRewardBench-format files.

Modules:
    prompts: criteria system prompts and their hash-seeded assignment.
    data: streaming Parquet reader and deterministic epoch order.
    tokenization: chat-template encoding with response-side truncation.
    batching: rank-aware micro-batches.
    collate: right-padding pair collator.
    losses: Bradley-Terry, LM and magnitude losses; LR schedule.
    model: reward model, loading and export.
    checkpoint: checkpoint folders and resume state.
    config: run configuration and command-line flags.
    validation: held-out accuracy during training.
    train: training loop (`python -m trainer.train`).
    evaluate: evaluator (`python -m trainer.evaluate`).
    bench_inputs: where the evaluator's benchmark comes from (file, glob, CRB folder, Hub id).
    cli: `train` / `eval` subcommands for the `codepref` CLI.

Importing the package (or `trainer.cli`) does not import torch.
"""

__all__: list[str] = []
