"""The scale corpus generator: layout, schema, truth files, dissimilarity and determinism (~3,000 rows)."""

import difflib
import glob
import json
import os
import random
import re
import statistics

import datasets
import pyarrow.parquet as pq
import pytest

from benchmarks.scale_corpus import DUP_KINDS, LONG_CHARS, SHINGLE_K, dedup_text, generate
from schemas.arrow import pair_features, pair_schema
from schemas.labels import ASPECTS, CODE_CRITERIA, LANGUAGES, TARGET_LANGUAGES
from transforms.commit_filters import record_id
from transforms.dedup.shingles import exact_jaccard, shingle_set, tokens


ROWS = 3_000
CODE_TOKEN = re.compile(r"\w+|[^\w\s]+")  # words and operator runs
SECRET_PATTERNS = {
    "aws_access_key": re.compile(r"AKIA[A-Z2-7]{16}"),
    "github_token": re.compile(r"ghp_[A-Za-z0-9]{36}"),
    "slack_bot_token": re.compile(r"xoxb-\d{10,13}-\d{10,13}-[A-Za-z0-9]{24}"),
    "private_key": re.compile(r"-----BEGIN RSA PRIVATE KEY-----"),
    "stripe_live_key": re.compile(r"sk_live_[A-Za-z0-9]{24}"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    summary = generate(str(out), ROWS, seed=0, shard_rows=1_000, workers=2)
    rows = pq.read_table(sorted(glob.glob(str(out / "data" / "*.parquet")))).to_pylist()
    truth = {
        name: pq.read_table(out / "truth" / f"{name}.parquet").to_pylist()
        for name in ("near_duplicates", "contaminated", "secrets", "filters")
    }
    with open(out / "benchmark" / "prompts.jsonl", encoding="utf-8") as f:
        bench = [json.loads(line)["prompt"] for line in f]
    return {
        "dir": out,
        "summary": summary,
        "rows": rows,
        "by_idx": {r["idx"]: r for r in rows},
        "truth": truth,
        "bench": bench,
    }


def files(directory):
    return {os.path.relpath(p, directory): p for p in glob.glob(str(directory / "**" / "*.*"), recursive=True)}


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_layout_schema_and_datasets_loading(corpus, tmp_path):
    out = corpus["dir"]
    shards = sorted(glob.glob(str(out / "data" / "*.parquet")))
    assert [os.path.basename(p) for p in shards] == [f"train-0000{i}-of-00003.parquet" for i in range(3)]
    for path in shards:
        assert pq.read_schema(path).equals(pair_schema(), check_metadata=True)
        assert pq.read_metadata(path).num_rows == 1_000
        assert pq.read_metadata(path).row_group(0).column(0).compression == "ZSTD"
    ds = datasets.load_dataset("parquet", data_files=shards, split="train", cache_dir=str(tmp_path / "hf"))
    assert len(ds) == ROWS
    assert ds.features == pair_features()
    names = {ds.features["language"].int2str(i) for i in set(ds["language"])}
    assert names == set(TARGET_LANGUAGES)
    assert {ds.features["aspect"].int2str(i) for i in set(ds["aspect"])} == set(CODE_CRITERIA)
    assert set(ds["source"]) == {"synthetic"}
    assert len(set(ds["idx"])) == ROWS
    assert len(corpus["bench"]) == 2_000


def test_idx_is_the_content_hash(corpus):
    copies = {t["idx"]: t["copy"] for t in corpus["truth"]["near_duplicates"]}
    for row in corpus["rows"][:500]:
        tag = f"copy{copies[row['idx']]}" if row["idx"] in copies else ""
        texts = (row["input"], row["chosen"], row["rejected"])
        assert row["idx"] == record_id(*texts, LANGUAGES[row["language"]], ASPECTS[row["aspect"]], tag)


def test_near_duplicate_truth_is_exact(corpus):
    by_idx, near = corpus["by_idx"], corpus["truth"]["near_duplicates"]
    derived = {t["idx"] for t in near}
    assert 0.08 * ROWS < len(near) < 0.12 * ROWS
    assert {t["kind"] for t in near} == set(DUP_KINDS)
    for t in near:
        assert t["idx"] in by_idx and t["source_idx"] in by_idx and t["source_idx"] not in derived
        row, src = by_idx[t["idx"]], by_idx[t["source_idx"]]
        assert (row["language"], row["aspect"]) == (src["language"], src["aspect"])
        a = shingle_set(dedup_text(row["input"], row["chosen"], row["rejected"]), SHINGLE_K)
        b = shingle_set(dedup_text(src["input"], src["chosen"], src["rejected"]), SHINGLE_K)
        assert t["jaccard"] == exact_jaccard(a, b)
        if t["kind"] == "exact":
            assert (row["input"], row["chosen"], row["rejected"]) == (src["input"], src["chosen"], src["rejected"])
        if t["kind"] == "whitespace":
            assert tokens(row["chosen"]) == tokens(src["chosen"]) and row["chosen"] != src["chosen"]
    jaccards = [t["jaccard"] for t in near]
    assert min(jaccards) < 0.45 and 0.35 < sum(j >= 0.75 for j in jaccards) / len(jaccards) < 0.65
    cluster_sizes = {}
    for t in near:
        cluster_sizes[t["source_idx"]] = cluster_sizes.get(t["source_idx"], 1) + 1
    assert max(cluster_sizes.values()) > 2 and set(cluster_sizes.values()) <= {2, 3, 4, 5, 6, 7}


def test_independent_base_rows_are_dissimilar(corpus):
    derived = {t["idx"] for t in corpus["truth"]["near_duplicates"]}
    base = [r for r in corpus["rows"] if r["idx"] not in derived]
    rng = random.Random(0)
    cache = {}

    def shingles(i):
        if i not in cache:
            cache[i] = shingle_set(dedup_text(base[i]["input"], base[i]["chosen"], base[i]["rejected"]), SHINGLE_K)
        return cache[i]

    worst = 0.0
    for _ in range(2_000):
        i, j = rng.sample(range(len(base)), 2)
        worst = max(worst, exact_jaccard(shingles(i), shingles(j)))
    assert worst < 0.3


def test_rejected_is_chosen_with_a_few_token_edits(corpus):
    edited = []
    for row in corpus["rows"][:200]:
        a, b = CODE_TOKEN.findall(row["chosen"]), CODE_TOKEN.findall(row["rejected"])
        match = difflib.SequenceMatcher(None, a, b, autojunk=False)
        assert a != b and match.ratio() > 0.6
        edited.append(sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in match.get_opcodes() if op != "equal"))
    assert statistics.median(edited) <= 12


def test_secrets_are_planted_where_recorded_and_nowhere_else(corpus):
    secrets, by_idx = corpus["truth"]["secrets"], corpus["by_idx"]
    assert secrets
    for t in secrets:
        text = by_idx[t["idx"]][t["field"]]
        assert all(part in text for part in t["value"].split("\n"))
        assert SECRET_PATTERNS[t["kind"]].search(text)
    planted = {(t["idx"], t["field"]) for t in secrets}
    for row in corpus["rows"]:
        for field in ("input", "chosen", "rejected"):
            if (row["idx"], field) not in planted:
                assert not any(p.search(row[field]) for p in SECRET_PATTERNS.values()), (row["idx"], field)


def test_contamination_is_planted_where_recorded_and_nowhere_else(corpus):
    contaminated, by_idx, bench = corpus["truth"]["contaminated"], corpus["by_idx"], corpus["bench"]
    assert contaminated
    for t in contaminated:
        assert len(tokens(t["ngram"])) >= 13
        assert t["ngram"] in by_idx[t["idx"]]["input"] and t["ngram"] in bench[t["benchmark_row"]]

    def grams(text):
        words = [w.lower() for w in tokens(text)]
        return {tuple(words[i : i + 13]) for i in range(len(words) - 12)}

    bench_grams = set().union(*(grams(b) for b in bench))
    flagged = {t["idx"] for t in contaminated}
    for row in corpus["rows"]:
        hit = bool(grams(row["input"]) & bench_grams)
        assert hit == (row["idx"] in flagged), row["idx"]


def test_filter_truth_and_sizes(corpus):
    rows, filters = corpus["rows"], corpus["truth"]["filters"]
    too_long = {t["idx"] for t in filters if t["kind"] == "too_long"}
    foreign = {t["idx"] for t in filters if t["kind"] == "non_english"}
    assert 0.003 * ROWS < len(too_long) < 0.03 * ROWS and 0.003 * ROWS < len(foreign) < 0.03 * ROWS
    for row in rows:
        size = len(row["input"]) + len(row["chosen"]) + len(row["rejected"])
        assert (size > LONG_CHARS) == (row["idx"] in too_long)
        english = sum(w in {"the", "a", "and", "that", "of", "to"} for w in row["input"].lower().split())
        assert (english == 0) == (row["idx"] in foreign), row["input"]
    chosen = [len(r["chosen"]) for r in rows]
    assert 900 < statistics.median(chosen) < 1_600 and 1_500 < statistics.fmean(chosen) < 2_600
    assert 200 < statistics.median(len(r["input"]) for r in rows) < 450


def test_summary_matches_the_data(corpus):
    s = corpus["summary"]
    assert sum(s["languages"].values()) == sum(s["aspects"].values()) == ROWS
    assert s["near_duplicates"]["rows"] == len(corpus["truth"]["near_duplicates"])
    assert s["contaminated"] == len(corpus["truth"]["contaminated"])
    assert s["seed"] == 0 and s["parameters"]["shingle_k"] == SHINGLE_K
    with open(corpus["dir"] / "truth" / "summary.json", encoding="utf-8") as f:
        assert json.load(f) == s


def test_same_seed_same_bytes_and_other_seed_differs(corpus, tmp_path):
    generate(str(tmp_path / "again"), ROWS, seed=0, shard_rows=1_000, workers=1)
    first, again = files(corpus["dir"]), files(tmp_path / "again")
    assert first.keys() == again.keys()
    for name, path in first.items():
        assert read_bytes(path) == read_bytes(again[name]), name
    generate(str(tmp_path / "other"), 500, seed=1, shard_rows=1_000, workers=1)
    other = pq.read_table(tmp_path / "other" / "data" / "train-00000-of-00001.parquet").column("idx").to_pylist()
    assert not set(other) & set(corpus["by_idx"])
