"""Pairwise evaluation of a reward model on CodeRewardBench (CRB).

Input (`--bench`, read by `trainer.bench_inputs`): a Parquet or JSONL file, a
glob, a folder in CRB's Hub layout (`--config Full|Stratified_Aspect|
Stratified_Language`, `--split`) or a Hub dataset id, with columns `prompt,
chosen, rejected, language, aspect, subset, id` (CRB spellings such as
`Functional_Correctness`, `Cpp`). Model: a folder loadable by
`AutoModelForSequenceClassification` (num_labels=1), such as the trainer's
exported `RUN/model`; scores are computed in float32, in length-sorted padded
batches, with the chat template and no generation prompt.

System prompt per `--prompt-mode` (paper-facts §4.4): `none`, `full` (all
principles in the texts' `full_order`, by default §1.3's) or `aspect` (base plus the row's criterion), made
of the `--principles` texts, else those the model was trained with
(`MODEL/codepref_principles.yaml`), else codepref's own; `results.json` names
the file (`principles`, null for codepref's) and the texts' `principles_sha256`.

A pair is correct iff `score(chosen) > score(rejected)`; ties count as wrong.
Outputs in `--output`:

* `results.json`, per `--results-format`:
  - `default`: `accuracy`, `total`, `correct`, mean/median/std (population) of
    `score_diff`, and `by_aspect` / `by_language` / `by_subset` (accuracy,
    count, correct) keyed by the values as the file spells them;
  - `themis`: nested as Themis's evaluator writes it, `overall` with
    `accuracy, total_examples, correct_predictions, mean_score_difference,
    median_score_difference, std_score_difference` (sample std, ddof=1), and
    `by_aspect` / `by_language` / `by_subset` with the same fields plus `count`,
    criteria and languages grouped by meaning and keyed as CRB and Themis's
    published results spell them (`Functional_Correctness`, `Cpp`, whatever
    spelling the file has), so the keys line up with published runs; run
    metadata goes under `run`;
* `scores.parquet`: `id, chosen_score, rejected_score, correct, score_diff,
  language, aspect, subset` (values as the file spells them).
"""

__all__ = ["evaluate", "headline", "main", "read_bench", "score_sequences", "summarize", "summarize_themis"]

import argparse
import json
import os
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.labels import CRB_SPELLINGS, normalize_aspect, normalize_language
from trainer.bench_inputs import (
    RESULTS_FORMATS,
    add_bench_arguments,
    bench_options_from_args,
    read_bench,
)
from trainer.config import EvalConfig, HelpFormatter, add_eval_arguments, eval_config_from_args
from trainer.prompts import prompt_for_mode
from trainer.tokenization import encode_for_scoring


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
    _mark_pairs(rows)
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


def _mark_pairs(rows: Sequence[dict]) -> None:
    for row in rows:
        row["score_diff"] = row["chosen_score"] - row["rejected_score"]
        row["correct"] = row["score_diff"] > 0


def _themis_stats(rows: Sequence[dict]) -> dict[str, Any]:
    """Themis's overall fields for `rows`: sample std (ddof=1); None where a statistic is undefined."""
    diffs = [row["score_diff"] for row in rows]
    correct = sum(bool(row["correct"]) for row in rows)
    return {
        "accuracy": correct / len(rows) if rows else 0.0,
        "total_examples": len(rows),
        "correct_predictions": correct,
        "mean_score_difference": statistics.fmean(diffs) if diffs else None,
        "median_score_difference": statistics.median(diffs) if diffs else None,
        "std_score_difference": statistics.stdev(diffs) if len(diffs) > 1 else None,
    }


def _crb_aspect(value: object) -> str | None:
    name = normalize_aspect(value)
    return CRB_SPELLINGS.get(name, name)


def _crb_language(value: object) -> str | None:
    name = normalize_language(value) if isinstance(value, str) else None
    return CRB_SPELLINGS.get(name, name)


def _themis_groups(rows: Sequence[dict], key: str, canonical: Callable[[object], str | None] | None) -> dict:
    """Groups by `canonical(value)`, or by the value's text where that is None (or there is no `canonical`)."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        value = row[key]
        name = canonical(value) if canonical else None
        groups.setdefault(name or str(value), []).append(row)
    return {name: {**_themis_stats(members), "count": len(members)} for name, members in sorted(groups.items())}


def summarize_themis(rows: Sequence[dict]) -> dict[str, Any]:
    """Computes the `--results-format themis` breakdowns from scored rows (pure).

    The nesting and field names are those of Themis's `results.json`
    (`overall.total_examples`, `correct_predictions`, `mean_score_difference`,
    ...); the standard deviation is the sample one (ddof=1, as pandas'
    `Series.std`), None for fewer than two pairs. Groups carry the same fields
    plus Themis's `count`; criteria and languages are grouped by meaning
    (`schemas.labels.normalize_aspect` / `normalize_language`), so
    `Functional_Correctness` and `Functional Correctness` are one group, and
    keyed by CRB's spelling (`schemas.labels.CRB_SPELLINGS`: `Functional_Correctness`,
    `Cpp`, `CSharp`), as Themis's published results are; a value neither knows
    is kept as its text.

    Args:
        rows: Dicts with `chosen_score`, `rejected_score`, `language`, `aspect`,
            `subset`. `correct` and `score_diff` are added in place.

    Returns:
        `{"overall", "by_aspect", "by_language", "by_subset"}`.
    """
    _mark_pairs(rows)
    return {
        "overall": _themis_stats(rows),
        "by_aspect": _themis_groups(rows, "aspect", _crb_aspect),
        "by_language": _themis_groups(rows, "language", _crb_language),
        "by_subset": _themis_groups(rows, "subset", None),
    }


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """Returns `accuracy`, `total` and `correct` of either `results.json` layout."""
    if "overall" in results:
        overall = results["overall"]
        return {
            "accuracy": overall["accuracy"],
            "total": overall["total_examples"],
            "correct": overall["correct_predictions"],
        }
    return {key: results[key] for key in ("accuracy", "total", "correct")}


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


def evaluate(
    config: EvalConfig,
    *,
    bench_config: str | None = None,
    split: str | None = None,
    results_format: str = "default",
) -> dict[str, Any]:
    """Scores a benchmark and writes `results.json` and `scores.parquet`.

    Args:
        config: Evaluator settings; `config.bench` is anything
            `trainer.bench_inputs.resolve_bench` accepts.
        bench_config: The CRB config of a folder or Hub id (`Full` when None).
        split: One split of that config (all when None).
        results_format: `default` or `themis` (see the module docstring).

    Returns:
        The `results.json` content.

    Raises:
        ValueError: If `results_format` is unknown.
        trainer.bench_inputs.BenchInputError: If the benchmark cannot be read.
    """
    if results_format not in RESULTS_FORMATS:
        raise ValueError(f"results_format must be one of {RESULTS_FORMATS}, got {results_format!r}")
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    rows = read_bench(config.bench, config.limit, bench_config, split)
    tokenizer = AutoTokenizer.from_pretrained(config.model, local_files_only=True)
    kwargs: dict[str, Any] = {"dtype": torch.float32, "local_files_only": True}
    if torch.cuda.is_available():
        kwargs["device_map"] = "auto"
    model = AutoModelForSequenceClassification.from_pretrained(config.model, **kwargs).eval()
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = model.config.pad_token_id
    principles = config.principle_texts()
    sequences = []
    for row in rows:
        system = prompt_for_mode(config.prompt_mode, row.get("aspect"), principles)
        for side in ("chosen", "rejected"):
            sequences.append(encode_for_scoring(tokenizer, system, row["prompt"], row[side], config.max_length))
    scores = score_sequences(model, sequences, pad_id, config.batch_size)
    for i, row in enumerate(rows):
        row["chosen_score"], row["rejected_score"] = scores[2 * i], scores[2 * i + 1]
    texts = {"principles": config.principles_path(), "principles_sha256": principles.sha256}
    if results_format == "themis":
        run = {"model": config.model, "bench": config.bench, "config": bench_config, "split": split}
        run.update(prompt_mode=config.prompt_mode, max_length=config.max_length, **texts)
        results = {**summarize_themis(rows), "run": run}
    else:
        results = {
            "model": config.model,
            "bench": config.bench,
            "prompt_mode": config.prompt_mode,
            "max_length": config.max_length,
            **texts,
            **summarize(rows),
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
        description="Pairwise accuracy of a reward model on CodeRewardBench (a file, glob, CRB folder or Hub id).",
        formatter_class=HelpFormatter,
    )
    add_bench_arguments(add_eval_arguments(parser))
    args = parser.parse_args(argv)
    results = evaluate(eval_config_from_args(args), **bench_options_from_args(args))
    print(json.dumps(headline(results)))
    return results


if __name__ == "__main__":
    main()
