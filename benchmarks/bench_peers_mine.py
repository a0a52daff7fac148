"""Peers: `codepref mine` against PyDriller on the same repositories, side by side.

Both contenders find the commits `codepref mine` keeps at its mining stage
(`mine_git`), with the same rule, in the same order:

1. repository licence in `--licenses` (default `permissive`), then the message
   filters (length 10 < chars < 15,000, the generic-message blocklist, the
   merge/bot/release patterns): `transforms.commit_filters.metadata_reject`;
2. not a merge (one parent or none);
3. exactly one changed file against the first parent, renames detected, modified
   in place (status M: not added, deleted, renamed or copied; old path = new
   path), a regular file (not a symlink or submodule), a UTF-8 path with a
   target-language extension (`schemas.labels.language_for_path`);
4. both blobs read and checked: each at most 1,000,000 bytes, no NUL byte in the
   first 8,000, valid UTF-8, neither empty, not a whitespace-only change
   (`transforms.commit_filters.decode_contents`).

codepref runs its real command (`python -m pipelines.cli mine --runner DirectRunner
--no-content-dedup`), one worker; its set is every listed commit that
`rejects/01_mine_git` does not name. PyDriller walks
`Repository(path, include_refs=True, include_remotes=True).traverse_commits()`
(one worker) and applies the same decisions through its own API: `commit.msg`,
`commit.merge`, `commit.committer_date`, `commit.modified_files`,
`ModificationType`, `old_path`/`new_path`, the GitPython diff's modes, and
`content_before`/`content` for the blob bytes (what `source_code_before`/
`source_code` decode, read once). The pure decision functions of codepref are
shared, so the contest is the git access, not the rule.

Each contender runs in a fresh subprocess per round (peak RSS is the largest
process of its tree, `ru_maxrss` of children); the two alternate (A B, then B A,
...). Agreement compares the two sets on the commits both saw, and an independent
oracle (plain `git show --name-status`, `git rev-list --parents`, `git show -s`,
`git show SHA:path`) judges a sample of them.

    python benchmarks/bench_peers_mine.py [--commits 20000] [--repo PATH ...] [--rounds 2]
        [--pydriller-max-commits N] [--sample 20] [--report BENCHMARKS.md]

The full run (20,000 generated commits, 2 rounds) takes some 10 minutes on 2 cores,
most of it PyDriller (about 130 commits/s there). For a large real repository pass
`--pydriller-max-commits N`: PyDriller then walks only its first N commits (oldest
first, its default order), its rate is taken on those, and agreement is computed on
the commits both saw. `--repo` wants a repository GitPython can open (a clone; a
bare copy without a `config` file is refused up front).

Smoke test (does not touch BENCHMARKS.md):

    python benchmarks/bench_peers_mine.py --commits 600 --rounds 1 --report /tmp/peers_mine.md
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.peers_common import machine, measure, versions  # noqa: E402
from schemas.config import MineConfig  # noqa: E402
from schemas.labels import language_for_path  # noqa: E402
from transforms import commit_filters as cf  # noqa: E402
from transforms.licenses import UNKNOWN_LICENSE, repository_license  # noqa: E402
from transforms.sources.git import repository_name  # noqa: E402


HEADING = "## peers: mining vs PyDriller"
KEPT = "kept"
UNKNOWN_CHANGE = "pydriller_unknown_change"  # ModificationType.UNKNOWN: blobs equal (a mode change) or no blob


# --------------------------------------------------------------------------- the PyDriller contender


def _mode_kind(mode: int | None) -> int:
    return (mode or 0) & 0o170000


def pydriller_verdict(commit, *, name: str, license: str, cfg: MineConfig) -> str:
    """codepref's `mine_git` decision for one PyDriller `Commit`: `kept` or a reject reason."""
    from pydriller import ModificationType

    problem = cf.metadata_reject(
        repos=[name], license=license, unix_time=int(commit.committer_date.timestamp()), message=commit.msg, cfg=cfg
    )
    if problem:
        return problem[0]
    if commit.merge:
        return cf.MERGE_COMMIT
    files = commit.modified_files
    if not files:
        return cf.NO_FILE_CHANGE
    if len(files) > 1:
        return cf.MULTI_FILE
    mf = files[0]
    kind = mf.change_type
    if kind == ModificationType.ADD:
        return cf.ADDED
    if kind == ModificationType.DELETE:
        return cf.DELETED
    if kind == ModificationType.RENAME or mf.old_path != mf.new_path:
        return cf.RENAMED
    if kind != ModificationType.MODIFY:
        return UNKNOWN_CHANGE
    diff = getattr(mf, "_c_diff", None)  # PyDriller exposes no file mode; its GitPython diff has them
    modes = {_mode_kind(getattr(diff, "a_mode", 0)), _mode_kind(getattr(diff, "b_mode", 0))}
    if 0o120000 in modes:
        return cf.SYMLINK
    if 0o160000 in modes:
        return cf.SUBMODULE
    path = mf.new_path
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return cf.PATH_NOT_UTF8
    if language_for_path(path) is None:
        return cf.UNSUPPORTED_LANGUAGE
    decoded = cf.decode_contents(mf.content_before or b"", mf.content or b"", cfg)
    if not isinstance(decoded, cf.Contents):
        return decoded[0]
    return KEPT


def pydriller_worker(repo: str, out: str, licenses: str, max_commits: int) -> dict:
    """The PyDriller contender (run in a measured child): writes `sha<TAB>verdict` lines to `out`."""
    from pydriller import Repository

    start = time.perf_counter()
    cfg = MineConfig(licenses=licenses)
    name, license = repository_name(repo), repository_license(repo)
    seen = kept = 0
    with open(out, "w") as f:
        for commit in Repository(repo, include_refs=True, include_remotes=True, num_workers=1).traverse_commits():
            verdict = pydriller_verdict(commit, name=name, license=license, cfg=cfg)
            f.write(f"{commit.hash}\t{verdict}\n")
            seen += 1
            kept += verdict == KEPT
            if max_commits and seen >= max_commits:
                break
    return {"seen": seen, "kept": kept, "traverse_s": time.perf_counter() - start}


def pydriller_cannot_open(path: str) -> str:
    """Why PyDriller (GitPython) cannot walk `path`, or "" when it can."""
    if not os.path.isdir(path):
        return "no such folder"
    try:
        import git as gitpython

        gitpython.Repo(path).git.rev_list("-n", "1", "--all")
    except Exception as exc:  # any failure means PyDriller cannot run there
        return (
            f"GitPython cannot read it ({str(exc).strip().splitlines()[-1]}); a bare copy without a `config` file "
            "is one cause: pass a `git clone` of it"
        )
    return ""


# --------------------------------------------------------------------------- running and measuring


@dataclass
class Run:
    wall: float
    rss_mb: float  # the largest single process of the tree (ru_maxrss of children)
    tree_mb: float  # the summed RSS of the tree, sampled
    load: float  # 1-minute load average at the start
    scanned: int
    kept: int


@dataclass
class Contender:
    label: str
    runs: list[Run] = field(default_factory=list)
    verdicts: dict[str, str] = field(default_factory=dict)


def measured(target, kwargs: dict | None, log: str):
    """`peers_common.measure`, showing the end of the contender's log when it fails."""
    try:
        return measure(target, kwargs, log=log)
    except subprocess.CalledProcessError as exc:
        with open(log, errors="replace") as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f"{target if isinstance(target, str) else ' '.join(target[:5])} failed:\n{tail}") from exc


def git(repo: str, *args: str) -> bytes:
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, check=True).stdout


def listed_shas(repo: str) -> list[str]:
    """The commits `codepref mine` lists (`transforms.sources.git.iter_commit_shas`)."""
    return git(repo, "rev-list", "--branches", "--tags", "--remotes").decode().split()


def codepref_verdicts(out: str, shas: list[str]) -> dict[str, str]:
    """Each listed commit's `mine_git` outcome: its reject reason, else `kept`."""
    import pyarrow.parquet as pq

    verdicts = dict.fromkeys(shas, KEPT)
    folder = os.path.join(out, "rejects", "01_mine_git")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith(".parquet"):
            table = pq.read_table(os.path.join(folder, name), columns=["record_id", "reason"])
            ids, reasons = table.column("record_id").to_pylist(), table.column("reason").to_pylist()
            for sha, reason in zip(ids, reasons, strict=True):
                verdicts[sha] = reason
    return verdicts


def run_codepref(repo: str, out: str, licenses: str, shas: list[str]) -> tuple[Run, dict[str, str]]:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "pipelines.cli", "mine", "--repo", repo, "--out", out, "--licenses", licenses]
    cmd += ["--no-content-dedup", "--runner", "DirectRunner"]
    r = measured(cmd, None, out.rstrip("/") + ".log")
    with open(os.path.join(out, "manifest.json")) as f:
        stage = json.load(f)["stages"][0]
    verdicts = codepref_verdicts(out, shas)
    return Run(r.wall_s, r.peak_rss_mb, r.tree_rss_mb, r.load_before[0], stage["in"], stage["out"]), verdicts


def run_pydriller(repo: str, out: str, licenses: str, max_commits: int) -> tuple[Run, dict[str, str]]:
    kwargs = {"repo": repo, "out": out, "licenses": licenses, "max_commits": max_commits}
    r = measured("benchmarks.bench_peers_mine:pydriller_worker", kwargs, out + ".log")
    summary = r.value
    verdicts: dict[str, str] = {}
    with open(out) as f:
        for line in f:
            sha, verdict = line.rstrip("\n").split("\t")
            verdicts[sha] = verdict
    return Run(r.wall_s, r.peak_rss_mb, r.tree_rss_mb, r.load_before[0], summary["seen"], summary["kept"]), verdicts


# --------------------------------------------------------------------------- the git oracle


def oracle_verdict(repo: str, sha: str, *, name: str, license: str, cfg: MineConfig) -> tuple[str, str]:
    """The rule applied with plain git commands: (verdict, what `git show --name-status` printed)."""
    message = git(repo, "show", "-s", "--format=%B", sha).decode("utf-8", "replace").rstrip("\n")
    when = int(git(repo, "show", "-s", "--format=%ct", sha).strip())
    parents = len(git(repo, "rev-list", "--parents", "-n", "1", sha).split()) - 1
    tokens = [
        t.decode("utf-8", "surrogateescape")
        for t in git(repo, "show", "-z", "--name-status", "--format=", sha).split(b"\0")
    ]
    tokens = [t for t in tokens if t.strip("\n")]
    entries: list[list[str]] = []
    i = 0
    while i < len(tokens):
        status = tokens[i].strip("\n")
        width = 3 if status[0] in "RC" else 2
        entries.append([status, *tokens[i + 1 : i + width]])
        i += width
    shown = "; ".join(" ".join(e) for e in entries) or "(nothing)"
    problem = cf.metadata_reject(repos=[name], license=license, unix_time=when, message=message, cfg=cfg)
    if problem:
        return problem[0], shown
    if parents > 1:
        return cf.MERGE_COMMIT, shown
    if not entries:
        return cf.NO_FILE_CHANGE, shown
    if len(entries) > 1:
        return cf.MULTI_FILE, shown
    status, path = entries[0][0], entries[0][-1]
    if status[0] != "M":
        return {"A": cf.ADDED, "D": cf.DELETED, "R": cf.RENAMED, "C": cf.COPIED, "T": cf.TYPE_CHANGED}.get(
            status[0], status
        ), shown
    modes = {
        line.split()[0]
        for rev in (sha, f"{sha}^")
        for line in git(repo, "ls-tree", rev, "--", path).decode().splitlines()
    }
    if "120000" in modes:
        return cf.SYMLINK, shown
    if "160000" in modes:
        return cf.SUBMODULE, shown
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return cf.PATH_NOT_UTF8, shown
    if language_for_path(path) is None:
        return cf.UNSUPPORTED_LANGUAGE, shown
    old, new = git(repo, "show", f"{sha}^:{path}"), git(repo, "show", f"{sha}:{path}")
    decoded = cf.decode_contents(old, new, cfg)
    return (KEPT if isinstance(decoded, cf.Contents) else decoded[0]), shown


# --------------------------------------------------------------------------- one repository


@dataclass
class RepoResult:
    label: str
    commits: int
    license: str
    licenses: str
    note: str
    contenders: list[Contender]
    agreement: list[str]


def choose_licenses(license: str, requested: str) -> tuple[str, str]:
    """The `--licenses` both contenders get, and a note when the repository's own licence had to be added."""
    cfg = MineConfig(licenses=requested)
    if license == UNKNOWN_LICENSE:
        return requested, (
            "no recognised licence: both contenders reject every commit as license_unknown before reading a diff, "
            "so this measures listing commits only."
        )
    if license in cfg.licenses:
        return requested, ""
    return ",".join((*cfg.licenses, license)), (
        f"licence {license} is not in --licenses {requested}; added for both so the commits get mined."
    )


def bench_repo(label: str, repo: str, args: argparse.Namespace, tmp: str) -> RepoResult:
    license = repository_license(repo)
    licenses, note = choose_licenses(license, args.licenses)
    name = repository_name(repo)
    shas = listed_shas(repo)
    codepref = Contender("codepref mine (DirectRunner, 1 worker)")
    pyd = Contender(
        "PyDriller 1 worker" + (f", first {args.pydriller_max_commits:,} commits" if args.pydriller_max_commits else "")
    )
    for r in range(args.rounds):
        order = ("codepref", "pydriller") if r % 2 == 0 else ("pydriller", "codepref")
        for who in order:
            if who == "codepref":
                run, codepref.verdicts = run_codepref(repo, os.path.join(tmp, "out"), licenses, shas)
                codepref.runs.append(run)
            else:
                run, pyd.verdicts = run_pydriller(
                    repo, os.path.join(tmp, "pyd.tsv"), licenses, args.pydriller_max_commits
                )
                pyd.runs.append(run)
            print(
                f"  [{label}] round {r + 1} {who}: {run.scanned:,} commits, {run.kept:,} kept, {run.wall:.1f} s, "
                f"{run.rss_mb:,.0f} MB, load {run.load:.2f}",
                file=sys.stderr,
                flush=True,
            )
    if codepref.runs[-1].scanned != len(shas):
        note += f" codepref scanned {codepref.runs[-1].scanned:,} commits, git rev-list lists {len(shas):,}."
    agreement = compare(repo, codepref, pyd, name=name, license=license, licenses=licenses, sample=args.sample)
    return RepoResult(label, len(shas), license, licenses, note.strip(), [codepref, pyd], agreement)


def compare(repo: str, codepref: Contender, pyd: Contender, *, name, license, licenses, sample: int) -> list[str]:
    """Agreement lines: counts, intersection, extras, reason mismatches, and the oracle's verdict on a sample."""
    both_saw = codepref.verdicts.keys() & pyd.verdicts.keys()
    only_cp_saw = len(codepref.verdicts.keys() - pyd.verdicts.keys())
    only_pd_saw = len(pyd.verdicts.keys() - codepref.verdicts.keys())
    cp = {s for s in both_saw if codepref.verdicts[s] == KEPT}
    pd = {s for s in both_saw if pyd.verdicts[s] == KEPT}
    both, cp_only, pd_only = cp & pd, cp - pd, pd - cp
    reasons = Counter(
        (codepref.verdicts[s], pyd.verdicts[s]) for s in both_saw - cp - pd if codepref.verdicts[s] != pyd.verdicts[s]
    )
    lines = [
        f"- Commits seen: codepref {len(codepref.verdicts):,}, PyDriller {len(pyd.verdicts):,}; both {len(both_saw):,} "
        f"(only codepref {only_cp_saw:,}, only PyDriller {only_pd_saw:,}).",
        f"- Qualifying among the commits both saw: codepref {len(cp):,}, PyDriller {len(pd):,}; both {len(both):,}, "
        f"only codepref {len(cp_only):,}, only PyDriller {len(pd_only):,}.",
    ]
    if reasons:
        top = ", ".join(f"{a} vs {b} ({n:,})" for (a, b), n in reasons.most_common(5))
        lines.append(f"- Rejected by both but for different reasons (codepref vs PyDriller): {top}.")
    else:
        lines.append("- Commits both rejected: the same reason on every one.")
    rng = random.Random(11)
    disagree = sorted(cp_only | pd_only)
    picked = rng.sample(disagree, min(sample, len(disagree)))
    n_disagree = len(picked)
    agreed_kept, agreed_rejected = sorted(both), sorted(both_saw - cp - pd)
    picked += rng.sample(agreed_kept, min(sample // 2, len(agreed_kept)))
    picked += rng.sample(agreed_rejected, min(sample - (len(picked) - n_disagree), len(agreed_rejected)))
    cfg = MineConfig(licenses=licenses)
    cp_right = pd_right = 0
    wrong: list[str] = []
    for sha in picked:
        verdict, shown = oracle_verdict(repo, sha, name=name, license=license, cfg=cfg)
        ok_cp = (codepref.verdicts[sha] == KEPT) == (verdict == KEPT)
        ok_pd = (pyd.verdicts[sha] == KEPT) == (verdict == KEPT)
        cp_right += ok_cp
        pd_right += ok_pd
        if not (ok_cp and ok_pd) and len(wrong) < 5:
            wrong.append(
                f"`{sha[:10]}` git: {shown[:80]} → {verdict}; codepref {codepref.verdicts[sha]}, "
                f"PyDriller {pyd.verdicts[sha]}"
            )
    lines.append(
        f"- Checked with git (`git show --name-status`, `git rev-list --parents`, the message and both blobs): "
        f"{len(picked)} commits ({len(picked) - n_disagree} random ones both agreed on, of them "
        f"{min(sample // 2, len(agreed_kept))} qualifying; {n_disagree} disagreements); git sides with codepref on "
        f"{cp_right}, with PyDriller on {pd_right}."
    )
    lines += [f"  - {w}" for w in wrong]
    return lines


# --------------------------------------------------------------------------- the report


def environment() -> str:
    gitv = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()[-1]
    return f"{machine()}; git {gitv}, {versions('codepref', 'apache-beam', 'pydriller', 'GitPython')}"


def _fmt_range(values: list[float], fmt: str) -> str:
    return f"{min(values):{fmt}} / {statistics.median(values):{fmt}}"


def repo_table(res: RepoResult, startup: Run | None) -> list[str]:
    rows = []
    rates = {}
    for c in res.contenders:
        walls = [r.wall for r in c.runs]
        scanned, kept = c.runs[-1].scanned, c.runs[-1].kept
        rates[c.label] = (scanned / min(walls), scanned / statistics.median(walls))
        rows.append(
            f"| {c.label} | {scanned:,} | {kept:,} | {_fmt_range(walls, '.1f')} | "
            f"{scanned / min(walls):,.0f} / {scanned / statistics.median(walls):,.0f} | "
            f"{kept / min(walls):,.1f} / {kept / statistics.median(walls):,.1f} | "
            f"{max(r.rss_mb for r in c.runs):,.0f} | {max(r.tree_mb for r in c.runs):,.0f} | "
            f"{', '.join(f'{r.load:.2f}' for r in c.runs)} |"
        )
    (cp_best, cp_med), (pd_best, pd_med) = rates.values()
    lines = [
        f"### {res.label}: {res.commits:,} commits, licence {res.license}",
        "",
        f"Settings: `--licenses {res.licenses}`, message and file filters at their defaults (max 1,000,000 bytes), "
        f"`--no-content-dedup`; PyDriller `include_refs=True, include_remotes=True, num_workers=1`."
        + (f" Note: {res.note}" if res.note else ""),
        "",
        "| contender | commits scanned | qualifying | wall s (min / median) | commits/s (best / median) | "
        "qualifying/s (best / median) | peak RSS MB | tree RSS MB | load avg 1 min at start |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"codepref vs PyDriller, commits scanned per second: **{cp_best / pd_best:.1f}×** best, "
        f"**{cp_med / pd_med:.1f}×** median (goal ≥ 20×)." + _net_of_startup(res, startup),
        "",
        "Agreement on which commits qualify:",
        "",
        *res.agreement,
        "",
    ]
    return lines


def _net_of_startup(res: RepoResult, startup: Run | None) -> str:
    """codepref's rate with its fixed start-up taken out: a guide to larger inputs, not the headline."""
    cp, pd = res.contenders
    net = statistics.median(r.wall for r in cp.runs) - (startup.wall if startup else 0.0)
    if not startup or net < startup.wall:  # start-up is most of the run: the difference is noise
        return ""
    rate = cp.runs[-1].scanned / net
    pd_rate = pd.runs[-1].scanned / statistics.median(r.wall for r in pd.runs)
    return (
        f" Net of codepref's {startup.wall:.1f} s start-up (not a measured rate): {rate:,.0f} commits/s, "
        f"{rate / pd_rate:.1f}× PyDriller's median."
    )


def report(results: list[RepoResult], args: argparse.Namespace, build_s: float, startup: Run | None) -> str:
    lines = [
        HEADING,
        "",
        f"Machine: {environment()}. `benchmarks/bench_peers_mine.py --commits {args.commits} --rounds {args.rounds}"
        + "".join(f" --repo {os.path.basename(os.path.normpath(r))}" for r in args.repo)
        + (f" --pydriller-max-commits {args.pydriller_max_commits}" if args.pydriller_max_commits else "")
        + "`; the generated repository (8 languages, `benchmarks/bench_mine.py`'s generator) built in "
        f"{build_s:.0f} s. "
        f"Contenders measured side by side in one run on the same input, alternating (A B, B A, ...), "
        f"{args.rounds} round(s) each, each in a fresh process.",
        "",
        "Rule both apply (codepref's `mine_git` stage): licence and message filters, then not a merge, exactly one "
        "file changed against the first parent (renames detected), modified in place (same path, a regular file, a "
        "UTF-8 path with a target-language extension), both blobs ≤ 1,000,000 bytes, not binary, UTF-8, not empty, "
        "not whitespace-only. Both call codepref's pure decision functions (`metadata_reject`, `language_for_path`, "
        "`decode_contents`); PyDriller supplies the commits, diffs and blob bytes through its API.",
        "",
    ]
    for res in results:
        lines += repo_table(res, startup)
    lines += [
        "How to read it:",
        "",
        "- Wall time is the contender's whole process: for codepref, Beam start-up, the `tag_criteria` stage and "
        "writing Parquet rows, rejects and the manifest, which PyDriller does not do"
        + (
            f" (start-up alone, the same command on a 2-commit repository: {startup.wall:.1f} s, "
            f"{startup.rss_mb:,.0f} MB)"
            if startup
            else ""
        )
        + "; for PyDriller, its import, licence detection and writing one line per commit.",
        "- Peak RSS is the largest single process of the contender's tree (`ru_maxrss` of children), git "
        "included; tree RSS is the peak of the whole tree's summed RSS, sampled every 0.25 s "
        "(`benchmarks/peers_common.py`).",
        "- PyDriller's `modified_files` builds the full patch of every file of a commit (it has no option not to), "
        "and that is the cost its users pay; both contenders skip diffing commits the message filters reject.",
        "- 'Qualifying/s' are single-file in-place commits found per second; with a PyDriller prefix "
        "(`--pydriller-max-commits`) its rate is for the oldest commits only, so compare commits scanned per second.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=20000, help="commits of the generated repository (0: none)")
    parser.add_argument("--repo", action="append", default=[], metavar="PATH", help="a real repository; repeatable")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--pydriller-max-commits", type=int, default=0, metavar="N", help="PyDriller walks only its first N commits"
    )
    parser.add_argument("--licenses", default="permissive", help="as `codepref mine --licenses` (both contenders)")
    parser.add_argument("--sample", type=int, default=20, help="commits to check with git (default 20)")
    parser.add_argument("--report", default="BENCHMARKS.md", help="file whose section to replace ('' to skip)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    for path in args.repo:
        problem = pydriller_cannot_open(path)
        if problem:
            parser.error(f"--repo {path}: {problem}")
    from benchmarks.bench_mine import build_repo
    from benchmarks.report import replace_section

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        build_s = 0.0
        targets = []
        if args.commits:
            gen = os.path.join(tmp, "repo")
            t0 = time.perf_counter()
            build_repo(gen, args.commits)
            build_s = time.perf_counter() - t0
            targets.append(("generated", gen))
        targets += [(os.path.basename(os.path.normpath(p)), os.path.abspath(p)) for p in args.repo]
        tiny = os.path.join(tmp, "tiny")
        build_repo(tiny, 2)
        startup, _ = run_codepref(tiny, os.path.join(tmp, "tiny_out"), args.licenses, listed_shas(tiny))
        for label, path in targets:
            print(f"benchmarking {label} ({path})", file=sys.stderr, flush=True)
            results.append(bench_repo(label, path, args, tmp))
    section = report(results, args, build_s, startup)
    print(section)
    if args.report:
        replace_section(args.report, HEADING, section)


if __name__ == "__main__":
    main()
