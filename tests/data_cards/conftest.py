"""A tiny run folder, written as `codepref build` writes one: `pair_schema()` Parquet shards and a manifest."""

import collections
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemas.arrow import pair_schema
from schemas.labels import ASPECTS, LANGUAGES


SECRET_URL = "https://llm.internal.example:8443/v1"
SECRET_ENV = "CODEPREF_SECRET_KEY_VAR"


def pair(
    idx,
    source,
    aspect,
    language,
    licence,
    *,
    prompt="Fix the query",
    chosen="a" * 320,
    rejected="b" * 64,
    judge=None,
    details=None,
):
    matches, contradictions, ties, errors = judge or (None, None, None, None)
    return {
        "system": None,
        "input": prompt,
        "chosen": chosen,
        "rejected": rejected,
        "language": LANGUAGES.index(language),
        "aspect": ASPECTS.index(aspect),
        "source": source,
        "idx": idx,
        "origin_commit": None,
        "repository": None,
        "license": licence,
        "file_path": None,
        "config_id": "cfg1",
        "judge_matches": matches,
        "judge_contradictions": contradictions,
        "judge_ties": ties,
        "judge_errors": errors,
        "rating_mean": None,
        "label_details": None if details is None else json.dumps(details),
    }


def judge_details(a_rate, consistency):
    return {"judge": {"a_rate": a_rate, "position_consistency": consistency, "votes": []}}


SHARDS = {
    "train": [
        [
            pair(
                "r0",
                "commits",
                "Security Hardness",
                "Python",
                "mit",
                judge=(2, 0, 0, 0),
                details=judge_details(0.5, 1.0),
            ),
            pair(
                "r1",
                "commits",
                "Runtime Efficiency",
                "Go",
                "apache-2.0",
                chosen="é" * 40,
                rejected="c" * 3200,
                judge=(1, 1, 0, 0),
                details=judge_details(1.0, 0.0),
            ),
            pair("r2", "bugged_instruct", "Functional Correctness", "C", None, details={"mutation": {"line": 3}}),
        ],
        [
            pair("r3", "bugged_instruct", "Functional Correctness", "C#", None, prompt=""),
            pair("r4", "secure", "Security Hardness", "JavaScript", "mit", judge=(1, 0, 1, 0)),
        ],
    ],
    "validation": [[pair("v0", "secure", "Security Hardness", "Java", "mit")]],
}


def composition_of(shards):
    cells = collections.Counter()
    for split, files in shards.items():
        for rows in files:
            for r in rows:
                cells[(split, r["source"], ASPECTS[r["aspect"]], LANGUAGES[r["language"]])] += 1
    keys = ("split", "source", "aspect", "language")
    return [{**dict(zip(keys, k, strict=True)), "rows": n} for k, n in sorted(cells.items())]


def make_manifest(shards, files):
    return {
        "config_id": "cfg1",
        "config": {
            "BuildConfig": {
                "sources": {"preference": [{"name": "secure", "license": "mit", "hub": "org/secure-code"}]},
                "llm": {
                    "endpoints": [
                        {"name": "judge", "base_url": SECRET_URL, "model": "judge-model-7b", "api_key_env": SECRET_ENV}
                    ]
                },
            }
        },
        "stages": [
            {"name": "read_commits", "in": 3, "out": 2, "rejected": {"no_criterion": 1}},
            {"name": "read_instructions", "in": 2, "out": 2, "rejected": {}},
            {"name": "read_secure", "in": 4, "out": 2, "rejected": {"too_long": 1, "secret": 1}},
            {"name": "mix", "in": 6, "out": 6, "rejected": {}},
        ],
        "outputs": {split: {"rows": sum(map(len, shards[split])), "files": files[split]} for split in shards},
        "rejects": {
            "01_read_commits": {"rows": 1, "files": ["rejects/01_read_commits/rejects-00000-of-00001.parquet"]},
            "03_read_secure": {"rows": 2, "files": ["rejects/03_read_secure/rejects-00000-of-00001.parquet"]},
        },
        "llm": {
            "judge_pairs": {
                "requests_sent": 8,
                "cache_hits": 2,
                "retries": 1,
                "errors": {"timeout": 1},
                "prompt_tokens": 4000,
                "completion_tokens": 300,
                "cost_usd": 0.0123,
            }
        },
        "composition": composition_of(shards),
    }


def write_run(root, shards=SHARDS, manifest_edit=None):
    """Writes the shards and manifest under `root`; returns `root` as a string."""
    os.makedirs(root / "data", exist_ok=True)
    files = {}
    for split, shard_rows in shards.items():
        n = len(shard_rows)
        files[split] = [f"data/{split}-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
        for path, rows in zip(files[split], shard_rows, strict=True):
            pq.write_table(pa.Table.from_pylist(rows, schema=pair_schema()), root / path)
    manifest = make_manifest(shards, files)
    if manifest_edit:
        manifest_edit(manifest)
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return str(root)


@pytest.fixture
def run_dir(tmp_path):
    return write_run(tmp_path / "run")


def all_rows(shards=SHARDS):
    return [r for files in shards.values() for rows in files for r in rows]
