"""`codepref filter` end to end on a generated corpus with planted problems (real lingua, detect-secrets, Beam)."""

import glob
import json
import subprocess
import sys

import datasets
import pyarrow.parquet as pq
import pytest

from benchmarks.scale_corpus import Rates, generate
from transforms.manifest import check_conservation


ROWS = 1_500
STAGES = ["read_pairs", "length_filter", "language_filter", "secret_scan", "exact_dedup", "near_dedup", "decontaminate"]


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "filter", *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def filtered(tmp_path_factory):
    root = tmp_path_factory.mktemp("filter")
    rates = Rates(non_english=0.03, too_long=0.01, contaminated=0.02, secrets=0.02)
    generate(str(root / "corpus"), ROWS, seed=3, shard_rows=500, workers=1, rates=rates)
    (root / "filters.yaml").write_text(
        "decontamination:\n  benchmarks: [corpus/benchmark/prompts.jsonl]\nsplit:\n  validation_fraction: 0.2\n"
    )
    corpus = str(root / "corpus" / "data" / "*.parquet")
    done = run("--input", corpus, "--filters", str(root / "filters.yaml"), "--out", str(root / "out"))
    assert done.returncode == 0, done.stderr
    truth = {
        name: pq.read_table(root / "corpus" / "truth" / f"{name}.parquet").to_pylist()
        for name in ("near_duplicates", "contaminated", "secrets", "filters")
    }
    manifest = json.loads((root / "out" / "manifest.json").read_text())
    rejects = [
        row
        for path in sorted(glob.glob(str(root / "out" / "rejects" / "*" / "*.parquet")))
        for row in pq.read_table(path).to_pylist()
    ]
    return root / "out", manifest, truth, rejects


def _kept(out) -> dict[str, dict]:
    ds = datasets.load_dataset("parquet", data_dir=str(out / "data"))
    return {split: {row["idx"]: row for row in ds[split]} for split in ds}


def test_funnel_is_complete_and_conserved(filtered):
    out, manifest, _, rejects = filtered
    assert check_conservation(manifest) == []
    assert [s["name"] for s in manifest["stages"]] == STAGES
    assert manifest["stages"][0]["in"] == ROWS
    assert len(rejects) == sum(sum(s["rejected"].values()) for s in manifest["stages"])
    kept = _kept(out)
    assert sum(len(rows) for rows in kept.values()) == manifest["stages"][-1]["out"]
    assert {split: len(rows) for split, rows in kept.items()} == {
        split: info["rows"] for split, info in manifest["outputs"].items()
    }


def test_planted_problems_never_reach_the_output(filtered):
    out, _, truth, rejects = filtered
    kept = {idx for rows in _kept(out).values() for idx in rows}
    reasons = {r["record_id"]: r["reason"] for r in rejects}
    assert truth["secrets"] and truth["contaminated"]
    assert not kept & {t["idx"] for t in truth["secrets"]}
    assert not kept & {t["idx"] for t in truth["contaminated"]}
    secret_rejects = [r for r in rejects if r["reason"] == "secret"]
    assert secret_rejects
    for planted in truth["secrets"]:
        for part in planted["value"].splitlines():
            assert all(part.strip() not in r["payload"] for r in secret_rejects if len(part.strip()) > 12)
    non_english = [t["idx"] for t in truth["filters"] if t["kind"] == "non_english"]
    assert sum(reasons.get(i) == "not_english" for i in non_english) >= 0.8 * len(non_english)
    # the truth marks prompt + chosen + rejected over 16,384 characters; the filter counts the prompt and the
    # longer side, estimated at 3.2 characters a token: over 26,500 characters in all is surely over 4,096
    too_long = [t["idx"] for t in truth["filters"] if t["kind"] == "too_long" and t["chars"] > 26_500]
    assert too_long and all(reasons.get(i) == "too_long" for i in too_long)


def test_duplicates_keep_one_row_per_group(filtered):
    out, _, truth, rejects = filtered
    kept = {idx for rows in _kept(out).values() for idx in rows}
    exact = [t for t in truth["near_duplicates"] if t["jaccard"] == 1.0]
    assert exact and not any(t["idx"] in kept and t["source_idx"] in kept for t in exact)
    dedup = [r for r in rejects if r["stage"] in ("exact_dedup", "near_dedup")]
    assert dedup and all(r["duplicate_of"] for r in dedup)
    assert all(r["duplicate_of"] in kept or r["duplicate_of"] in {d["record_id"] for d in dedup} for r in dedup)


def test_a_prompt_never_spans_two_splits(filtered):
    out, _, _, _ = filtered
    kept = _kept(out)
    assert set(kept) == {"train", "validation"} and kept["validation"]
    prompts = {split: {row["input"] for row in rows.values()} for split, rows in kept.items()}
    assert not prompts["train"] & prompts["validation"]


def test_a_new_release_drops_rows_of_the_previous_one(filtered, tmp_path):
    out, manifest, _, _ = filtered
    (tmp_path / "filters.yaml").write_text(
        f"previous_release: ['{out}/data/*.parquet']\nsplit:\n  validation_fraction: 0\n"
    )
    again = tmp_path / "again"
    released = str(out / "data" / "*.parquet")
    done = run("--input", released, "--filters", str(tmp_path / "filters.yaml"), "--out", str(again))
    assert done.returncode == 0, done.stderr
    second = json.loads((again / "manifest.json").read_text())
    near = {s["name"]: s for s in second["stages"]}["near_dedup"]
    assert near["out"] == 0 and near["rejected"] == {"in_previous_release": near["in"]}
    assert near["in"] == manifest["stages"][-1]["out"]


PAIR = {
    "input": "Sort a list.",
    "chosen": "sorted(xs)",
    "rejected": "xs.sort",
    "language": 1,
    "aspect": 0,
    "source": "mine",
    "idx": "p1",
}


def test_pair_rows_take_class_label_ids_and_counts_that_fit_their_columns():
    from pipelines.filter import pair_from_row
    from schemas.records import PairRecord

    pair = pair_from_row({**PAIR, "judge_matches": "3", "judge_ties": 0, "rating_mean": 4}, "f:1")
    assert isinstance(pair, PairRecord)
    assert (pair.language, pair.aspect, pair.judge_matches, pair.judge_ties, pair.rating_mean) == (
        "Python",
        "Readability and Maintainability",
        3,
        0,
        4.0,
    )
    assert type(pair.judge_matches) is int and type(pair.rating_mean) is float


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("language", True),
        ("aspect", False),
        ("judge_matches", True),
        ("judge_matches", 2**31),
        ("judge_matches", -1),
        ("judge_errors", 1.0),
        ("judge_ties", " 2"),
        ("rating_mean", True),
        ("rating_mean", "0.5"),
        ("rating_mean", float("nan")),
        ("rating_mean", float("inf")),
        ("rating_mean", 10**400),
    ],
)
def test_pair_rows_with_values_that_do_not_fit_are_invalid(field, value):
    from pipelines.filter import pair_from_row

    got = pair_from_row({**PAIR, field: value}, "f:2")
    assert got.reason == "invalid_row", (field, value)
    assert got.detail.startswith(f"f:2: {field}"), got.detail


def test_an_input_that_matches_nothing_is_named_by_its_flag(tmp_path, capsys):
    from tests.conftest import cli_error

    pattern = str(tmp_path / "x*.jsonl")
    status, err = cli_error(["filter", "--input", pattern, "--out", str(tmp_path / "out")], capsys)
    assert status == 2
    assert err == f"codepref filter: error: --input {pattern}: matched no file\n"
