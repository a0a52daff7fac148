"""Shared helpers of the side-by-side peer benchmarks (`benchmarks/bench_peers_*.py`).

    result = measure([sys.executable, "-m", "pipelines.cli", ...])      # a command
    result = measure("benchmarks.bench_peers_dedup:run_datatrove", {"n": 1})  # a Python callable
    result.wall_s, result.peak_rss_mb, result.tree_rss_mb, result.load_before, result.load_after
    summary([r.wall_s for r in results])   # {"min": ..., "median": ..., "n": ...}
    markdown_table(["a", "b"], [[1, 2]])
    machine(), versions("datatrove", "apache-beam")

`measure` runs the contender in a fresh *measurer* process (this file run as a
script), which starts the contender as its own child and, once it has exited,
reads `resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`: the peak resident set of
the largest single process of the contender's tree (the child or any descendant
that was waited for), untouched by earlier contenders and by the benchmark's own
memory. The measurer makes itself a child subreaper (Linux `prctl`), so
descendants orphaned by their parents (a multiprocessing forkserver, pool
workers) are re-parented to it and reaped, and their peaks count too. It also
samples the summed PSS of the whole tree (`/proc/PID/smaps_rollup`, every
`sample_s`): rusage gives the largest process, not the sum of concurrently
running workers, and a plain RSS sum would count pages forked workers share
once per worker.

A callable is named `"module:function"` (or given as a function object of an
importable module) and is called with JSON-able keyword arguments in the child;
its return value, if JSON-able, comes back as `MeasureResult.value`.
"""

__all__ = ["MeasureResult", "machine", "markdown_table", "measure", "summary", "versions"]

import contextlib
import ctypes
import dataclasses
import importlib
import importlib.metadata
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PR_SET_CHILD_SUBREAPER = 36
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclasses.dataclass(frozen=True)
class MeasureResult:
    """One measured run.

    Attributes:
        wall_s: wall seconds from starting the child to its exit (interpreter start-up included).
        peak_rss_mb: `ru_maxrss` of the measurer's children: the largest single process's peak, MiB.
        tree_rss_mb: the peak of the summed PSS (RSS with shared pages split among their sharers) of the
            child and its descendants, sampled every `sample_s`, MiB; at least `peak_rss_mb`.
        returncode: the child's exit status.
        load_before: `os.getloadavg()` just before the measurer started.
        load_after: `os.getloadavg()` just after it exited.
        value: the callable's JSON return value (None for a command).
    """

    wall_s: float
    peak_rss_mb: float
    tree_rss_mb: float
    returncode: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    value: Any = None


def _module_name(fn: Callable) -> str:
    """`module:qualname` of a function, resolving `__main__` to its file's module name under a `sys.path` entry."""
    module = fn.__module__
    if module == "__main__":
        path = os.path.abspath(sys.modules["__main__"].__file__)
        for base in sorted({os.path.abspath(p) for p in sys.path if p}, key=len):  # the fullest dotted name
            if path.startswith(base + os.sep):
                module = os.path.relpath(path, base)[: -len(".py")].replace(os.sep, ".")
                break
        else:
            raise ValueError(f"{path} is not under any sys.path entry; pass 'module:function'")
    return f"{module}:{fn.__qualname__}"


def measure(
    target: Sequence[str] | str | Callable,
    kwargs: dict | None = None,
    *,
    cwd: str = ROOT,
    env: dict[str, str] | None = None,
    log: str | None = None,
    timeout_s: float | None = None,
    sample_s: float = 0.25,
) -> MeasureResult:
    """Runs a command (a list of strings) or a callable in a fresh measurer process; see the module docstring.

    Args:
        target: the command's argv, `"module:function"`, or a function of an importable module.
        kwargs: keyword arguments of the callable (JSON-able).
        cwd: the child's working directory (default: the repository root, also put on PYTHONPATH).
        env: extra environment variables for the child.
        log: a file the child's stdout and stderr go to (default: discarded).
        timeout_s: the child (and its tree) is killed after this many seconds.
        sample_s: the interval of the summed-RSS sampling.

    Raises:
        subprocess.CalledProcessError: the child exited non-zero (its log file holds why).
    """
    if isinstance(target, str) or callable(target):
        name = target if isinstance(target, str) else _module_name(target)
        code = (
            "import importlib, json, sys\n"
            "m, f = sys.argv[1].split(':')\n"
            "fn = importlib.import_module(m)\n"
            "for part in f.split('.'):\n"
            "    fn = getattr(fn, part)\n"
            "value = fn(**json.loads(sys.argv[2]))\n"
            "with open(sys.argv[3], 'w') as out:\n"
            "    json.dump(value, out, default=str)\n"
        )
        argv = [sys.executable, "-c", code, name, json.dumps(kwargs or {})]
    else:
        argv, name = list(target), None
    child_env = dict(os.environ)
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, child_env.get("PYTHONPATH", "")) if p)
    child_env.update(env or {})
    spec = {"argv": argv, "cwd": cwd, "log": log, "timeout_s": timeout_s, "sample_s": sample_s, "callable": bool(name)}
    load_before = os.getloadavg()
    done = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--measure", json.dumps(spec)],
        env=child_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    load_after = os.getloadavg()
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"measurer failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["returncode"] != 0:
        raise subprocess.CalledProcessError(report["returncode"], argv, stderr=f"see {log}" if log else None)
    return MeasureResult(
        wall_s=report["wall_s"],
        peak_rss_mb=report["maxrss_kb"] / 1024,
        tree_rss_mb=report["tree_kb"] / 1024,
        returncode=report["returncode"],
        load_before=tuple(round(x, 2) for x in load_before),
        load_after=tuple(round(x, 2) for x in load_after),
        value=report.get("value"),
    )


# The measurer process.


def _children_of(pid: int) -> dict[int, list[int]]:
    """ppid → pids of every live process (read from /proc)."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, out, todo = _children_of(pid), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, []))
    return out


def _pss_kb(pid: int) -> int:
    """The process's proportional set size (shared pages split among their sharers), or its RSS where unknown."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE // 1024
    except (OSError, IndexError, ValueError):
        return 0


def _tree_kb(pids: list[int]) -> int:
    return sum(_pss_kb(p) for p in pids)


def _measurer(spec: dict) -> dict:
    """Runs `spec["argv"]`, reaps its whole tree, returns wall seconds, ru_maxrss and the sampled tree peak."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    value_file = None
    argv = list(spec["argv"])
    if spec["callable"]:
        value_file = f"/tmp/peers-measure-{os.getpid()}.json"
        argv.append(value_file)
    me = os.getpid()
    tree_peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not stop.wait(spec["sample_s"]):
            pids = [p for p in _descendants(me) if p != me]
            tree_peak = max(tree_peak, _tree_kb(pids))

    log = open(spec["log"], "wb") if spec["log"] else subprocess.DEVNULL  # noqa: SIM115 - closed below
    sampler = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=spec["cwd"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    sampler.start()
    try:
        returncode = child.wait(timeout=spec["timeout_s"])
    except subprocess.TimeoutExpired:
        for p in reversed(_descendants(child.pid)):
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
        returncode = child.wait()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    deadline = time.monotonic() + 60  # orphaned descendants (re-parented to us) exit once their parent is gone
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if time.monotonic() > deadline:
                for p in [p for p in _descendants(me) if p != me]:
                    with contextlib.suppress(OSError):
                        os.kill(p, signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.05)
    if log is not subprocess.DEVNULL:
        log.close()
    report = {
        "wall_s": wall,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "tree_kb": max(
            tree_peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        ),  # a run shorter than a sample
        "returncode": returncode,
    }
    if value_file and os.path.exists(value_file):
        with open(value_file) as f:
            report["value"] = json.load(f)
        os.remove(value_file)
    return report


# Summaries and report text.


def summary(values: Sequence[float]) -> dict[str, float]:
    """min, median and max of the values, and how many there are."""
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
        "n": len(values),
    }


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table; cells are formatted with `str` (format numbers before)."""
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """One line: architecture, CPU model, cores, memory, OS and Python."""
    mem = ""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return (
        f"{platform.machine()}, {_cpu_model()}, {os.cpu_count()} cores{mem}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def versions(*packages: str) -> str:
    """`name version` of each installed distribution, comma-separated (`not installed` when absent)."""
    out = []
    for name in packages:
        try:
            out.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name} not installed")
    return ", ".join(out)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--measure":
    print(json.dumps(_measurer(json.loads(sys.argv[2]))))
