"""Tiny releases written with the real pair schema, and a running audit server."""

import os
import threading

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemas.arrow import pair_schema
from schemas.labels import ASPECTS, LANGUAGES


def pair_row(idx, aspect="Runtime Efficiency", language="Python", source="commits", **extra):
    row = {
        "system": "You are a careful reviewer.",
        "input": f"Make function {idx} faster.",
        "chosen": f"def f_{idx}(xs):\n    return sum(xs)\n",
        "rejected": f"def f_{idx}(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n",
        "language": LANGUAGES.index(language),
        "aspect": ASPECTS.index(aspect),
        "source": source,
        "idx": idx,
        "origin_commit": "0" * 40,
        "repository": "example/repo",
        "license": "mit",
        "file_path": "src/f.py",
        "config_id": "cfg123",
        "judge_matches": 2,
        "judge_contradictions": 0,
        "judge_ties": 0,
        "judge_errors": 0,
        "rating_mean": 4.0,
        "label_details": None,
    }
    row.update(extra)
    return row


def write_release(out, shards, row_group_size=4):
    """Writes {split: rows} (or {file name: rows}) as OUT/data/*.parquet with `pair_schema()`."""
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    for name, rows in shards.items():
        file = name if name.endswith(".parquet") else f"{name}-00000-of-00001.parquet"
        table = pa.Table.from_pylist(rows, schema=pair_schema())
        pq.write_table(table, os.path.join(out, "data", file), row_group_size=row_group_size)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        f.write('{"config_id": "cfg123"}')
    return str(out)


STRATA = {
    ("Runtime Efficiency", "Python"): 40,
    ("Runtime Efficiency", "Go"): 12,
    ("Functional Correctness", "Python"): 25,
    ("Functional Correctness", "C++"): 3,
    ("Security Hardness", "Java"): 1,
}


def strata_rows():
    rows = []
    for (aspect, language), count in STRATA.items():
        rows += [pair_row(f"{aspect[:3]}-{language}-{i:03d}", aspect, language) for i in range(count)]
    return rows


@pytest.fixture
def release(tmp_path):
    """81 pairs in five strata (40, 12, 25, 3, 1), train and validation shards, 4-row row groups."""
    rows = strata_rows()
    return write_release(tmp_path / "out", {"train": rows[::2] + rows[1::4], "validation": rows[3::4]})


@pytest.fixture
def running():
    """Starts an `AuditServer` in a thread: `running(audit_dir, **options) -> server`; stopped after the test."""
    from pipelines.audit.server import AuditServer

    servers = []

    def start(audit_dir, **options):
        server = AuditServer(audit_dir, **options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
