"""Benchmark `transforms.execution`: how many planted bugs really break the tests, and what checking costs.

On the instruction set of `benchmarks/execution_tasks.py` (Python, JavaScript and
C tasks whose tests leave some branches and boundaries untested), read as the
pipeline reads it (`transforms.sources.instructions.seed_pair`), measures in one run:

- baseline (before verification): the mutant codepref keeps without tests
  (`mutant_pair` with `pool=1`, today's first mutant) run against the tests
  (`run_tests`): killed, or passing them (a wrong preference codepref would keep),
  overall, per language, per test coverage and per operator;
- after verification: `verify_pair` on the pairs with a pool of candidates
  (`mutant_pair(..., pool=4 * max_attempts)`), `prefer_covered` on and off: kept
  pairs, rejects by reason, attempts per kept pair, and the kept pairs' rejected
  sides run again against the tests (all must fail: the keep rule);
- throughput: pairs verified per second per language with the stage's thread
  pool (`ThreadPoolExecutor` over `verify_pair`, as `transforms.execution.stage`
  sizes it) and with one thread (on every second pair, to keep the run short);
  the sandbox's cost per run of a trivial passing program with the isolation
  probed here and without namespaces.

Test runs get 2 s by default (`--timeout`), not the stage's 10 s: the tasks
finish in milliseconds, and a mutant that loops costs the whole limit in each
of the four passes.

Results replace the `execution` section of BENCHMARKS.md.

    python benchmarks/bench_execution.py [--tasks 90] [--timeout 2] [--write BENCHMARKS.md]
"""

import argparse
import collections
import concurrent.futures
import json
import os
import platform
import subprocess
import sys
import tempfile
import time


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.execution_tasks import COVERAGE, LANGUAGES, VARIANTS, build_tasks  # noqa: E402
from benchmarks.report import replace_section  # noqa: E402
from schemas.config import ExecutionConfig  # noqa: E402
from schemas.labels import MUTATION_OPERATORS  # noqa: E402
from schemas.records import PairRecord, RejectRecord  # noqa: E402
from transforms.code.planted import mutant_pair  # noqa: E402
from transforms.execution.report import execution_section  # noqa: E402
from transforms.execution.run import run_tests  # noqa: E402
from transforms.execution.sandbox import Isolation, Limits, probe_isolation, run_sandboxed  # noqa: E402
from transforms.execution.verify import Settings, verify_pair  # noqa: E402
from transforms.sources.instructions import InstructionColumns, seed_pair  # noqa: E402


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECTION = "## execution: planted bugs verified by running the tests"
COLUMNS = InstructionColumns(tests="test", entry_point="entry_point")
SEED = 77
STAGE_THREADS = max(1, min(4, os.cpu_count() or 1))
"""The thread count `transforms.execution.stage._VerifyFn` uses on this machine."""
TRIVIAL = {
    "Python": ("def f(x):\n    return x\n", "def check(candidate):\n    assert candidate(1) == 1\n"),
    "JavaScript": (
        "function f(x) {\n  return x;\n}\n",
        "const assert = require('node:assert');\n"
        "function check(candidate) {\n  assert.strictEqual(candidate(1), 1);\n}\n",
    ),
    "C": ("int f(int x) {\n    return x;\n}\n", "#include <assert.h>\nint main(void) {\n    assert(f(1) == 1);\n}\n"),
}


def load_pairs(per_language: int) -> list[tuple[dict, PairRecord]]:
    """The first `per_language` rows of each language, as (row, pair seed)."""
    taken: collections.Counter = collections.Counter()
    pairs = []
    for number, row in enumerate(build_tasks()):
        if taken[row["language"]] < per_language:
            taken[row["language"]] += 1
            pair = seed_pair(row, COLUMNS, f"tasks:{number}")
            if isinstance(pair, RejectRecord):
                raise ValueError(f"row {number} was rejected: {pair.reason} {pair.detail}")
            pairs.append((row, pair))
    return pairs


def operator_of(pair: PairRecord) -> str:
    """The mutation operator of the pair's rejected side."""
    return json.loads(pair.label_details)["mutation"]["operator"]


def pooled_map(fn, items: list, threads: int) -> tuple[list, float]:
    """`fn` over `items` on a `threads`-thread pool, in order, and the wall seconds it took."""
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(fn, items))
    return results, time.perf_counter() - start


def baseline(pairs: list[tuple[dict, PairRecord]], settings: Settings) -> list[dict]:
    """Today's first mutant of every pair run against its tests (what codepref keeps without tests)."""

    def run(item: tuple[dict, PairRecord]) -> dict:
        row, pair = item
        planted = mutant_pair(pair, MUTATION_OPERATORS, SEED, pool=1)
        if isinstance(planted, RejectRecord):
            return {"row": row, "idx": pair.idx, "outcome": None, "operator": None}
        verdict = run_tests(
            pair.language, planted.rejected, pair.tests, pair.entry_point, settings.limits, settings.isolation
        )
        return {"row": row, "idx": pair.idx, "outcome": verdict.outcome, "operator": operator_of(planted)}

    return pooled_map(run, pairs, STAGE_THREADS)[0]


def verify(pooled: list[PairRecord], settings: Settings, threads: int) -> dict:
    """`verify_pair` over each language's pairs on `threads` threads: results and wall seconds per language."""
    results, seconds = {}, {}
    for language in LANGUAGES:
        batch = [p for p in pooled if p.language == language]
        if batch:
            results[language], seconds[language] = pooled_map(lambda p: verify_pair(p, settings), batch, threads)
    return {"results": results, "seconds": seconds}


def recheck(kept: list[PairRecord], originals: dict[str, PairRecord], settings: Settings) -> dict[tuple, bool]:
    """Whether each distinct (pair id, rejected side) kept fails its tests when run again (the keep rule: all).

    The kept pairs' working fields are cleared, so the tests come from `originals` (by pair id).
    """
    distinct = sorted({(p.idx, p.rejected) for p in kept})

    def fails(key: tuple[str, str]) -> bool:
        source = originals[key[0]]
        verdict = run_tests(
            source.language, key[1], source.tests, source.entry_point, settings.limits, settings.isolation
        )
        return verdict.outcome != "passed"

    return dict(zip(distinct, pooled_map(fails, distinct, STAGE_THREADS)[0], strict=True))


def overhead(isolation: Isolation, runs: int) -> list[tuple[str, float, float]]:
    """Seconds per run of trivial passing programs: with `isolation`, and without namespaces."""
    plain = Isolation(namespaces=False, drop_user=isolation.drop_user)
    programs = {"`/bin/true` (run_sandboxed)": None, **{f"{lang} trivial test (run_tests)": lang for lang in TRIVIAL}}
    rows = []
    for name, language in programs.items():
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(runs if language else 4 * runs):
            for chosen in (isolation, plain):
                start = time.perf_counter()
                if language:
                    code, tests = TRIVIAL[language]
                    run_tests(language, code, tests, "f", Limits(), chosen)
                else:
                    with tempfile.TemporaryDirectory(prefix="codepref-bench-") as workdir:
                        run_sandboxed(["/bin/true"], workdir, Limits(), chosen)
                times[chosen is isolation].append(time.perf_counter() - start)
        rows.append((name, sorted(times[True])[len(times[True]) // 2], sorted(times[False])[len(times[False]) // 2]))
    return rows


def _version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "missing"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _table(header: list[str], rows: list[list]) -> list[str]:
    return [
        f"| {' | '.join(header)} |",
        f"|{'---|' * len(header)}",
        *[f"| {' | '.join(str(c) for c in r)} |" for r in rows],
    ]


def outcome_counts(outcomes: list[str]) -> tuple[int, int]:
    """(killed, survived) of a list of verdict outcomes."""
    survived = sum(o == "passed" for o in outcomes)
    return len(outcomes) - survived, survived


def _idx(result: PairRecord | RejectRecord) -> str:
    return result.idx if isinstance(result, PairRecord) else result.record_id


def summarize(run: dict, unplanted: dict[str, list[str]]) -> dict:
    """Per language: kept pairs, rejects by reason (with the mutate stage's), attempts per kept pair, all attempts.

    Args:
        run: what `verify` returned.
        unplanted: language → ids of the pairs `mutant_pair` found no mutant for.
    """
    summary = {}
    for language, verified in run["results"].items():
        kept = [v.result for v in verified if isinstance(v.result, PairRecord)]
        reasons = collections.Counter(v.result.reason for v in verified if isinstance(v.result, RejectRecord))
        missing = unplanted.get(language, [])
        if missing:
            reasons["no_valid_mutant (mutate)"] = len(missing)
        details = [json.loads(p.label_details)["execution"] for p in kept]
        summary[language] = {
            "pairs": len(verified) + len(missing),
            "ids": [_idx(v.result) for v in verified] + missing,
            "kept": kept,
            "reasons": reasons,
            "attempts": [d["attempts"] for d in details],
            "killed_by": collections.Counter(d["killed_by"] for d in details),
            "covered": [d["mutated_line_covered"] for d in details if "mutated_line_covered" in d],
            "tried": [a for v in verified for a in v.attempts],
            "runs": sum(1 + len(v.attempts) for v in verified),  # the solution, then each candidate
            "seconds": run["seconds"][language],
        }
    return summary


def _mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.2f}" if values else "-"


def before_after_rows(base: list[dict], on: dict, off: dict, rechecked: dict[tuple, bool]) -> list[list]:
    """Per language and overall: the baseline's kill rate against the kept pairs of each mode."""
    rows = []
    for language in [*on, "all"]:
        langs = list(on) if language == "all" else [language]
        outcomes = [b["outcome"] for b in base if b["row"]["language"] in langs and b["outcome"]]
        killed, survived = outcome_counts(outcomes)
        kept_on = sum(len(on[lang]["kept"]) for lang in langs)
        kept_off = sum(len(off[lang]["kept"]) for lang in langs)
        fails = sum(rechecked[(p.idx, p.rejected)] for lang in langs for p in on[lang]["kept"])
        equivalent = [sum(m[lang]["reasons"]["equivalent_mutant"] for lang in langs) for m in (on, off)]
        rows.append(
            [
                f"**{language}**" if language == "all" else language,
                sum(on[lang]["pairs"] for lang in langs),
                f"{killed}/{len(outcomes)} ({_pct(killed, len(outcomes))})",
                f"{survived} ({_pct(survived, len(outcomes))})",
                f"{kept_on} / {kept_off}",
                f"{fails}/{kept_on} ({_pct(fails, kept_on)})",
                f"{equivalent[0]} / {equivalent[1]}",
                f"{_mean([a for lang in langs for a in on[lang]['attempts']])} / "
                f"{_mean([a for lang in langs for a in off[lang]['attempts']])}",
            ]
        )
    return rows


def coverage_rows(base: list[dict], on: dict, off: dict, coverage_of: dict[str, str]) -> list[list]:
    """Full against partial tests: first-mutant survival, then yield and attempts of verification."""
    rows = []
    for coverage in dict.fromkeys(COVERAGE):
        outcomes = [b["outcome"] for b in base if b["row"]["coverage"] == coverage and b["outcome"]]
        killed, survived = outcome_counts(outcomes)
        cells = [coverage, len(outcomes), f"{survived} ({_pct(survived, len(outcomes))})"]
        for mode in (on, off):
            pairs = sum(1 for s in mode.values() for idx in s["ids"] if coverage_of[idx] == coverage)
            kept = [p for s in mode.values() for p in s["kept"] if coverage_of[p.idx] == coverage]
            attempts = [json.loads(p.label_details)["execution"]["attempts"] for p in kept]
            cells += [f"{len(kept)}/{pairs} ({_pct(len(kept), pairs)})", _mean(attempts)]
        rows.append(cells)
    return rows


def operator_rows(base: list[dict], on: dict) -> list[list]:
    """Per operator: first mutants that survived the tests, and every candidate the verification ran."""
    first = collections.defaultdict(list)
    for b in base:
        if b["outcome"]:
            first[b["operator"]].append(b["outcome"])
    tried = execution_section(collections.Counter(a for s in on.values() for a in s["tried"]).items())
    attempts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for row in tried["kill_rates"]:
        attempts[row["operator"]][0] += row["tried"]
        attempts[row["operator"]][1] += row["survived"]
    kept = collections.Counter(operator_of(p) for s in on.values() for p in s["kept"])
    rows = []
    for operator in MUTATION_OPERATORS:
        killed, survived = outcome_counts(first[operator])
        n, lived = attempts[operator]
        if first[operator] or n:
            rows.append(
                [
                    operator,
                    len(first[operator]),
                    f"{survived} ({_pct(survived, len(first[operator]))})",
                    n,
                    f"{lived} ({_pct(lived, n)})",
                    kept[operator],
                ]
            )
    return rows


def throughput_rows(on: dict, single: dict) -> list[list]:
    """Per language: pairs verified per second with the stage's pool and with one thread."""
    rows = []
    for language, two in on.items():
        one = single[language]
        pairs = len(two["ids"]) - two["reasons"]["no_valid_mutant (mutate)"]
        rate_two, rate_one = pairs / two["seconds"], one["pairs"] / one["seconds"]
        rows.append(
            [
                language,
                pairs,
                f"{two['runs'] / pairs:.2f}",
                f"{two['seconds']:.1f}",
                f"{rate_two:.2f}",
                f"{len(two['kept']) / two['seconds']:.2f}",
                one["pairs"],
                f"{one['seconds']:.1f}",
                f"{rate_one:.2f}",
                f"{rate_two / rate_one:.2f}×",
                f"{one['seconds'] / one['runs']:.3f}",
            ]
        )
    return rows


def machine_line(isolation: Isolation) -> str:
    """Cores, Python, node and gcc versions, and the isolation `probe_isolation` found."""
    probed = (
        "namespaces (no network, read-only filesystem) + `nobody`"
        if isolation.namespaces
        else f"no namespaces ({isolation.warning})"
    )
    if isolation.namespaces and not isolation.drop_user:
        probed = "namespaces (no network, read-only filesystem), the worker's user"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"node {_version(['node', '--version'])}, gcc {_version(['gcc', '-dumpfullversion'])}; "
        f"sandbox isolation probed: {probed}"
    )


def measure(per_language: int, timeout_s: float, overhead_runs: int) -> dict:
    """Every measurement of the section, in one run: baseline, both verifications, throughput, overhead."""
    started, load = time.perf_counter(), os.getloadavg()[0]
    cfg = ExecutionConfig()
    isolation = probe_isolation()
    limits = Limits(timeout_s, max(1, round(timeout_s)), cfg.memory_mb, output_bytes=cfg.output_kb * 1024)
    covered = Settings(limits, isolation, cfg.max_attempts, prefer_covered=True)
    seeded = Settings(limits, isolation, cfg.max_attempts, prefer_covered=False)
    pairs = load_pairs(per_language)
    base = baseline(pairs, covered)
    planted = [mutant_pair(pair, MUTATION_OPERATORS, SEED, pool=cfg.candidate_pool) for _, pair in pairs]
    pooled = [p for p in planted if isinstance(p, PairRecord)]
    unplanted: dict[str, list[str]] = collections.defaultdict(list)
    for (_, pair), result in zip(pairs, planted, strict=True):
        if isinstance(result, RejectRecord):
            unplanted[pair.language].append(pair.idx)
    halves = [p for lang in LANGUAGES for p in [q for q in pooled if q.language == lang][::2]]
    runs = {
        "on": verify(pooled, covered, STAGE_THREADS),
        "off": verify(pooled, seeded, STAGE_THREADS),
        "single": verify(halves, covered, 1),
    }
    on, off = summarize(runs["on"], unplanted), summarize(runs["off"], unplanted)
    verified_on = {_idx(v.result): v.result for vs in runs["on"]["results"].values() for v in vs}
    base_outcome = {b["idx"]: b["outcome"] for b in base}
    kept = {"on": [p for s in on.values() for p in s["kept"]], "off": [p for s in off.values() for p in s["kept"]]}
    return {
        "load": load,
        "isolation": isolation,
        "limits": limits,
        "cfg": cfg,
        "pairs": len(pairs),
        "coverage_of": {pair.idx: row["coverage"] for row, pair in pairs},
        "base": base,
        "on": on,
        "off": off,
        "single": summarize(runs["single"], {}),
        "same": [verified_on[_idx(v.result)] == v.result for vs in runs["single"]["results"].values() for v in vs],
        "kept": kept,
        "rechecked": recheck(kept["on"] + kept["off"], {pair.idx: pair for _, pair in pairs}, covered),
        "first": [
            (v.attempts[0].outcome, base_outcome[_idx(v.result)])
            for verified in runs["off"]["results"].values()
            for v in verified
            if v.attempts and base_outcome[_idx(v.result)]
        ],
        "costs": overhead(isolation, overhead_runs),
        "seconds": time.perf_counter() - started,
    }


def _listing(counter: collections.Counter) -> str:
    return ", ".join(f"`{k}` {n}" for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def _totals(summary: dict, key: str) -> collections.Counter:
    return sum((s[key] for s in summary.values()), collections.Counter())


def headline(m: dict) -> str:
    """The section's first finding: wrong preferences before, kept pairs and their cost after."""
    outcomes = [b["outcome"] for b in m["base"] if b["outcome"]]
    survived = outcome_counts(outcomes)[1]
    kept, pairs = len(m["kept"]["on"]), sum(s["pairs"] for s in m["on"].values())
    runs = sum(s["runs"] for s in m["on"].values())
    return (
        f"**Headline.** Before verification {survived} of {len(outcomes)} pairs "
        f"({_pct(survived, len(outcomes))}) keep a planted bug that passes the tests; after it, {kept} of {pairs} "
        f"pairs ({_pct(kept, pairs)}) are kept, every one with a bug that fails them, for "
        f"{runs / max(1, pairs - _totals(m['on'], 'reasons')['no_valid_mutant (mutate)']):.2f} sandboxed test runs "
        "per pair."
    )


def render(m: dict) -> str:
    """The BENCHMARKS.md section of `measure`'s results."""
    on, off, limits, cfg, isolation = m["on"], m["off"], m["limits"], m["cfg"], m["isolation"]
    python_covered = on.get("Python", {}).get("covered", [])
    timeouts = sum(a.outcome == "timeout" for s in on.values() for a in s["tried"])
    base_killed_by = collections.Counter(b["outcome"] for b in m["base"] if b["outcome"] not in (None, "passed"))
    fails = {mode: sum(m["rechecked"][(p.idx, p.rejected)] for p in kept) for mode, kept in m["kept"].items()}
    lines = [
        SECTION,
        "",
        f"Machine: {machine_line(isolation)}; 1-minute load average {m['load']:.1f} at the start (other processes "
        f"share the cores, so rates are noisy). Tasks: {m['pairs']} from `benchmarks/execution_tasks.py` "
        f"(deterministic: 15 families × {VARIANTS} variants; tests by variant: {', '.join(COVERAGE)}), read by "
        f"`seed_pair`; mutation seed {SEED}, all nine operators. Test runs: {limits.timeout_s:g} s wall, "
        f"{limits.cpu_s} CPU s (the stage's default is {cfg.timeout_s:g} s: a candidate that loops costs the whole "
        f"limit), {limits.memory_mb} MiB; `max_attempts` {cfg.max_attempts}, pool {cfg.candidate_pool}. Baseline "
        f"and verification measured in the same run on the same pairs; the whole benchmark took {m['seconds']:.0f} s.",
        "",
        headline(m),
        "",
        "**Before vs after.** Before: the one mutant codepref keeps without tests (`mutant_pair`, `pool=1`), run "
        'against the tests; a survivor is a pair whose "buggy" side passes them (a wrong or unproven preference). '
        "After: `verify_pair` with a pool of candidates; prefer_covered on / off.",
        "",
        *_table(
            [
                "language",
                "pairs",
                "before: first mutant killed",
                "before: survived (kept anyway)",
                "after: kept (on / off)",
                "after: kept pairs' bug fails the tests again",
                "`equivalent_mutant` (on / off)",
                "attempts per kept pair (on / off)",
            ],
            before_after_rows(m["base"], on, off, m["rechecked"]),
        ),
        "",
        "Kill rate of kept pairs is 100% by construction (a pair is kept only when a candidate fails its tests); "
        f"checked by running every kept pair's rejected side again: {fails['on']}/{len(m['kept']['on'])} fail "
        f"(prefer_covered on), {fails['off']}/{len(m['kept']['off'])} (off). Rejects, prefer_covered on: "
        f"{_listing(_totals(on, 'reasons'))}; off: {_listing(_totals(off, 'reasons'))}. How first mutants were "
        f"killed: {_listing(base_killed_by)}; how kept pairs' bugs were: {_listing(_totals(on, 'killed_by'))} "
        f"({timeouts} candidate run(s) timed out). With prefer_covered off the first candidate is the baseline's "
        f"mutant; its verdict matched the baseline's in {sum(a == b for a, b in m['first'])} of {len(m['first'])} "
        f"pairs. Python kept pairs (on) whose mutated line the tests executed: "
        f"{sum(python_covered)}/{len(python_covered)}.",
        "",
        "**By test coverage** (full: the tests reach every branch and boundary; partial: they leave a branch, a "
        "boundary or a default argument untested; smoke: one call; type: one call whose result's type alone is "
        "checked, Python and JavaScript):",
        "",
        *_table(
            ["tests", "pairs", "before: first mutant survived", "kept (on)", "attempts (on)", "kept (off)"]
            + ["attempts (off)"],
            coverage_rows(m["base"], on, off, m["coverage_of"]),
        ),
        "",
        "**By operator**: the baseline's first mutants, and every candidate verification ran (prefer_covered on):",
        "",
        *_table(
            ["operator", "first mutants", "survived the tests", "candidates run", "survived", "kept as the bug"],
            operator_rows(m["base"], on),
        ),
        "",
        f"**Throughput** (prefer_covered on): `verify_pair` over each language's pairs on a `ThreadPoolExecutor` of "
        f"{STAGE_THREADS} threads (the stage's size here, `min(4, cores)`), and of 1 thread on every second pair "
        f"of each language (to keep the benchmark short); the 1-thread results were identical to the pool's for "
        f"{sum(m['same'])} of {len(m['same'])} pairs. A run is one sandboxed test run (the solution, traced in "
        "Python, then each candidate).",
        "",
        *_table(
            ["language", "pairs", "runs per pair", f"{STAGE_THREADS} threads s", "pairs/s", "kept pairs/s"]
            + ["1 thread: pairs", "s", "pairs/s", "speed-up", "s per run (1 thread)"],
            throughput_rows(on, m["single"]),
        ),
        "",
        "**Sandbox overhead**: median seconds per run of a trivial passing program (`run_tests` includes laying out "
        "the folder, the harness or the compile, and the verdict), interleaved, with the isolation probed and with "
        f"`Isolation(namespaces=False, drop_user={isolation.drop_user})`:",
        "",
        *_table(
            ["program", "isolation as probed s", "no namespaces s", "namespaces cost s"],
            [[name, f"{a:.3f}", f"{b:.3f}", f"{a - b:+.3f}"] for name, a, b in m["costs"]],
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--tasks", type=int, default=90, help="tasks per language (at most 90; C has 70)")
    cli.add_argument(
        "--timeout",
        type=float,
        default=2.0,
        help=f"wall and CPU seconds per test run (the stage's default is {ExecutionConfig().timeout_s:g})",
    )
    cli.add_argument("--overhead-runs", type=int, default=10, help="runs per trivial program and isolation")
    cli.add_argument("--write", default=os.path.join(ROOT, "BENCHMARKS.md"))
    args = cli.parse_args()
    section = render(measure(args.tasks, args.timeout, args.overhead_runs))
    print(section)
    if args.write:
        replace_section(args.write, SECTION, section)


if __name__ == "__main__":
    main()
