"""Pairwise evaluation of a reward model on a CodeRewardBench-format file.

Input: a Parquet or JSONL file with columns `prompt, chosen, rejected, language,
aspect, subset, id` (CRB spellings such as `Functional_Correctness`, `Cpp`).
Model: a folder loadable by `AutoModelForSequenceClassification` (num_labels=1),
such as the trainer's exported `RUN/model`; scores are computed in float32, in
length-sorted padded batches, with the chat template and no generation prompt.

System prompt per `--prompt-mode` (paper-facts §4.4): `none`, `full` (all
principles, fixed §1.3 order) or `aspect` (base plus the row's criterion).

A pair is correct iff `score(chosen) > score(rejected)`; ties count as wrong.
Outputs in `--output`:

* `results.json`: `accuracy`, `total`, `correct`, mean/median/std of
  `score_diff`, and `by_aspect` / `by_language` / `by_subset` (accuracy, count);
* `scores.parquet`: `id, chosen_score, rejected_score, correct, score_diff,
  language, aspect, subset`.
"""

__all__ = ["evaluate", "main", "read_bench", "score_sequences", "summarize"]

import argparse
import json
import os
import statistics
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from trainer.config import EvalConfig, HelpFormatter, add_eval_arguments, eval_config_from_args
from trainer.prompts import prompt_for_mode
from trainer.tokenization import encode_for_scoring


BENCH_COLUMNS = ("prompt", "chosen", "rejected", "language", "aspect", "subset", "id")


def read_bench(path: str, limit: int | None = None) -> list[dict]:
    """Reads a benchmark file (Parquet, or JSON Lines for `.jsonl`/`.json`).

    Args:
        path: The file.
        limit: Keep only the first `limit` rows.

    Returns:
        Row dicts with the `BENCH_COLUMNS` (missing optional ones as None).

    Raises:
        ValueError: If `prompt`, `chosen` or `rejected` is missing.
    """
    if path.endswith((".jsonl", ".json")):
        with open(path, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
    else:
        rows = pq.read_table(path).to_pylist()
    rows = rows[:limit] if limit else rows
    for i, row in enumerate(rows):
        missing = [c for c in ("prompt", "chosen", "rejected") if row.get(c) is None]
        if missing:
            raise ValueError(f"{path} row {i} lacks {missing}")
        row.setdefault("id", str(i))
        for column in ("language", "aspect", "subset"):
            row.setdefault(column, None)
    return rows


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _group(rows: Sequence[dict], key: str) -> dict[str, dict[str, float]]:
    groups: dict[str, list[bool]] = {}
    for row in rows:
        groups.setdefault(str(row[key]), []).append(bool(row["correct"]))
    return {
        name: {"accuracy": sum(flags) / len(flags), "count": len(flags), "correct": sum(flags)}
        for name, flags in sorted(groups.items())
    }


def summarize(rows: Sequence[dict]) -> dict[str, Any]:
    """Computes accuracy and breakdowns from scored rows (pure).

    Args:
        rows: Dicts with `chosen_score`, `rejected_score`, `language`, `aspect`,
            `subset`. `correct` and `score_diff` are added in place.

    Returns:
        The `results.json` content (without run metadata).
    """
    for row in rows:
        row["score_diff"] = row["chosen_score"] - row["rejected_score"]
        row["correct"] = row["score_diff"] > 0
    diffs = [row["score_diff"] for row in rows]
    correct = sum(row["correct"] for row in rows)
    total = len(rows)
    return {
        "accuracy": correct / total if total else 0.0,
        "total": total,
        "correct": correct,
        "mean_score_diff": statistics.fmean(diffs) if diffs else 0.0,
        "median_score_diff": statistics.median(diffs) if diffs else 0.0,
        "std_score_diff": statistics.pstdev(diffs) if diffs else 0.0,
        "by_aspect": _group(rows, "aspect"),
        "by_language": _group(rows, "language"),
        "by_subset": _group(rows, "subset"),
    }


def score_sequences(model: Any, sequences: Sequence[list[int]], pad_token_id: int, batch_size: int) -> list[float]:
    """Scores token sequences with a sequence classifier, in float32.

    Sequences are sorted by length so each padded batch wastes little; scores are
    returned in input order.

    Args:
        model: A `transformers` sequence classifier with one label.
        sequences: Token-id lists.
        pad_token_id: Right-padding id (must not end any sequence).
        batch_size: Sequences per forward pass.

    Returns:
        One score per sequence.
    """
    import torch

    from trainer.collate import pad_right

    device = next(model.parameters()).device
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    scores = [0.0] * len(sequences)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            ids, mask = pad_right([sequences[i] for i in chunk], pad_token_id)
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            for i, value in zip(chunk, logits[:, 0].float().tolist(), strict=True):
                scores[i] = value
    return scores


def evaluate(config: EvalConfig) -> dict[str, Any]:
    """Scores a benchmark file and writes `results.json` and `scores.parquet`.

    Args:
        config: Evaluator settings.

    Returns:
        The `results.json` content.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    rows = read_bench(config.bench, config.limit)
    tokenizer = AutoTokenizer.from_pretrained(config.model, local_files_only=True)
    kwargs: dict[str, Any] = {"dtype": torch.float32, "local_files_only": True}
    if torch.cuda.is_available():
        kwargs["device_map"] = "auto"
    model = AutoModelForSequenceClassification.from_pretrained(config.model, **kwargs).eval()
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = model.config.pad_token_id
    sequences = []
    for row in rows:
        system = prompt_for_mode(config.prompt_mode, row.get("aspect"))
        for side in ("chosen", "rejected"):
            sequences.append(encode_for_scoring(tokenizer, system, row["prompt"], row[side], config.max_length))
    scores = score_sequences(model, sequences, pad_id, config.batch_size)
    for i, row in enumerate(rows):
        row["chosen_score"], row["rejected_score"] = scores[2 * i], scores[2 * i + 1]
    results = summarize(rows)
    results = {
        "model": config.model,
        "bench": config.bench,
        "prompt_mode": config.prompt_mode,
        "max_length": config.max_length,
        **results,
    }
    os.makedirs(config.output, exist_ok=True)
    with open(os.path.join(config.output, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    table = pa.table(
        {
            "id": pa.array([str(r["id"]) for r in rows], pa.string()),
            "chosen_score": pa.array([r["chosen_score"] for r in rows], pa.float64()),
            "rejected_score": pa.array([r["rejected_score"] for r in rows], pa.float64()),
            "correct": pa.array([r["correct"] for r in rows], pa.bool_()),
            "score_diff": pa.array([r["score_diff"] for r in rows], pa.float64()),
            "language": pa.array([_text(r["language"]) for r in rows], pa.string()),
            "aspect": pa.array([_text(r["aspect"]) for r in rows], pa.string()),
            "subset": pa.array([_text(r["subset"]) for r in rows], pa.string()),
        }
    )
    pq.write_table(table, os.path.join(config.output, "scores.parquet"))
    return results


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Entry point of `python -m trainer.evaluate`.

    Args:
        argv: Command-line arguments; `sys.argv[1:]` when None.

    Returns:
        The results.
    """
    parser = argparse.ArgumentParser(
        prog="python -m trainer.evaluate",
        description="Pairwise accuracy of a reward model on a CodeRewardBench-format file.",
        formatter_class=HelpFormatter,
    )
    add_eval_arguments(parser)
    results = evaluate(eval_config_from_args(parser.parse_args(argv)))
    print(json.dumps({k: results[k] for k in ("accuracy", "total", "correct")}))
    return results


if __name__ == "__main__":
    main()
