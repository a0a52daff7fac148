"""The reference approach for benchmark (d): one process, `datasets.map`, datasketch `MinHashLSH`.

The same work as `codepref filter` with the same pure checks (token-length estimate,
English prompt, secret scan, 13-gram decontamination, split), but the way one-off
scripts do it: `datasets.map` over the whole set, exact dedup with a Python set, and
near dedup with datasketch (`MinHash.update_batch` on the shingle strings, then
`MinHashLSH` query-and-insert, keeping the first row of each group), then
`Dataset.to_parquet` per split.

    python benchmarks/baseline_final.py --input 'DIR/*.parquet' --benchmark prompts.jsonl --out DIR
"""

import argparse
import glob
import hashlib
import os
import sys


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import datasets  # noqa: E402
import numpy as np  # noqa: E402
from datasketch import MinHash, MinHashLSH  # noqa: E402

from schemas.records import PairRecord  # noqa: E402
from transforms import decontaminate, split  # noqa: E402
from transforms.dedup.shingles import shingle_set  # noqa: E402
from transforms.dedup.stage import normalize  # noqa: E402
from transforms.filters import language, length, secrets  # noqa: E402


COLUMNS = ("input", "chosen", "rejected")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True)
    parser.add_argument("--benchmark", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    files = sorted(glob.glob(args.input))
    ds = datasets.load_dataset("parquet", data_files=files, split="train")
    detector = language.build_detector()
    scanners = secrets.build_detectors()
    count = length.make_token_counter(None)
    prompts = decontaminate.read_benchmark_texts(args.benchmark, "prompt")
    index = decontaminate.build_index([(args.benchmark, decontaminate.benchmark_hashes(prompts, 13))], 13)

    def keep(row: dict) -> dict:
        pair = PairRecord(
            row["idx"], row["input"], row["chosen"], row["rejected"], "Python", "Functional Correctness", row["source"]
        )
        ok = (
            length.length_reject(pair, count, 4096) is None
            and language.language_reject(pair.input, detector) is None
            and secrets.secret_reject(pair, scanners) is None
        )
        return {"keep": ok}

    ds = ds.map(keep, desc="filters").filter(lambda r: r["keep"], desc="keep").remove_columns("keep")
    seen: set[str] = set()
    lsh = MinHashLSH(threshold=0.75, num_perm=256)
    kept: list[int] = []
    for i, row in enumerate(ds.select_columns(list(COLUMNS))):
        text = normalize(row, COLUMNS)
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        m = MinHash(num_perm=256, seed=77)
        m.update_batch([s.encode() for s in shingle_set(text, 20)])
        if lsh.query(m):
            continue
        lsh.insert(str(i), m)
        kept.append(i)
    ds = ds.select(kept)

    def clean(row: dict) -> dict:
        pair = PairRecord(
            row["idx"], row["input"], row["chosen"], row["rejected"], "Python", "Functional Correctness", row["source"]
        )
        return {"clean": decontaminate.contamination(pair, index) is None, "split": split.split_of(pair)}

    ds = ds.map(clean, desc="decontaminate").filter(lambda r: r["clean"], desc="clean")
    os.makedirs(args.out, exist_ok=True)
    for name in split.SPLITS:
        part = ds.filter(lambda r, name=name: r["split"] == name, desc=name)
        part.remove_columns(["clean", "split"]).to_parquet(os.path.join(args.out, f"{name}.parquet"))
        print(name, part.num_rows, file=sys.stderr)
    _ = np  # numpy is datasketch's; imported here so its import time counts the same in both runs


if __name__ == "__main__":
    main()
