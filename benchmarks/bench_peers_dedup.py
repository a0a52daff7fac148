"""Near-dedup side by side: `codepref dedup` against datatrove's 4-stage MinHash pipeline.

Corpus: the scale corpus (`benchmarks/scale_corpus.py`, `--docs` rows, seed 0),
one document a row: its `chosen` field, a generated source file in one of eight
languages. About 10% of the rows are planted near-duplicates of an earlier row
(clusters of 2 to 6: exact copies, respacing, comment edits, renames, small and
heavy line edits). The documents are written once, before any timing, as two
Parquet shards (zstd) with columns `id` and `text`, which both tools read
(datatrove through its `ParquetReader`: its `JsonlReader` needs orjson, which is
not installed).

Truth: for every planted family (a source and its copies), the exact Jaccard of
each pair's word 5-gram sets (codepref's tokens: maximal `[A-Za-z0-9_]` runs).
Pairs at or above the threshold (0.7) are joined into *truth groups*; an ideal
dedup removes all but one member of each group.

Contenders, each in a fresh measurer subprocess (`benchmarks/peers_common.py`),
alternating order each round, 2 workers each:

- codepref: `python -m pipelines.cli dedup --columns text --ngram 5 --threshold 0.7
  --num-perm 256 --id-column id` on DirectRunner, `--direct_num_workers=2
  --direct_running_mode=multi_processing`. Its LSH bands are chosen by
  `optimal_bands` (recall-weighted) and candidates are verified by exact Jaccard.
- datatrove: `MinhashDedupSignature` → `MinhashDedupBuckets` → `MinhashDedupCluster`
  → `MinhashDedupFilter` on `LocalPipelineExecutor`: stages 1 and 4 with tasks=2,
  workers=2; stage 2 with tasks=num_buckets (datatrove requires the task count to
  be a multiple of num_buckets), workers=2; stage 3 with tasks=1 (required).
  `MinhashConfig(n_grams=5, num_buckets=16, hashes_per_bucket=8)`: LSH threshold
  (1/16)^(1/8) = 0.707; 64-bit xxhash (its default; with xxhash 4 each shingle is
  UTF-8 encoded first, `xxhash64_text`, as xxhash 3 did inside). Its default word tokenizer
  (NLTK punkt) needs a download, so it is given `CodeWordTokenizer`, which splits
  like codepref's `WORD`, and its text normalisation (lower-casing, numbers → 0,
  punctuation and `_` → space) is switched off, so both tools shingle the same
  words (`--datatrove-norm` keeps datatrove's default normalisation instead).
  Its writers write Parquet (`ParquetWriter`, its default snappy compression).

Measures: wall, docs/s (docs / wall), peak RSS (ru_maxrss of the measurer's
children: the largest single process) and the sampled peak of the tree's summed
PSS, the load average before and after; precision and recall from the set of
documents each tool removed, computed the same way for both:

- recall: over truth groups, removed members counted up to size − 1, divided by
  the sum of (size − 1);
- precision: removed documents that have some other document at exact Jaccard
  ≥ 0.7 (a truth-group member, or an unplanted near-duplicate found through an
  exact index of all shingles), over all removed;
- emptied groups: truth groups with no member kept.

    python benchmarks/bench_peers_dedup.py [--docs 50000] [--rounds 2] [--report BENCHMARKS.md]
"""

import argparse
import glob
import json
import os
import shutil
import sys
import time
from collections import defaultdict


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from benchmarks.peers_common import machine, markdown_table, measure, summary, versions  # noqa: E402
from benchmarks.report import replace_section  # noqa: E402
from transforms.dedup.components import union_find_roots  # noqa: E402
from transforms.dedup.minhash import optimal_bands  # noqa: E402
from transforms.dedup.shingles import WORD, exact_jaccard, shingle_hashes_batch, shingle_set  # noqa: E402


SECTION = "## peers: near-dedup vs datatrove"
NGRAM = 5
THRESHOLD = 0.7
NUM_PERM = 256
WORKERS = 2
SHARDS = 2
GOAL = 3.0  # codepref docs/s over datatrove's, at recall >= datatrove's


# datatrove's side (imported in its measured subprocess only).

try:
    from datatrove.utils.word_tokenizers import WordTokenizer
except ImportError:  # the bench extra is missing: main() says so
    WordTokenizer = object  # type: ignore[assignment,misc]


class CodeWordTokenizer(WordTokenizer):
    """datatrove word tokenizer with codepref's tokens: maximal runs of `[A-Za-z0-9_]`."""

    def __init__(self) -> None:
        super().__init__()

    def word_tokenize(self, text: str) -> list[str]:
        return WORD.findall(text)

    def sent_tokenize(self, text: str) -> list[str]:
        return [text]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))]


def xxhash64_text(text: str) -> int:
    """datatrove's 64-bit xxhash of a shingle string, encoded as UTF-8 first.

    datatrove 0.10.1 passes `str` to `xxhash.xxh64_intdigest`, which xxhash 3 encoded
    as UTF-8 and xxhash 4 refuses ("Strings must be encoded before hashing"): this is
    the same hash, so the signatures equal those datatrove makes with xxhash 3.
    """
    import xxhash

    return xxhash.xxh64_intdigest(text.encode("utf-8"))


def run_datatrove(
    parquet_dir: str, work: str, buckets: int, rows: int, tasks: int, workers: int, norm: bool = False
) -> dict:
    """datatrove's four MinHash stages over `parquet_dir` into `work` (kept/ and removed/); returns the settings."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.text import TextNormConfig

    plain = TextNormConfig(
        lowercase=False,
        norm_whitespace=False,
        remove_punctuation=False,
        norm_unicode_diacritics=False,
        norm_numbers=False,
    )
    cfg = MinhashConfig(n_grams=NGRAM, num_buckets=buckets, hashes_per_bucket=rows)
    if not norm:
        cfg.norm_config = plain

    def folder(name: str) -> str:
        return os.path.join(work, name)

    signature = MinhashDedupSignature(output_folder=folder("signatures"), config=cfg, language=CodeWordTokenizer())
    try:
        signature._hash_func("probe")
    except TypeError:  # xxhash >= 4 under datatrove 0.10.1
        signature._hash_func = xxhash64_text

    def reader() -> ParquetReader:
        return ParquetReader(parquet_dir, glob_pattern="*.parquet", text_key="text", id_key="id")

    stages = [
        LocalPipelineExecutor(
            pipeline=[reader(), signature],
            tasks=tasks,
            workers=workers,
            logging_dir=folder("logs/signatures"),
        ),
        LocalPipelineExecutor(
            pipeline=[
                MinhashDedupBuckets(input_folder=folder("signatures"), output_folder=folder("buckets"), config=cfg)
            ],
            tasks=buckets,
            workers=workers,
            logging_dir=folder("logs/buckets"),
        ),
        LocalPipelineExecutor(
            pipeline=[
                MinhashDedupCluster(input_folder=folder("buckets"), output_folder=folder("remove_ids"), config=cfg)
            ],
            tasks=1,
            logging_dir=folder("logs/clusters"),
        ),
        LocalPipelineExecutor(
            pipeline=[
                reader(),
                MinhashDedupFilter(
                    input_folder=folder("remove_ids"),
                    exclusion_writer=ParquetWriter(folder("removed")),
                ),
                ParquetWriter(folder("kept")),
            ],
            tasks=tasks,
            workers=workers,
            logging_dir=folder("logs/filter"),
        ),
    ]
    for stage in stages:
        stage.run()
    return {"buckets": buckets, "rows": rows, "threshold": (1 / buckets) ** (1 / rows), "norm": norm}


# The corpus.


def build_corpus(workdir: str, docs: int, seed: int) -> dict:
    """Generates the scale corpus (if missing) and writes its `chosen` files as Parquet shards, once."""
    from benchmarks.scale_corpus import generate

    scale = os.path.join(workdir, f"scale-{docs}-s{seed}")
    if not os.path.exists(os.path.join(scale, "truth", "summary.json")):
        print(f"generating {docs:,} rows into {scale}", file=sys.stderr)
        generate(scale, rows=docs, seed=seed, shard_rows=max(docs, 1))
    out = os.path.join(workdir, f"docs-{docs}-s{seed}")
    parquet_dir = os.path.join(out, "parquet")
    if not os.path.exists(os.path.join(out, "done")):
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(parquet_dir)
        table = pq.read_table(sorted(glob.glob(os.path.join(scale, "data", "*.parquet"))), columns=["idx", "chosen"])
        table = pa.table({"id": table["idx"], "text": table["chosen"]})
        bounds = np.linspace(0, table.num_rows, SHARDS + 1).astype(int)
        for i in range(SHARDS):
            part = table.slice(bounds[i], bounds[i + 1] - bounds[i])
            pq.write_table(part, os.path.join(parquet_dir, f"part-{i:05d}.parquet"), compression="zstd")
        open(os.path.join(out, "done"), "w").close()
    return {"scale": scale, "parquet": parquet_dir}


def read_docs(parquet_dir: str) -> dict[str, str]:
    """id → text of every document."""
    table = pq.read_table(parquet_dir)
    return dict(zip(table["id"].to_pylist(), table["text"].to_pylist(), strict=True))


class Truth:
    """Planted families, their exact word 5-gram Jaccards and the truth groups (Jaccard ≥ threshold)."""

    def __init__(self, scale: str, docs: dict[str, str], threshold: float) -> None:
        planted = pq.read_table(os.path.join(scale, "truth", "near_duplicates.parquet")).to_pylist()
        families: dict[str, list[str]] = defaultdict(list)
        for t in planted:
            if t["idx"] in docs and t["source_idx"] in docs:
                families[t["source_idx"]].append(t["idx"])
        self.docs, self.threshold = docs, threshold
        self.planted_pairs = sum(map(len, families.values()))
        self.source_jaccards: list[float] = []
        self.in_family: set[str] = set()
        edges = []
        for source, copies in families.items():
            members = [source, *copies]
            self.in_family.update(members)
            sets = {m: shingle_set(docs[m], NGRAM) for m in members}
            for c in copies:
                self.source_jaccards.append(exact_jaccard(sets[source], sets[c]))
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    if exact_jaccard(sets[a], sets[b]) >= threshold:
                        edges.append((a, b))
        groups: dict[str, list[str]] = defaultdict(list)
        for node, root in union_find_roots(edges).items():
            groups[root].append(node)
        self.groups = [sorted(g) for g in groups.values()]
        self.group_of = {m: i for i, g in enumerate(self.groups) for m in g}
        self._index = None

    def _build_index(self) -> None:
        ids = list(self.docs)
        texts = [self.docs[i] for i in ids]
        hashes, sizes, owners = [], [], []
        for start in range(0, len(texts), 1024):
            h, off = shingle_hashes_batch(texts[start : start + 1024], NGRAM)
            for j in range(len(off) - 1):
                u = np.unique(h[off[j] : off[j + 1]])
                hashes.append(u)
                sizes.append(len(u))
                owners.append(np.full(len(u), start + j, dtype=np.int32))
        flat, who = np.concatenate(hashes), np.concatenate(owners)
        order = np.argsort(flat, kind="stable")
        self._index = (ids, {d: k for k, d in enumerate(ids)}, hashes, np.array(sizes), flat[order], who[order])

    def has_partner(self, doc: str) -> bool:
        """Whether some other document has exact word 5-gram Jaccard ≥ threshold with `doc`."""
        if doc in self.group_of:
            return True
        if self._index is None:
            self._build_index()
        ids, where, hashes, sizes, flat, who = self._index
        k = where[doc]
        mine = hashes[k]
        lo, hi = np.searchsorted(flat, mine, "left"), np.searchsorted(flat, mine, "right")
        owners = np.concatenate([who[a:b] for a, b in zip(lo, hi, strict=True)]) if len(mine) else np.zeros(0, int)
        common = np.bincount(owners, minlength=len(ids))
        common[k] = 0
        jaccard = common / np.maximum(sizes + sizes[k] - common, 1)
        mine_set = shingle_set(self.docs[doc], NGRAM)
        for other in np.flatnonzero(jaccard >= self.threshold - 0.02):  # 32-bit hashes: confirm exactly
            if exact_jaccard(mine_set, shingle_set(self.docs[ids[other]], NGRAM)) >= self.threshold:
                return True
        return False

    def score(self, removed: set[str]) -> dict:
        """Precision, recall and emptied groups of one tool's removed set."""
        expected = sum(len(g) - 1 for g in self.groups)
        found = sum(min(sum(m in removed for m in g), len(g) - 1) for g in self.groups)
        emptied = sum(all(m in removed for m in g) for g in self.groups)
        justified = below = other = 0
        for doc in removed:
            if self.has_partner(doc):
                justified += 1
            elif doc in self.in_family:
                below += 1
            else:
                other += 1
        return {
            "removed": len(removed),
            "expected": expected,
            "found": found,
            "recall": found / max(expected, 1),
            "justified": justified,
            "precision": justified / max(len(removed), 1),
            "fp_planted_below": below,
            "fp_unrelated": other,
            "emptied": emptied,
        }


# Outputs.


def codepref_removed(out: str) -> tuple[set[str], int]:
    """Ids codepref rejected as exact or near duplicates, and how many rows it kept."""
    removed: set[str] = set()
    for path in glob.glob(os.path.join(out, "rejects", "*", "*.parquet")):
        removed.update(pq.read_table(path, columns=["record_id"])["record_id"].to_pylist())
    kept = sum(pq.ParquetFile(p).metadata.num_rows for p in glob.glob(os.path.join(out, "data", "*.parquet")))
    return removed, kept


def datatrove_removed(work: str) -> tuple[set[str], int]:
    """Ids datatrove's filter excluded, and how many documents it kept."""

    def ids(folder: str) -> list[str]:
        out = []
        for path in sorted(glob.glob(os.path.join(work, folder, "*.parquet"))):
            out.extend(pq.read_table(path, columns=["id"])["id"].to_pylist())
        return out

    return set(ids("removed")), len(ids("kept"))


# The run.


def codepref_command(parquet_dir: str, out: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pipelines.cli",
        "dedup",
        "--input",
        os.path.join(parquet_dir, "*.parquet"),
        "--out",
        out,
        "--columns",
        "text",
        "--ngram",
        str(NGRAM),
        "--threshold",
        str(THRESHOLD),
        "--num-perm",
        str(NUM_PERM),
        "--id-column",
        "id",
        f"--direct_num_workers={WORKERS}",
        "--direct_running_mode=multi_processing",
    ]


def run_once(name: str, paths: dict, work: str, args: argparse.Namespace) -> tuple:
    """One measured run of a contender into a fresh `work`; returns the MeasureResult, removed ids and kept count."""
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log = work + ".log"
    if name == "codepref":
        out = os.path.join(work, "out")
        result = measure(codepref_command(paths["parquet"], out), log=log, timeout_s=args.timeout)
        removed, kept = codepref_removed(out)
    else:
        kwargs = {
            "parquet_dir": paths["parquet"],
            "work": work,
            "buckets": args.dt_buckets,
            "rows": args.dt_rows,
            "tasks": WORKERS,
            "workers": WORKERS,
            "norm": args.datatrove_norm,
        }
        result = measure("benchmarks.bench_peers_dedup:run_datatrove", kwargs, log=log, timeout_s=args.timeout)
        removed, kept = datatrove_removed(work)
    return result, removed, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=50_000, help="documents (scale corpus rows; default 50000)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each running both contenders (default 2)")
    parser.add_argument(
        "--report", default="BENCHMARKS.md", help="file whose section is replaced (default BENCHMARKS.md)"
    )
    parser.add_argument(
        "--workdir", default="out/bench/peers-dedup", help="corpus and outputs (default out/bench/peers-dedup)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the scale corpus's seed (default 0)")
    parser.add_argument("--dt-buckets", type=int, default=16, help="datatrove num_buckets (default 16)")
    parser.add_argument("--dt-rows", type=int, default=8, help="datatrove hashes_per_bucket (default 8)")
    parser.add_argument(
        "--datatrove-norm",
        action="store_true",
        help="keep datatrove's default text normalisation (not codepref's words)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run before it is killed")
    args = parser.parse_args()
    try:
        import datatrove  # noqa: F401
    except ImportError:
        sys.exit("datatrove is not installed: pip install -e '.[bench]'")
    workdir = os.path.abspath(args.workdir)
    start = time.perf_counter()
    paths = build_corpus(workdir, args.docs, args.seed)
    docs = read_docs(paths["parquet"])
    truth = Truth(paths["scale"], docs, THRESHOLD)
    print(
        f"{len(docs):,} docs, {truth.planted_pairs:,} planted pairs "
        f"({sum(j >= THRESHOLD for j in truth.source_jaccards):,} at Jaccard >= {THRESHOLD}), "
        f"{len(truth.groups):,} truth groups; corpus ready in {time.perf_counter() - start:.0f} s",
        file=sys.stderr,
    )
    contenders = ("codepref", "datatrove")
    runs: dict[str, list] = {c: [] for c in contenders}
    outputs: dict[str, list[set[str]]] = {c: [] for c in contenders}
    kept_counts: dict[str, list[int]] = {c: [] for c in contenders}
    per_round = []
    for r in range(args.rounds):
        for name in contenders if r % 2 == 0 else contenders[::-1]:
            result, removed, kept = run_once(name, paths, os.path.join(workdir, f"run-{name}"), args)
            runs[name].append(result)
            outputs[name].append(removed)
            kept_counts[name].append(kept)
            per_round.append((r + 1, name, result, len(removed), kept))
            print(
                f"round {r + 1} {name}: {result.wall_s:.1f} s, {len(docs) / result.wall_s:,.0f} docs/s, "
                f"peak RSS {result.peak_rss_mb:,.0f} MB (tree PSS {result.tree_rss_mb:,.0f} MB), "
                f"removed {len(removed):,}, kept {kept:,}, "
                f"load {result.load_before[0]:.2f} → {result.load_after[0]:.2f}",
                file=sys.stderr,
            )
    scores = {c: truth.score(outputs[c][0]) for c in contenders}
    stable = {c: all(o == outputs[c][0] for o in outputs[c]) for c in contenders}
    conserved = {
        c: all(k + len(o) == len(docs) for k, o in zip(kept_counts[c], outputs[c], strict=True)) for c in contenders
    }
    print(json.dumps(scores, indent=1), file=sys.stderr)

    walls = {c: summary([x.wall_s for x in runs[c]]) for c in contenders}
    rows = []
    for c in contenders:
        w, s = walls[c], scores[c]
        rows.append(
            [
                c,
                w["n"],
                f"{w['min']:,.1f} / {w['median']:,.1f}",
                f"{len(docs) / w['min']:,.0f} / {len(docs) / w['median']:,.0f}",
                f"{max(x.peak_rss_mb for x in runs[c]):,.0f}",
                f"{max(x.tree_rss_mb for x in runs[c]):,.0f}",
                f"{s['recall']:.4f} ({s['found']:,} of {s['expected']:,})",
                f"{s['precision']:.4f} ({s['justified']:,} of {s['removed']:,})",
                f"{s['fp_planted_below']:,} / {s['fp_unrelated']:,}",
                s["emptied"],
                "yes" if stable[c] else "NO",
                "yes" if conserved[c] else "NO",
            ]
        )
    ratio_best = walls["datatrove"]["min"] / walls["codepref"]["min"]
    ratio_median = walls["datatrove"]["median"] / walls["codepref"]["median"]
    met = ratio_median >= GOAL and scores["codepref"]["recall"] >= scores["datatrove"]["recall"]
    bands, band_rows = optimal_bands(THRESHOLD, NUM_PERM, 0.1, 0.9)
    dt_threshold = (1 / args.dt_buckets) ** (1 / args.dt_rows)
    loads = [x.load_before[0] for c in contenders for x in runs[c]] + [
        x.load_after[0] for c in contenders for x in runs[c]
    ]
    settings = (
        f"Machine: {machine()}. Versions: "
        + versions("codepref", "apache-beam", "datatrove", "numpy", "pyarrow", "xxhash")
        + ". "
        f"Corpus: {len(docs):,} generated source files (the `chosen` field of `benchmarks/scale_corpus.py`, seed "
        f"{args.seed}), {truth.planted_pairs:,} planted near-duplicates, "
        f"{sum(j >= THRESHOLD for j in truth.source_jaccards):,} of them at exact word 5-gram Jaccard ≥ {THRESHOLD} "
        f"with their source, {len(truth.groups):,} truth groups; {SHARDS} Parquet shards written once, read "
        "by both. Both tools shingle the same words (maximal `[A-Za-z0-9_]` runs; datatrove through "
        "`CodeWordTokenizer` with its text normalisation "
        + ("on, so its words are lower-cased and `_`-split" if args.datatrove_norm else "off")
        + f"), word {NGRAM}-grams. codepref: `codepref dedup` on DirectRunner, "
        f"{WORKERS} worker processes (multi_processing), {NUM_PERM} permutations, {bands} bands × {band_rows} rows "
        f"(LSH threshold {(1 / bands) ** (1 / band_rows):.3f}), candidates verified at exact Jaccard ≥ {THRESHOLD}. "
        f"datatrove: MinhashConfig(n_grams={NGRAM}, num_buckets={args.dt_buckets}, "
        f"hashes_per_bucket={args.dt_rows}), {args.dt_buckets * args.dt_rows} permutations of 64-bit xxhash "
        "shingle hashes (UTF-8 encoded first: datatrove 0.10.1 passes `str`, which xxhash 4 refuses), "
        f"LSH threshold (1/{args.dt_buckets})^(1/{args.dt_rows}) = {dt_threshold:.3f}, no verification; "
        f"LocalPipelineExecutor stages: signatures tasks={WORKERS} workers={WORKERS}, buckets "
        f"tasks={args.dt_buckets} workers={WORKERS}, cluster tasks=1, filter tasks={WORKERS} workers={WORKERS}; "
        "Parquet output. Each run in a fresh subprocess, contenders alternating, "
        f"{args.rounds} round(s); 1-minute load average {min(loads):.2f} to {max(loads):.2f} around the runs."
    )
    headers = [
        "tool",
        "runs",
        "wall s (min / median)",
        "docs/s (best / median)",
        "peak RSS MB (largest process)",
        "peak tree PSS MB (sum, sampled)",
        "recall (truth groups)",
        "precision (removed with a partner ≥ 0.7)",
        "false removals: planted below 0.7 / unrelated",
        "groups emptied",
        "same output every round",
        "kept + removed = docs",
    ]
    round_rows = [
        [
            r,
            name,
            f"{res.wall_s:,.1f}",
            f"{len(docs) / res.wall_s:,.0f}",
            f"{res.peak_rss_mb:,.0f}",
            f"{res.tree_rss_mb:,.0f}",
            f"{res.load_before[0]:.2f} → {res.load_after[0]:.2f}",
            f"{n_removed:,}",
        ]
        for r, name, res, n_removed, _ in per_round
    ]
    lines = [
        SECTION,
        "",
        settings,
        "",
        markdown_table(headers, rows),
        "",
        f"codepref vs datatrove throughput: {ratio_median:.2f}× (medians), {ratio_best:.2f}× (best runs); "
        f"goal ≥ {GOAL:.0f}× at recall ≥ datatrove's: {'met' if met else 'not met'}.",
        "",
        markdown_table(
            ["round", "tool", "wall s", "docs/s", "peak RSS MB", "tree PSS MB", "load 1-min before → after", "removed"],
            round_rows,
        ),
    ]
    text = "\n".join(lines)
    print(text, file=sys.stderr)
    replace_section(args.report, SECTION, text)
    print(f"wrote {SECTION!r} into {args.report}", file=sys.stderr)


if __name__ == "__main__":
    main()
