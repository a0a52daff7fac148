"""Benchmark `codepref mine`: commits scanned per second and peak memory.

Builds a deterministic repository of N commits (default 6,000) across the 8
languages, with the usual share of multi-file, added and generic-message commits,
then runs, on the same repository in the same session:

- baseline: the per-commit approach of one-off scripts (a `git show` for the
  message, a `git diff-tree` for the files and a `git show` per blob, per commit);
- `codepref mine` on DirectRunner, one worker and two worker processes.

Peak memory is the largest resident set of the run's process tree (ru_maxrss of
children). Results replace the `mine` section of BENCHMARKS.md.

    python benchmarks/bench_mine.py [--commits 6000] [--baseline-sample 600]
"""

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.report import replace_section  # noqa: E402
from pipelines.demo import load_samples  # noqa: E402
from pipelines.git_history import GitHistory  # noqa: E402


MESSAGES = (
    "Fix bug in {f}",
    "Speed up {f} with a lookup table",
    "Refactor {f} for readability",
    "Reduce memory usage in {f}",
    "Validate input in {f} to prevent injection",
    "wip",
    "Tweak {f}",
)


def build_repo(path: str, commits: int) -> None:
    rng = random.Random(7)
    samples = load_samples()
    h = GitHistory()
    h.commit(
        "Initial import", {"LICENSE": "MIT License\n\nPermission is hereby granted, free of charge, to any person"}
    )
    for i in range(commits - 1):
        s = samples[rng.randrange(len(samples))]
        path_i = s.path.replace("/", f"/m{rng.randrange(60)}_", 1)
        body = (s.before if rng.random() < 0.5 else s.after) + f"\n// rev {i}\n"
        files = {path_i: body}
        if rng.random() < 0.2:
            other = samples[rng.randrange(len(samples))]
            files[other.path] = other.after + f"\n// rev {i}\n"
        h.commit(rng.choice(MESSAGES).format(f=os.path.basename(path_i)), files)
    h.write(path, origin="https://github.com/bench/history.git")


_MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def baseline(repo: str, sample: int) -> float:
    shas = subprocess.run(
        ["git", "-C", repo, "rev-list", "--all"], capture_output=True, text=True, check=True
    ).stdout.split()[:sample]
    start = time.perf_counter()
    for sha in shas:
        subprocess.run(["git", "-C", repo, "show", "-s", "--format=%P%x00%B", sha], capture_output=True, check=True)
        raw = subprocess.run(
            ["git", "-C", repo, "diff-tree", "-r", "-M", "--no-commit-id", "--raw", sha],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        if len(raw) == 1 and raw[0].split()[4] == "M":
            path = raw[0].split("\t")[1]
            subprocess.run(["git", "-C", repo, "show", f"{sha}:{path}"], capture_output=True, check=True)
            subprocess.run(["git", "-C", repo, "show", f"{sha}^:{path}"], capture_output=True, check=True)
    return len(shas) / (time.perf_counter() - start)


def run_mine(repo: str, out: str, extra: list[str]) -> tuple[float, int, float]:
    cmd = [sys.executable, "-m", "pipelines.cli", "mine", "--repo", repo, "--out", out, *extra]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    with open(os.path.join(out, "manifest.json")) as f:
        scanned = json.load(f)["stages"][0]["in"]
    return wall, scanned, int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=6000)
    parser.add_argument("--baseline-sample", type=int, default=600)
    parser.add_argument("--write", default="BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, "repo")
        t0 = time.perf_counter()
        build_repo(repo, args.commits)
        build_s = time.perf_counter() - t0
        base_rate = baseline(repo, args.baseline_sample)
        rows = [("baseline: per-commit git calls (sampled)", f"{base_rate:,.0f}", "-", "-", "1.0×")]
        for label, extra in (
            ("codepref mine, DirectRunner, 1 worker", []),
            (
                "codepref mine, DirectRunner, 2 processes",
                ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
            ),
        ):
            wall, scanned, rss = run_mine(repo, os.path.join(tmp, f"out{len(rows)}"), extra)
            rate = scanned / wall
            rows.append((label, f"{rate:,.0f}", f"{wall:.1f}", f"{rss:,.0f}", f"{rate / base_rate:.1f}×"))
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, git "
        + subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()[-1]
    )
    lines = [
        "## mine: commits scanned per second",
        "",
        f"Machine: {machine}. Repository: {scanned:,} commits across 8 languages, built in {build_s:.0f} s by "
        "`benchmarks/bench_mine.py` (deterministic). Baseline and codepref measured in the same run.",
        "",
        "| run | commits/s | wall s | peak RSS MB | vs baseline |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(r)} |" for r in rows],
        "",
        "Peak RSS is the largest single process of that run (ru_maxrss over its process tree).",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        replace_section(args.write, "## mine:", section)


if __name__ == "__main__":
    main()
