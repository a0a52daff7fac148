"""Run an untrusted program in a sandboxed child process; no Beam here.

`run_sandboxed(argv, workdir, limits, isolation)` runs one command in `workdir`
(a fresh temporary folder the caller filled) and returns a `RawRun`: exit
code, capped stdout/stderr, whether the wall clock ran out, the seconds it took.

What guards the machine, by layer:

* **Namespaces** (`isolation.namespaces`, Linux with user namespaces, probed once
  by `probe_isolation`): `unshare` gives the program an empty network namespace
  (no interface but a downed loopback: no network at all), its own PID namespace
  (killing its first process kills every process it started) and a mount
  namespace in which every filesystem is remounted read-only except `workdir`
  (and /proc, /dev, /sys, which the kernel guards).
* **A user of its own**: started as root, the program runs as `nobody`
  (uid 65534), so the process limit below applies (the kernel exempts root) and
  no file of root's is writable; `workdir` is handed to that user.
* **Resource limits** (`resource.setrlimit`, inherited by every child): CPU
  seconds, address space, file size (a write past it fails), open files, no
  core dumps, and the number of processes (a fork bomb stops there).
* **A wall-clock timeout**: past `limits.timeout_s` the process group (or the
  PID namespace) is killed; the run reports `timed_out`.
* **Output caps**: stdout and stderr are read up to `limits.output_bytes` each;
  more is discarded, never held.
* **A scrubbed environment**: only `PATH`, `HOME`/`TMPDIR` (the workdir), `LANG`
  and what the language runner adds; no API key of the worker's reaches the program.
  Where the program would run as the worker's own user with no PID namespace, the
  worker is made non-dumpable first, so its `/proc/<pid>/environ` is not readable either.

Without user namespaces (a container that forbids them), the last three layers
still hold and `probe_isolation` says why the rest do not, for one warning per
worker; language harnesses (`transforms.execution.harness`) add their own guards
(no sockets, no subprocesses, no writes outside the folder) in both cases.
"""

__all__ = ["Isolation", "Limits", "RawRun", "SandboxError", "probe_isolation", "run_sandboxed"]

import contextlib
import dataclasses
import functools
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence


NOBODY = 65534
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
"""The PATH the program sees, before the runner adds its toolchain's folder."""

_MOUNT_SETUP = r"""w=$1; shift
mount --bind "$w" "$w" || exit 125
while read -r _ _ _ _ point _; do
  case "$point" in "$w"|/proc|/proc/*|/dev|/dev/pts|/dev/mqueue|/sys|/sys/*) ;;
  *) mount -o remount,bind,ro "$point" 2>/dev/null ;; esac
done < /proc/self/mountinfo
cd "$w" && : > .codepref-started && "$@"
"""
"""Run inside the new namespaces: keep `workdir` writable, make every other mount read-only, run the program.

The shell stays the namespace's first process (PID 1, which ignores the signals
it has no handler for, `abort()`'s too); the program runs as its child, and a
signal that kills it shows as the exit status 128 + signal."""

_SETUP_FAILED = 125
STARTED = ".codepref-started"
"""The marker the sandbox writes in the folder just before the program starts: without it, the sandbox failed."""
_GUARDS_ONLY_START = ': > .codepref-started && exec "$@"'
_RETRIES = (0.5, 1.0, 2.0)
"""Seconds to wait before each new try of a run whose sandbox did not start (a transient lack of processes)."""


class SandboxError(OSError):
    """The sandbox itself failed (it could not start the program): no verdict on the program."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one run may use.

    Attributes:
        timeout_s: wall-clock seconds before the run is killed.
        cpu_s: CPU seconds (the kernel stops the process past them).
        memory_mb: address space per process, in MiB.
        output_bytes: bytes kept of stdout and of stderr, each.
        file_bytes: the largest file the program may write.
        processes: the most processes (and threads) the sandbox user may have at once.
        open_files: the most open file descriptors per process.
    """

    timeout_s: float = 10.0
    cpu_s: int = 10
    memory_mb: int = 2048
    output_bytes: int = 64 * 1024
    file_bytes: int = 16 * 1024 * 1024
    processes: int = 256
    open_files: int = 256


@dataclasses.dataclass(frozen=True)
class Isolation:
    """What isolation this machine gives (see the module docstring).

    Attributes:
        namespaces: network, PID and mount namespaces through `unshare`.
        drop_user: run as `nobody` (the worker is root).
        warning: why namespaces are unavailable, or "".
    """

    namespaces: bool
    drop_user: bool
    warning: str = ""


@dataclasses.dataclass(frozen=True)
class RawRun:
    """What one sandboxed command did.

    Attributes:
        exit_code: the exit status; negative: killed by that signal (in namespaces the
            shell reports that as 128 + signal, which is turned back into -signal).
        stdout: the first `output_bytes` of its standard output, decoded leniently.
        stderr: the same of its standard error.
        timed_out: the wall clock ran out and the sandbox was killed.
        seconds: how long it ran.
        started: the sandbox got as far as starting the program (`STARTED`).
    """

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float
    started: bool = True


@functools.cache
def probe_isolation() -> Isolation:
    """Finds out once per process whether namespaces work here (a tiny sandboxed `true`)."""
    unshare = shutil.which("unshare")
    drop = os.geteuid() == 0
    if unshare is None:
        return Isolation(
            False, drop, "`unshare` (util-linux) is not installed: programs run without network or filesystem isolation"
        )
    with tempfile.TemporaryDirectory(prefix="codepref-probe-") as workdir:
        isolation = Isolation(True, drop)
        try:  # one try, no retries: a refusal here is what the probe is for
            run = _run_once(
                ["/bin/sh", "-c", "touch ok && ! touch /probe-outside 2>/dev/null"],
                workdir,
                Limits(timeout_s=20),
                isolation,
                None,
                b"",
            )
        except SandboxError as exc:  # the mounts could not be set up
            detail = str(exc)
        else:
            if run.started and run.exit_code == 0 and os.path.exists(os.path.join(workdir, "ok")):
                return isolation
            detail = (run.stderr.strip().splitlines() or ["no detail"])[-1]
    return Isolation(
        False,
        drop,
        f"user namespaces are unavailable ({detail[:200]}): programs run without "
        "network or filesystem isolation; allow unprivileged user namespaces to get them",
    )


def _namespace_argv(argv: Sequence[str], workdir: str) -> list[str]:
    return [
        "unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child",
        "--mount-proc", "/bin/sh", "-c", _MOUNT_SETUP, "sandbox", workdir, *argv,
    ]  # fmt: skip


def _limit_values(limits: Limits, own_processes: int) -> tuple[tuple[str, str, int], ...]:
    """(prlimit option, `resource` name, value) of each limit."""
    return (
        ("--cpu", "RLIMIT_CPU", limits.cpu_s),
        ("--as", "RLIMIT_AS", limits.memory_mb * 1024 * 1024),
        ("--fsize", "RLIMIT_FSIZE", limits.file_bytes),
        ("--nofile", "RLIMIT_NOFILE", limits.open_files),
        ("--core", "RLIMIT_CORE", 0),
        ("--nproc", "RLIMIT_NPROC", limits.processes + own_processes),
    )


def _limited(command: list[str], limits: Limits, own_processes: int) -> tuple[list[str], object]:
    """The command under `prlimit` (util-linux), or, without it, a `preexec_fn` that sets the limits.

    `prlimit` is preferred: a `preexec_fn` runs Python in the forked child, which is
    unsafe in a worker with threads (gRPC's, the stage's pool).
    """
    values = _limit_values(limits, own_processes)
    prlimit = shutil.which("prlimit", path=SAFE_PATH)
    if prlimit:
        return [prlimit, *(f"{option}={value}" for option, _, value in values), "--", *command], None

    def setup() -> None:
        for _, name, value in values:
            resource.setrlimit(getattr(resource, name), (value, value))

    return command, setup


@functools.cache
def _protect_worker() -> None:
    """Makes this worker's /proc files (its environment: API keys) unreadable to its own user's programs.

    Needed where a program runs as the worker's user with no PID namespace: without
    it, `/proc/<worker pid>/environ` would be readable. Marks the process
    non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`), which also turns off its core dumps.
    """
    import ctypes

    pr_set_dumpable = 4
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_dumpable, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed: the worker environment stays readable")


def _processes_of(uid: int) -> int:
    """How many processes `uid` has now: a non-root user's limit counts them too."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                continue
    return count


def _read_capped(stream, cap: int, into: list[bytes]) -> None:
    kept = 0
    while chunk := stream.read(65536):
        if kept < cap:
            into.append(chunk[: cap - kept])
            kept += len(into[-1])


def run_sandboxed(
    argv: Sequence[str],
    workdir: str,
    limits: Limits,
    isolation: Isolation,
    env: Mapping[str, str] | None = None,
    stdin: bytes = b"",
) -> RawRun:
    """Runs `argv` in `workdir` under `limits` and `isolation`; see the module docstring.

    A run whose sandbox did not get as far as starting the program (no `STARTED`
    marker: `unshare` or a fork refused, often for a moment only) is tried again
    after `_RETRIES` pauses, so that such a failure is never taken for the program's.

    Args:
        argv: the command; its program is looked up on `SAFE_PATH`.
        workdir: the folder it runs in, the only one it may write.
        limits: time, CPU, memory, output, file, process and descriptor limits.
        isolation: what `probe_isolation` found.
        env: variables the runner adds (`PATH` may be replaced).
        stdin: what the program reads.

    Raises:
        SandboxError: the sandbox could not start the program, after every retry (or
            its mounts failed, which no retry mends).
    """
    for pause in _RETRIES:
        run = _run_once(argv, workdir, limits, isolation, env, stdin)
        if run.started:
            return run
        time.sleep(pause)
    run = _run_once(argv, workdir, limits, isolation, env, stdin)
    if run.started:
        return run
    detail = (run.stderr.strip().splitlines() or [f"exit {run.exit_code}"])[-1]
    raise SandboxError(f"the sandbox could not start {argv[0]} after {len(_RETRIES) + 1} tries: {detail[:300]}")


def _run_once(
    argv: Sequence[str],
    workdir: str,
    limits: Limits,
    isolation: Isolation,
    env: Mapping[str, str] | None,
    stdin: bytes,
) -> RawRun:
    """One try of `run_sandboxed` (its `started` False when the program never started)."""
    marker = os.path.join(workdir, STARTED)
    if os.path.lexists(marker):
        os.remove(marker)
    if isolation.drop_user:
        for root, dirs, files in os.walk(workdir):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, NOBODY, NOBODY)
    environment = {"PATH": SAFE_PATH, "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8", **(env or {})}
    if isolation.namespaces:
        command = _namespace_argv(argv, workdir)
    else:
        command = ["/bin/sh", "-c", _GUARDS_ONLY_START, "sandbox", *argv]
    if not (isolation.namespaces or isolation.drop_user):
        _protect_worker()
    own = 0 if isolation.drop_user else _processes_of(os.getuid())
    command, preexec = _limited(command, limits, own)
    user = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if isolation.drop_user else {}
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=workdir,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=preexec,
        start_new_session=True,
        close_fds=True,
        **user,
    )
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [
        threading.Thread(target=_read_capped, args=(proc.stdout, limits.output_bytes, out), daemon=True),
        threading.Thread(target=_read_capped, args=(proc.stderr, limits.output_bytes, err), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        proc.stdin.write(stdin)
        proc.stdin.close()
    except OSError:  # it exited before reading
        pass
    timed_out = False
    try:
        proc.wait(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    _kill_group(proc)
    for reader in readers:
        reader.join(timeout=5)
    seconds = time.monotonic() - started
    stderr = b"".join(err).decode("utf-8", "replace")
    if isolation.namespaces and proc.returncode == _SETUP_FAILED and "mount" in stderr:
        raise SandboxError(f"the sandbox could not set up its mounts: {stderr.strip()[-300:]}")
    code = proc.returncode
    if isolation.namespaces and 128 < code <= 128 + 64:  # the shell's way of saying "killed by a signal"
        code = 128 - code
    started_program = timed_out or os.path.lexists(marker)
    return RawRun(code, b"".join(out).decode("utf-8", "replace"), stderr, timed_out, seconds, started_program)


def _kill_group(proc: subprocess.Popen) -> None:
    """Kills the run's session (all it started that stayed in it) and reaps the process."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
