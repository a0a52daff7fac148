"""Benchmark a whole release: `codepref build` on generated commits, instruction rows and preference rows.

Inputs, from the scale corpus (`benchmarks/scale_corpus.py`, seed 0; rows taken in
order, each row used once):

* `--commits` commit rows (the mine schema, JSONL): old = the pair's rejected code,
  new = its chosen code, a message of the pair's criterion, licence mit. Each line
  that differs gets a trailing comment, `NEW-CODE` on the new side and `OLD-CODE`
  on the old (or, where a side has no changed line, the line at the change), so the
  fast server's judge names the new side in either order (`benchmarks/fast_llm_server.py`)
  and pairs survive the judge as they would with a model that agrees with the commit;
* `--instructions` instruction rows (instruction, solution, language): bugged-instruct
  pairs by AST mutation;
* `--preference` preference rows (prompt, chosen, rejected, language, aspect), read
  through a column mapping, licence mit.

The LLM stages (rate, synthesize the instruction, judge 8 votes) ask the fast server
at `--latency-ms` (default 200) with `--concurrency` (default 256) requests in flight.
The build runs in a fresh measured process (`benchmarks/peers_common.measure`) under
`benchmarks/stage_sampler.py`, which charges the wall time of each thread to the
stage it was in. Results (wall, peak RSS, the funnel, requests, where the time went)
replace the `release` section of BENCHMARKS.md.

    python benchmarks/bench_release.py [--commits 100000] [--instructions 100000] [--preference 200000]
"""

import argparse
import difflib
import json
import os
import sys
import tempfile


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_dedup import ensure_corpus  # noqa: E402
from benchmarks.bench_peers_llm import Server, fast_endpoint  # noqa: E402
from benchmarks.peers_common import machine, markdown_table, measure, versions  # noqa: E402
from benchmarks.report import replace_section  # noqa: E402


HEADING = "## release: the whole build at release scale"
HERE = os.path.dirname(os.path.abspath(__file__))
MESSAGES = {
    "Runtime Efficiency": "Speed up {f}: avoid the repeated scan in the hot loop",
    "Memory Efficiency": "Reduce memory use in {f} by streaming instead of copying",
    "Security Hardness": "Validate input in {f} to prevent injection",
    "Functional Correctness": "Fix wrong result in {f} for empty input",
    "Readability and Maintainability": "Refactor {f} for readability: clearer names",
}
EXTENSIONS = {"Python": "py", "Go": "go", "Java": "java", "JavaScript": "js", "C": "c", "C++": "cpp", "C#": "cs"}
EXTENSIONS |= {"Ruby": "rb"}


def mark_changes(old: str, new: str, language: str) -> tuple[str, str]:
    """`old` and `new` with a trailing `OLD-CODE` / `NEW-CODE` comment on each line that differs."""
    hash_comment = language in ("Python", "Ruby")
    a, b = old.split("\n"), new.split("\n")
    marked_a, marked_b = set(), set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        marked_a.update(range(i1, i2) if i2 > i1 else [min(i1, len(a) - 1)])
        marked_b.update(range(j1, j2) if j2 > j1 else [min(j1, len(b) - 1)])

    def mark(lines: list[str], where: set[int], word: str) -> str:
        tail = f"  # {word}" if hash_comment else f"  // {word}"
        return "\n".join(line + tail if i in where else line for i, line in enumerate(lines))

    return mark(a, marked_a, "OLD-CODE"), mark(b, marked_b, "NEW-CODE")


def corpus_rows(corpus: str):
    """The corpus's rows in order, with language and criterion names."""
    import pyarrow.parquet as pq

    from schemas.labels import ASPECTS, LANGUAGES

    for name in sorted(os.listdir(os.path.join(corpus, "data"))):
        for batch in pq.ParquetFile(os.path.join(corpus, "data", name)).iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                yield row | {"language": LANGUAGES[row["language"]], "aspect": ASPECTS[row["aspect"]]}


def write_inputs(corpus: str, work: str, commits: int, instructions: int, preference: int) -> dict[str, int]:
    """Writes commits.jsonl, instructions.jsonl and preference.jsonl into `work`; returns the row counts."""
    rows = corpus_rows(corpus)
    counts = {}
    with open(os.path.join(work, "commits.jsonl"), "w", encoding="utf-8") as out:
        written = 0
        for row in rows:
            if written == commits:
                break
            if row["language"] not in EXTENSIONS or row["aspect"] not in MESSAGES:
                continue
            path = f"src/module_{written:06d}.{EXTENSIONS[row['language']]}"
            old, new = mark_changes(row["rejected"], row["chosen"], row["language"])
            message = MESSAGES[row["aspect"]].format(f=path)
            commit = {
                "commit": f"{written:040x}",
                "subject": message,
                "message": message,
                "repos": f"bench/service-{written % 97}",
                "file_path": path,
                "license": "mit",
                "unix_time": 1_700_000_000 + written,
                "old_contents": old,
                "new_contents": new,
            }
            out.write(json.dumps(commit) + "\n")
            written += 1
        counts["commits"] = written
    counts["instructions"] = _write_lines(
        os.path.join(work, "instructions.jsonl"),
        ({"instruction": r["input"], "solution": r["chosen"], "language": r["language"]} for r in rows),
        instructions,
    )
    keep = ("chosen", "rejected", "language", "aspect")
    counts["preference"] = _write_lines(
        os.path.join(work, "preference.jsonl"),
        ({"prompt": r["input"]} | {k: r[k] for k in keep} for r in rows),
        preference,
    )
    return counts


def _write_lines(path: str, records, limit: int) -> int:  # noqa: ANN001 - an iterator of dicts
    """Writes up to `limit` of `records` as JSON lines; returns how many."""
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            if written == limit:
                break
            out.write(json.dumps(record) + "\n")
            written += 1
    return written


def write_config(work: str, corpus: str, base_url: str, concurrency: int) -> str:
    """The build config (JSON, which is YAML) for the inputs in `work`; returns its path."""
    config = {
        "sources": {
            "commit_files": ["commits.jsonl"],
            "instructions": {"files": ["instructions.jsonl"]},
            "preference": [
                {
                    "name": "bench-preference",
                    "files": ["preference.jsonl"],
                    "columns": {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected", "aspect": "aspect"},
                    "license": "mit",
                }
            ],
        },
        "mine": {"licenses": ["mit"]},
        "llm": {"endpoints": [fast_endpoint(base_url, concurrency, timeout_s=120)], "cache": "cache.sqlite"},
        "filters": {"decontamination": {"benchmarks": [os.path.join(corpus, "benchmark", "prompts.jsonl")]}},
    }
    path = os.path.join(work, "build.yaml")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)
    return path


def stage_table(profile: dict) -> list[list[str]]:
    """Rows (where, seconds, share) of the sampler's profile, largest first."""
    interval, total = profile["interval_s"], profile["samples"] or 1
    return [
        [label, f"{count * interval:,.0f}", f"{count / total:.0%}"]
        for label, count in sorted(profile["by_label"].items(), key=lambda kv: -kv[1])
        if count / total >= 0.005
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="out/bench/scale400k", help="the scale corpus (generated if absent)")
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--instructions", type=int, default=100_000)
    parser.add_argument("--preference", type=int, default=200_000)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--work", help="keep the inputs and the output here (default: a temporary folder)")
    parser.add_argument("--report", default="BENCHMARKS.md", help="'' to print only")
    args = parser.parse_args()
    ensure_corpus(args.corpus, 400_000)
    with tempfile.TemporaryDirectory(prefix="codepref-bench-release-") as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        counts = write_inputs(args.corpus, work, args.commits, args.instructions, args.preference)
        print(f"inputs: {counts}", file=sys.stderr)
        server = Server(args.latency_ms)
        try:
            config = write_config(work, os.path.abspath(args.corpus), server.base_url, args.concurrency)
            out, profile_path = os.path.join(work, "release"), os.path.join(work, "stages.json")
            result = measure(
                [sys.executable, os.path.join(HERE, "stage_sampler.py"), profile_path]
                + ["-m", "pipelines.cli", "build", "--config", config, "--out", out],
                log=os.path.join(work, "build.log"),
            )
            served = server.served()
        finally:
            server.stop()
        if result.returncode != 0:
            raise SystemExit(f"the build failed ({result.returncode}); see {os.path.join(work, 'build.log')}")
        with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        with open(profile_path, encoding="utf-8") as f:
            profile = json.load(f)
    section = report(args, counts, manifest, profile, result, served)
    print(section)
    if args.report:
        replace_section(args.report, HEADING, section)


def report(args, counts, manifest, profile, result, served) -> str:  # noqa: ANN001 - the run's parts
    """The BENCHMARKS.md section of one run."""
    pairs = sum(split["rows"] for split in manifest["outputs"].values())
    sent = sum(stage["requests_sent"] for stage in manifest.get("llm", {}).values())
    requests = ", ".join(f"{name} {stage['requests_sent']:,}" for name, stage in manifest.get("llm", {}).items())
    ideal = args.concurrency / (args.latency_ms / 1000)
    funnel = [
        [s["name"], f"{s['in']:,}", f"{s['out']:,}", ", ".join(f"{k} {v:,}" for k, v in s["rejected"].items()) or "-"]
        for s in manifest["stages"]
    ]
    wall_goal = "met" if result.wall_s <= 3600 else "not met"
    rss_goal = "met" if result.peak_rss_mb <= 8192 else "not met"
    pairs_goal = "met" if pairs >= 350_000 else "not met"
    busy = served["completions"] / served["span_s"] if served.get("span_s") else 0.0
    lines = [
        HEADING,
        "",
        f"Machine: {machine()}. Versions: {versions('apache-beam', 'pyarrow', 'aiohttp')}. "
        f"`benchmarks/bench_release.py --commits {args.commits} --instructions {args.instructions} "
        f"--preference {args.preference} --latency-ms {args.latency_ms:g} --concurrency {args.concurrency}`: "
        f"one `codepref build` (DirectRunner, one process; its parser children) in a fresh measured process, "
        f"inputs from the scale corpus (seed 0): {counts['commits']:,} commit rows (changed lines marked for the "
        f"fast server's judge), {counts['instructions']:,} instruction rows (AST-mutation bugs), "
        f"{counts['preference']:,} preference rows; LLM stages on `benchmarks/fast_llm_server.py` at "
        f"{args.latency_ms:g} ms, `max_concurrency` {args.concurrency}, fresh cache; the final stages with "
        "decontamination against the corpus's 2,000 benchmark prompts.",
        "",
        markdown_table(
            ["pairs written", "wall s", "peak RSS MB (largest process)", "peak tree PSS MB", "LLM requests sent"],
            [
                [
                    f"{pairs:,}",
                    f"{result.wall_s:,.0f}",
                    f"{result.peak_rss_mb:,.0f}",
                    f"{result.tree_rss_mb:,.0f}",
                    f"{sent:,}",
                ]
            ],
        ),
        "",
        f"Goals: ≥ 350,000 pairs {pairs_goal}; ≤ 60 min {wall_goal} ({result.wall_s / 60:.1f} min); "
        f"≤ 8 GB {rss_goal}. LLM requests: {requests}; {sent / result.wall_s:,.0f} req/s over the whole run, "
        f"{busy:,.0f} req/s while the server was asked (its first request to its last answer, "
        f"{served.get('span_s', 0):,.0f} s), of `max_concurrency / latency` = {ideal:,.0f} req/s.",
        "",
        "Where the wall time went (`benchmarks/stage_sampler.py`: every thread's stack every "
        f"{profile['interval_s'] * 1000:g} ms, charged to the codepref DoFn it was in, waiting for answers or "
        "a parser child included; idle threads not counted; a thread-second, so the rows may sum to more than "
        "the wall time):",
        "",
        markdown_table(["where", "thread s", "share"], stage_table(profile)),
        "",
        "Funnel:",
        "",
        markdown_table(["stage", "in", "out", "rejected"], funnel),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
