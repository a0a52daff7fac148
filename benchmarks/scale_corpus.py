"""A deterministic, seeded corpus of synthetic preference pairs, for dedup, decontamination and filter benchmarks.

Writes into `out_dir`:

- `data/train-XXXXX-of-YYYYY.parquet`: pairs in the pair schema (zstd, `shard_rows` rows a
  shard), written chunk by chunk as worker processes generate them, so memory stays flat.
  `idx` is the content hash `record_id(input, chosen, rejected, language, aspect, copy tag)`.
- `benchmark/prompts.jsonl`: a fake benchmark of English exercise statements (`prompt`).
- `truth/near_duplicates.parquet`: every derived row with its `source_idx`, the exact
  Jaccard of the k=20 word shingles of `input + "\\n" + chosen + "\\n" + rejected`, its
  `kind` and `copy` number.
- `truth/contaminated.parquet`: rows whose prompt holds a run of 13 or more words copied
  from benchmark row `benchmark_row` (the run is in `ngram`).
- `truth/secrets.parquet`: planted credentials: `idx`, `field`, `kind`, `value` (its parts,
  one a line; every line is in the field verbatim).
- `truth/filters.parquet`: `non_english` prompts and `too_long` pairs (> 16,384 characters).
- `truth/summary.json`: counts by language, aspect and kind, the Jaccard histogram, the
  seed and the parameters.

Rows come from a plan drawn with numpy from the seed: about 10% are derived from an
earlier base row (clusters of 2 to 6 rows), the others are base rows rendered by
`benchmarks.scale_corpus_code` from `random.Random` seeded by (seed, row number). A
derived row regenerates its source from the source's row number, so any worker can make
any row and the files are the same byte for byte whatever the number of workers.

    python benchmarks/scale_corpus.py --out /tmp/scale400k --rows 400000 --seed 0
"""

import argparse
import dataclasses
import json
import math
import multiprocessing
import os
import random
import statistics
import sys
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any, NamedTuple

import numpy as np


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import scale_corpus_code as tpl  # noqa: E402
from schemas.labels import ASPECTS, CODE_CRITERIA, LANGUAGES, TARGET_LANGUAGES  # noqa: E402
from schemas.records import PairRecord  # noqa: E402
from transforms.commit_filters import record_id  # noqa: E402
from transforms.dedup.shingles import exact_jaccard, shingle_set, tokens  # noqa: E402


SHINGLE_K = 20
PER_EDIT = 46  # shingles a line edit removes or adds, on average (measured on this generator)
LONG_CHARS = 16_384
DUP_KINDS = ("exact", "whitespace", "comment", "rename", "small_edit", "heavy_edit")
DUP_WEIGHTS = (0.10, 0.10, 0.10, 0.16, 0.21, 0.33)
CLUSTER_COPIES = (1, 2, 3, 4, 5)  # derived rows per source: clusters of 2 to 6 rows
CLUSTER_WEIGHTS = (0.55, 0.2, 0.12, 0.08, 0.05)
FIELDS = ("input", "chosen", "rejected")
SIZE_MU, SIZE_SIGMA, SIZE_CAP = 6.75, 1.2, 6_500  # lognormal target size of a base row's code
LEADS = (
    "{p} The task is based on this exercise: {run}",
    "Background: {run} {p}",
    "{p}\n\nReference problem: {run}",
    '{p} (It is similar to: "{run}")',
    "{run}\n\n{p}",
)


@dataclasses.dataclass(frozen=True)
class Rates:
    """Fractions of all rows that are derived, non-English, too long, contaminated or hold a secret."""

    duplicates: float = 0.10
    non_english: float = 0.01
    too_long: float = 0.01
    contaminated: float = 0.005
    secrets: float = 0.003


def dedup_text(input_: str, chosen: str, rejected: str) -> str:
    """The text the final pair dedup shingles."""
    return input_ + "\n" + chosen + "\n" + rejected


def plan(rows: int, seed: int, rates: Rates, benchmark_rows: int) -> dict[str, np.ndarray]:
    """Per row: language, aspect, flags (base rows) or kind, source and copy number (derived rows)."""
    rng = np.random.default_rng(seed)
    p = {
        "lang": rng.integers(0, len(TARGET_LANGUAGES), rows),
        "aspect": rng.integers(0, len(CODE_CRITERIA), rows),
        "kind": np.full(rows, -1),
        "src": np.full(rows, -1),
        "copy": np.zeros(rows, dtype=np.int64),
    }
    derived = min(round(rows * rates.duplicates), max(0, rows - 10))
    positions = rng.choice(np.arange(10, rows), size=derived, replace=False) if derived else np.zeros(0, np.int64)
    is_base = np.ones(rows, dtype=bool)
    is_base[positions] = False
    bases = np.flatnonzero(is_base)
    used = np.zeros(rows, dtype=bool)
    start = 0
    while start < derived:
        members = np.sort(positions[start : start + rng.choice(CLUSTER_COPIES, p=CLUSTER_WEIGHTS)])
        start += len(members)
        earlier = int(np.searchsorted(bases, members[0]))
        source = bases[rng.integers(earlier)]
        for _ in range(20):  # a source heads one cluster only, when possible
            if not used[source]:
                break
            source = bases[rng.integers(earlier)]
        used[source] = True
        p["src"][members] = source
        p["copy"][members] = np.arange(1, len(members) + 1)
        p["kind"][members] = rng.choice(len(DUP_KINDS), size=len(members), p=DUP_WEIGHTS)
    draw = rng.random((4, rows))
    p["foreign"] = is_base & (draw[0] < rates.non_english)
    p["long"] = is_base & (draw[1] < rates.too_long)
    contaminated = is_base & ~p["foreign"] & (draw[2] < rates.contaminated)
    p["bench"] = np.where(contaminated, rng.integers(0, benchmark_rows, rows), -1)
    p["secret"] = np.where(is_base & (draw[3] < rates.secrets), rng.integers(0, len(tpl.SECRET_KINDS), rows), -1)
    p["field"] = rng.choice(3, size=rows, p=(0.3, 0.35, 0.35))
    return p


def _specs(p: dict[str, np.ndarray], start: int, stop: int) -> list[tuple]:
    """The plan of rows [start, stop) as plain tuples: (row, kind, copy, source, source's spec)."""
    cols = [p[k][start:stop].tolist() for k in ("lang", "aspect", "foreign", "long", "bench", "secret", "field")]
    kinds, srcs, copies = (p[k][start:stop].tolist() for k in ("kind", "src", "copy"))
    out = []
    for j, (kind, src) in enumerate(zip(kinds, srcs, strict=True)):
        row = src if kind >= 0 else start + j
        spec = tuple(p[k][row].item() for k in ("lang", "aspect", "foreign", "long", "bench", "secret", "field"))
        out.append((start + j, kind, copies[j], row, spec if kind >= 0 else tuple(c[j] for c in cols)))
    return out


# Workers.
_BENCH: list[str] = []


def _init(bench: list[str]) -> None:
    global _BENCH
    _BENCH = bench


def _rng(seed: int, row: int, salt: int) -> random.Random:
    return random.Random(((seed * 4 + salt) << 32) | row)


class Base(NamedTuple):
    """A base row with what its derived copies need."""

    input: str
    chosen: str
    rejected: str
    gen: tpl.CodeGen
    code: tpl.Code
    language: str
    aspect: str
    idx: str
    bench: tuple[int, str] | None
    secret: tuple[str, str, str] | None
    foreign: bool


def _with_secret(text: str, code: tpl.Code, kind: str, parts: list[str]) -> str:
    d, lines = code.dialect, tpl.secret_in_code(code.dialect, kind, parts)
    at, level = code.prefix, d.level
    if d.lang == "JavaScript" and d.in_class:  # before the class: `const` is not a class member
        at, level = code.prefix - 1, 0
    pad = d.ind * level
    block = [pad + lines[0]] + lines[1:-1] + [pad + lines[-1]] if kind == "private_key" else [pad + x for x in lines]
    rows = text.split("\n")
    rows[at:at] = block + [""]
    return "\n".join(rows)


def make_base(seed: int, row: int, spec: tuple) -> Base:
    """Base row `row` of the corpus of `seed`, from its plan `spec`."""
    lang, aspect, foreign, long_, bench, secret, field = spec
    r = _rng(seed, row, 0)
    if long_:
        target = int(r.uniform(9_000, 20_000))
    else:
        target = int(min(max(r.lognormvariate(SIZE_MU, SIZE_SIGMA), 200), SIZE_CAP))
    language = TARGET_LANGUAGES[lang]
    gen = tpl.CodeGen(r, language, aspect)
    code = gen.file(target)
    texts = [tpl.prompt(r, language, aspect, code.main, gen.noun), code.text, tpl.make_rejected(r, code, aspect)]
    if foreign:
        texts[0] = tpl.foreign_prompt(r, language, code.main, gen.noun)
    planted = None
    if bench >= 0:
        words = _BENCH[bench].split(" ")
        n = r.randint(13, len(words)) if r.random() < 0.3 else r.randint(13, min(len(words), 30))
        start = 0 if r.random() < 0.5 else r.randint(0, len(words) - n)
        while len(tokens(" ".join(words[start : start + n]))) < 13:  # 13 word tokens, not just 13 words
            start, n = (start, n + 1) if start + n < len(words) else (start - 1, n + 1)
        run = " ".join(words[start : start + n])
        texts[0] = tpl.pick(r, LEADS).format(p=texts[0], run=run)
        planted = (bench, run)
    leaked = None
    if secret >= 0:
        kind = tpl.SECRET_KINDS[secret]
        parts = tpl.make_secret(r, kind)
        if field == 0:
            texts[0] += ("\n" if kind == "private_key" else " ") + tpl.secret_in_prompt(r, kind, parts)
        else:
            texts[field] = _with_secret(texts[field], code, kind, parts)
        leaked = (FIELDS[field], kind, "\n".join(parts))
    aspect_name = CODE_CRITERIA[aspect]
    idx = record_id(*texts, language, aspect_name, "")
    return Base(*texts, gen, code, language, aspect_name, idx, planted, leaked, bool(foreign))


def _rename(r: random.Random, base: Base, texts: list[str], src: set[str], target: float, keep_prompt: bool) -> None:
    """Renames the identifier whose number of uses best matches a Jaccard of `target` (a use costs ~40 shingles)."""
    tpl.rename_identifier(r, base.code, texts, len(src) * (1 - target) / 40, keep_prompt)


def _jaccard(src: set[str], texts: list[str]) -> float:
    return exact_jaccard(src, shingle_set(dedup_text(*texts), SHINGLE_K))


def _approach(r: random.Random, base: Base, texts: list[str], src: set[str], target: float, comments: bool) -> float:
    """Edits chosen and rejected until the exact Jaccard to the source is at most ~`target`; returns it."""
    jaccard = 1.0 if texts[0] == base.input else _jaccard(src, texts)
    for attempt in range(5):
        if attempt and jaccard <= target + 0.04:
            break
        edits = max(1, round(0.7 * len(src) * (jaccard - target) / PER_EDIT))
        tpl.edit_lines(r, base.gen, base.code, texts, edits, comments)
        jaccard = _jaccard(src, texts)
    return jaccard


def derive(seed: int, row: int, kind: int, base: Base) -> tuple[list[str], float]:
    """Derived row `row` made from `base` by a change of kind `DUP_KINDS[kind]`, and its exact Jaccard."""
    r = _rng(seed, row, 1)
    texts = [base.input, base.chosen, base.rejected]
    name = DUP_KINDS[kind]
    if name == "exact":
        return texts, 1.0
    if name == "whitespace":
        tpl.respace(r, base.code, texts)
        if tokens(dedup_text(*texts)) == tokens(dedup_text(base.input, base.chosen, base.rejected)):
            return texts, 1.0  # the same words, so the same shingles
    src = shingle_set(dedup_text(base.input, base.chosen, base.rejected), SHINGLE_K)
    if name == "comment":
        return texts, _approach(r, base, texts, src, r.uniform(0.8, 0.98), comments=True)
    if name == "small_edit":
        return texts, _approach(r, base, texts, src, r.uniform(0.75, 0.97), comments=False)
    keep_prompt = base.bench is not None  # the planted run must stay whole (or its 13-grams would be orphans)
    if name == "rename":
        _rename(r, base, texts, src, r.uniform(0.5, 0.95), keep_prompt)
        return texts, _jaccard(src, texts)
    target = r.uniform(0.3, 0.72)
    plain = not (base.foreign or base.bench or base.secret)
    if plain and len(src) * (1 - target) > 160 and r.random() < 0.6:  # a new prompt costs ~140 shingles
        texts[0] = tpl.prompt(r, base.language, CODE_CRITERIA.index(base.aspect), base.code.main, base.gen.noun)
    if r.random() < 0.5:
        _rename(r, base, texts, src, 1 - (1 - target) / 3, keep_prompt)
    return texts, _approach(r, base, texts, src, target, comments=False)


def _work(task: tuple[int, list[tuple]]) -> tuple[list[dict[str, Any]], dict[str, list]]:
    """Generates one chunk of rows: their Arrow-ready dicts and their truth records."""
    seed, specs = task
    rows: list[dict[str, Any]] = []
    truth: dict[str, list] = {"near": [], "contaminated": [], "secrets": [], "filters": []}
    for row, kind, copy, src, spec in specs:
        base = make_base(seed, src, spec)
        if kind < 0:
            texts, idx = [base.input, base.chosen, base.rejected], base.idx
        else:
            texts, jaccard = derive(seed, row, kind, base)
            idx = record_id(*texts, base.language, base.aspect, f"copy{copy}")
            truth["near"].append((idx, base.idx, jaccard, DUP_KINDS[kind], copy))
        rec = PairRecord(idx, *texts, language=base.language, aspect=base.aspect, source="synthetic")
        rows.append(rec.to_row())
        if base.bench and base.bench[1] in texts[0]:
            truth["contaminated"].append((idx, base.bench[0], base.bench[1]))
        if base.secret and all(part in texts[FIELDS.index(base.secret[0])] for part in base.secret[2].split("\n")):
            truth["secrets"].append((idx, *base.secret))
        if base.foreign:
            truth["filters"].append((idx, "non_english", len(texts[0])))
        size = sum(map(len, texts))
        if size > LONG_CHARS:
            truth["filters"].append((idx, "too_long", size))
    return rows, truth


def _results(seed: int, p: dict[str, np.ndarray], chunk_rows: int, workers: int, bench: list[str]) -> Iterator[tuple]:
    """Chunk results in row order; at most 2 chunks a worker are in flight, so memory stays bounded."""
    rows = len(p["lang"])
    tasks = ((seed, _specs(p, s, min(rows, s + chunk_rows))) for s in range(0, rows, chunk_rows))
    if workers <= 1:
        _init(bench)
        yield from map(_work, tasks)
        return
    with multiprocessing.get_context("spawn").Pool(workers, _init, (bench,)) as pool:
        pending = deque(pool.apply_async(_work, (t,)) for t in islice(tasks, 2 * workers))
        while pending:
            result = pending.popleft().get()
            for t in islice(tasks, 1):
                pending.append(pool.apply_async(_work, (t,)))
            yield result


class _Tally:
    """Collects the truth records and the counts for the summary while rows stream past."""

    def __init__(self) -> None:
        self.truth: dict[str, list] = {"near": [], "contaminated": [], "secrets": [], "filters": []}
        self.counts: dict[str, Counter] = {k: Counter() for k in ("language", "aspect")}
        self.chars = {k: array("I") for k in FIELDS}
        self.ids: set[str] = set()

    def add(self, rows: list[dict[str, Any]], truth: dict[str, list]) -> None:
        for key, records in truth.items():
            self.truth[key] += records
        for row in rows:
            if row["idx"] in self.ids:
                raise RuntimeError(f"duplicate idx {row['idx']}")
            self.ids.add(row["idx"])
            self.counts["language"][LANGUAGES[row["language"]]] += 1
            self.counts["aspect"][ASPECTS[row["aspect"]]] += 1
            for k in FIELDS:
                self.chars[k].append(len(row[k]))


TRUTH_COLUMNS = {
    "near_duplicates": (
        "near",
        [("idx", "string"), ("source_idx", "string"), ("jaccard", "float64"), ("kind", "string"), ("copy", "int32")],
    ),
    "contaminated": ("contaminated", [("idx", "string"), ("benchmark_row", "int32"), ("ngram", "string")]),
    "secrets": ("secrets", [("idx", "string"), ("field", "string"), ("kind", "string"), ("value", "string")]),
    "filters": ("filters", [("idx", "string"), ("kind", "string"), ("chars", "int64")]),
}


def _summary(tally: _Tally, p: dict[str, np.ndarray], params: dict[str, Any]) -> dict[str, Any]:
    near = tally.truth["near"]
    jaccards = [j for _, _, j, _, _ in near]
    bins = Counter(min(int(j * 20), 20) for j in jaccards)
    clusters = Counter(Counter(p["src"][p["src"] >= 0].tolist()).values())
    chars = {
        k: {"median": statistics.median(v), "mean": round(statistics.fmean(v), 1), "max": max(v)}
        for k, v in tally.chars.items()
        if v
    }
    return {
        "seed": params["seed"],
        "rows": params["rows"],
        "parameters": params,
        "languages": dict(sorted(tally.counts["language"].items())),
        "aspects": dict(sorted(tally.counts["aspect"].items())),
        "near_duplicates": {
            "rows": len(near),
            "kinds": dict(sorted(Counter(k for _, _, _, k, _ in near).items())),
            "clusters_by_size": {str(n + 1): c for n, c in sorted(clusters.items())},
            "jaccard_at_least_0.75": sum(j >= 0.75 for j in jaccards),
            "jaccard_at_least_0.7": sum(j >= 0.7 for j in jaccards),
            "jaccard_min": min(jaccards, default=None),
            "jaccard_histogram": {f"{b / 20:.2f}": bins[b] for b in sorted(bins)},
        },
        "contaminated": len(tally.truth["contaminated"]),
        "secrets": dict(sorted(Counter(k for _, _, k, _ in tally.truth["secrets"]).items())),
        "secrets_by_field": dict(sorted(Counter(f for _, f, _, _ in tally.truth["secrets"]).items())),
        "filters": dict(sorted(Counter(k for _, k, _ in tally.truth["filters"]).items())),
        "chars": chars,
    }


def generate(
    out_dir: str,
    rows: int = 400_000,
    seed: int = 0,
    *,
    shard_rows: int = 50_000,
    benchmark_rows: int = 2_000,
    chunk_rows: int = 1_000,
    workers: int | None = None,
    rates: Rates = Rates(),  # noqa: B008 - frozen dataclass
    progress: Callable[[int, int, float], None] | None = None,
) -> dict[str, Any]:
    """Writes the corpus of `seed` into `out_dir` (see the module docstring) and returns its summary.

    Args:
        out_dir: output folder, created if needed.
        rows: number of pairs.
        seed: the seed; the same seed and parameters give the same files byte for byte.
        shard_rows: rows per Parquet shard.
        benchmark_rows: rows of the fake benchmark.
        chunk_rows: rows per worker task (output does not depend on it).
        workers: worker processes (default: CPU count; 1 runs in this process; no effect on output).
        rates: fractions of derived, non-English, too long, contaminated and secret rows.
        progress: called as `progress(rows_done, rows, seconds)` after each chunk.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from schemas.arrow import pair_schema
    from transforms.sinks import shard_name, write_shard

    start = time.perf_counter()
    for sub in ("data", "benchmark", "truth"):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
    bench = tpl.benchmark_prompts(seed, benchmark_rows)
    with open(os.path.join(out_dir, "benchmark", "prompts.jsonl"), "w", encoding="utf-8") as f:
        for i, text in enumerate(bench):
            f.write(json.dumps({"task_id": f"SyntheticEval/{i}", "prompt": text}, ensure_ascii=False) + "\n")
    p = plan(rows, seed, rates, benchmark_rows)
    tally = _Tally()

    def stream() -> Iterator[dict[str, Any]]:
        done = 0
        for chunk, truth in _results(seed, p, chunk_rows, workers or os.cpu_count() or 1, bench):
            tally.add(chunk, truth)
            done += len(chunk)
            if progress:
                progress(done, rows, time.perf_counter() - start)
            yield from chunk

    rows_iter, shards = stream(), max(1, math.ceil(rows / shard_rows))
    for s in range(shards):
        path = os.path.join(out_dir, "data", shard_name("train", s, shards))
        write_shard(path, islice(rows_iter, shard_rows), pair_schema())
    if next(rows_iter, None) is not None:
        raise RuntimeError("more rows than planned")
    for name, (key, columns) in TRUTH_COLUMNS.items():
        schema = pa.schema([(c, getattr(pa, t)()) for c, t in columns])
        table = pa.Table.from_pylist([dict(zip(schema.names, t, strict=True)) for t in tally.truth[key]], schema=schema)
        pq.write_table(table, os.path.join(out_dir, "truth", f"{name}.parquet"), compression="zstd")
    params = {
        "seed": seed,
        "rows": rows,
        "shard_rows": shard_rows,
        "benchmark_rows": benchmark_rows,
        "shingle_k": SHINGLE_K,
        "too_long_chars": LONG_CHARS,
        "rates": dataclasses.asdict(rates),
        "dup_kinds": dict(zip(DUP_KINDS, DUP_WEIGHTS, strict=True)),
    }
    summary = _summary(tally, p, params)
    with open(os.path.join(out_dir, "truth", "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return summary


def main(argv: list[str] | None = None) -> None:
    """The command line: `--out DIR --rows N --seed S [--workers W] [--shard-rows R]`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    parser.add_argument("--shard-rows", type=int, default=50_000)
    parser.add_argument("--benchmark-rows", type=int, default=2_000)
    args = parser.parse_args(argv)
    step = max(1, args.rows // 20)
    marks = iter(range(step, args.rows + step, step))
    mark = next(marks)

    def progress(done: int, rows: int, seconds: float) -> None:
        nonlocal mark
        if done >= mark or done == rows:
            print(f"[{seconds:7.1f}s] {done:>9,}/{rows:,} rows  {done / seconds:8,.0f} rows/s", flush=True)
            while mark <= done:
                mark = next(marks, rows + 1)

    start = time.perf_counter()
    s = generate(
        args.out,
        args.rows,
        args.seed,
        shard_rows=args.shard_rows,
        benchmark_rows=args.benchmark_rows,
        workers=args.workers,
        progress=progress,
    )
    near = s["near_duplicates"]
    print(f"\nwrote {s['rows']:,} rows (seed {s['seed']}) to {args.out} in {time.perf_counter() - start:.1f}s")
    print("languages:", s["languages"])
    print("aspects:  ", s["aspects"])
    print(
        f"near-duplicates: {near['rows']:,} {near['kinds']}; jaccard >= 0.75: {near['jaccard_at_least_0.75']:,}, "
        f">= 0.7: {near['jaccard_at_least_0.7']:,}, min {near['jaccard_min']}"
    )
    print("clusters by size:", near["clusters_by_size"])
    print("contaminated:", s["contaminated"], " secrets:", s["secrets"], " filters:", s["filters"])
    print("chars:", s["chars"])


if __name__ == "__main__":
    from benchmarks.scale_corpus import main as _main  # the importable module, so worker processes find `_work`

    _main()
