"""Benchmark the whole non-LLM pipeline at scale (c) against the reference approach (d).

Input: the first `--shards` shards of the scale corpus (`benchmarks/scale_corpus.py`,
50,000 pairs a shard; 7 shards = 350,000 pairs) and its fake benchmark prompts.

(c) `codepref filter` (DirectRunner, one process): read → length → English prompt
    → secret scan → exact and near dedup → 13-gram decontamination → split → Parquet.
(d) `benchmarks/baseline_final.py`: the same checks in one process with
    `datasets.map` and datasketch `MinHashLSH`.

Both run one after the other in the same session; wall time and the peak resident
set of the run's largest process are recorded. Results replace the `final` section
of BENCHMARKS.md.

    python benchmarks/bench_final.py [--corpus out/bench/scale400k] [--shards 7] [--write BENCHMARKS.md]
"""

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_dedup import ensure_corpus  # noqa: E402
from benchmarks.report import replace_section  # noqa: E402


SECTION = "## final: the non-LLM pipeline on 350k pairs"


def timed_run(cmd: list[str]) -> tuple[float, int]:
    """Runs `cmd` in a fresh process; returns wall seconds and its peak RSS in MB."""
    wrapper = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, *cmd], check=True, capture_output=True, text=True)
    return time.perf_counter() - start, int(done.stdout.strip().splitlines()[-1]) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="out/bench/scale400k")
    parser.add_argument("--shards", type=int, default=7)
    parser.add_argument("--write", default="BENCHMARKS.md")
    parser.add_argument("--beam-args", default="", help="extra Beam arguments for (c), e.g. multi_processing")
    args = parser.parse_args()
    ensure_corpus(args.corpus, 400_000)
    data = os.path.join(args.corpus, "data")
    files = sorted(os.path.join(data, f) for f in os.listdir(data))[: args.shards]
    work = os.path.join(os.path.dirname(args.corpus), "final")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    benchmark = os.path.join(args.corpus, "benchmark", "prompts.jsonl")
    filters = os.path.join(work, "filters.yaml")
    with open(filters, "w") as f:
        json.dump({"decontamination": {"benchmarks": [benchmark]}}, f)  # JSON is YAML
    inputs = [x for path in files for x in ("--input", path)]
    filter_cmd = [sys.executable, "-m", "pipelines.cli", "filter"]
    ours_out = os.path.join(work, "codepref")
    ours_cmd = [*filter_cmd, *inputs, "--filters", filters, "--out", ours_out, *args.beam_args.split()]
    ours = timed_run(ours_cmd)
    with open(os.path.join(work, "codepref", "manifest.json")) as f:
        manifest = json.load(f)
    rows_in = manifest["stages"][0]["in"]
    rows_out = sum(v["rows"] for v in manifest["outputs"].values())
    print(f"codepref: {ours[0]:.0f} s, {ours[1]} MB, {rows_in:,} → {rows_out:,}", file=sys.stderr)
    baseline = os.path.join(os.path.dirname(__file__), "baseline_final.py")
    base_input = os.path.join(data, "*.parquet") if args.shards >= len(os.listdir(data)) else files[0]
    base_out = os.path.join(work, "baseline")
    base_cmd = [sys.executable, baseline, "--input", base_input, "--benchmark", benchmark, "--out", base_out]
    if args.shards < len(os.listdir(data)):
        link = os.path.join(work, "input")
        os.makedirs(link)
        for path in files:
            os.symlink(os.path.abspath(path), os.path.join(link, os.path.basename(path)))
        base_cmd[3] = os.path.join(link, "*.parquet")
    base = timed_run(base_cmd)
    print(f"baseline: {base[0]:.0f} s, {base[1]} MB", file=sys.stderr)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    funnel = ", ".join(f"{s['name']} −{sum(s['rejected'].values()):,}" for s in manifest["stages"][1:])
    mode = args.beam_args or "DirectRunner, one process"
    lines = [
        SECTION,
        "",
        f"Machine: {machine}, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GB. "
        f"Input: {rows_in:,} pairs of the scale corpus ({len(files)} shards), 2,000 benchmark prompts. "
        f"Both runs in the same session, one after the other. Funnel of (c): {funnel}; "
        f"{rows_out:,} pairs written.",
        "",
        "| run | wall s | pairs/s | peak RSS MB | vs baseline (time) | target |",
        "|---|---|---|---|---|---|",
        f"| (c) codepref filter ({mode}) | {ours[0]:,.0f} | {rows_in / ours[0]:,.0f} | {ours[1]:,} | "
        f"{base[0] / ours[0]:.2f}× | ≤ 600 s, ≤ 4,096 MB |",
        f"| (d) baseline: datasets.map + datasketch MinHashLSH, one process | {base[0]:,.0f} | "
        f"{rows_in / base[0]:,.0f} | {base[1]:,} | 1.00× | - |",
    ]
    print("\n".join(lines), file=sys.stderr)
    replace_section(args.write, SECTION, "\n".join(lines))
    _ = resource  # the children's rusage is read inside the wrapper process


if __name__ == "__main__":
    main()
