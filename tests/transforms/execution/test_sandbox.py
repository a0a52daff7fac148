"""`transforms.execution.sandbox`: exit codes, caps, limits, the scrubbed environment and the namespaces."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import tracemalloc

import pytest

from tests.transforms.execution.helpers import GUARDS_ONLY, namespaced, survivors
from transforms.execution import sandbox
from transforms.execution.sandbox import SAFE_PATH, Isolation, Limits, probe_isolation, run_sandboxed


PYTHON = shutil.which("python3", path=SAFE_PATH) or shutil.which("python3")
KEY = "sk-test-codepref-0123456789abcdef"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT = Limits()
ISOLATIONS = [pytest.param("probed", id="probed"), pytest.param("guards", id="guards-only")]


def isolation_named(name: str) -> Isolation:
    return probe_isolation() if name == "probed" else GUARDS_ONLY


def sh(script: str, workdir: str, limits: Limits = DEFAULT, isolation: Isolation | None = None, **kwargs):
    return run_sandboxed(["/bin/sh", "-c", script], workdir, limits, isolation or probe_isolation(), **kwargs)


def test_probe_isolation_answers_consistently():
    isolation = probe_isolation()
    assert isolation is probe_isolation()  # probed once per process
    assert isolation.drop_user == (os.geteuid() == 0)
    assert (isolation.warning == "") == isolation.namespaces
    if not isolation.namespaces:
        assert "isolation" in isolation.warning


def test_probe_without_unshare_warns_why(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(sandbox.shutil, "which", lambda name, *a, **k: None if name == "unshare" else real_which(name))
    isolation = sandbox.probe_isolation.__wrapped__()
    assert not isolation.namespaces
    assert "unshare" in isolation.warning and "without network or filesystem isolation" in isolation.warning


def test_probe_with_failing_namespaces_warns_with_the_detail(monkeypatch):
    failing = ["/bin/sh", "-c", "echo 'unshare: unshare failed: Operation not permitted' >&2; exit 1"]
    monkeypatch.setattr(sandbox, "_namespace_argv", lambda argv, workdir: failing)
    isolation = sandbox.probe_isolation.__wrapped__()
    assert not isolation.namespaces
    assert "user namespaces are unavailable" in isolation.warning
    assert "Operation not permitted" in isolation.warning


def test_probe_with_failing_mounts_warns_with_the_detail(monkeypatch):
    failing = ["/bin/sh", "-c", "echo 'mount: permission denied' >&2; exit 125"]
    monkeypatch.setattr(sandbox, "_namespace_argv", lambda argv, workdir: failing)
    isolation = sandbox.probe_isolation.__wrapped__()
    assert not isolation.namespaces and "could not set up its mounts" in isolation.warning


@pytest.mark.parametrize("which", ISOLATIONS)
def test_exit_code_output_and_stdin(which, workdir):
    run = sh("cat; echo err >&2; exit 7", workdir, isolation=isolation_named(which), stdin=b"hello\n")
    assert (run.exit_code, run.stdout, run.stderr, run.timed_out) == (7, "hello\n", "err\n", False)


def test_output_is_decoded_leniently(workdir):
    run = sh(r"printf 'a\377b'", workdir)
    assert run.stdout == "a\ufffdb"


@pytest.mark.parametrize("which", ISOLATIONS)
def test_output_is_capped_without_holding_or_hanging(which, workdir):
    script = "head -c 4000000 /dev/zero | tr '\\0' x; head -c 4000000 /dev/zero | tr '\\0' y >&2; exit 3"
    tracemalloc.start()
    try:
        run = sh(script, workdir, Limits(timeout_s=60, output_bytes=1000), isolation_named(which))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not run.timed_out and run.exit_code == 3  # read to the end: the writer never blocked
    assert run.stdout == "x" * 1000 and run.stderr == "y" * 1000
    assert peak < 1_000_000  # 8 MB went through; what was past the cap was never held


@pytest.mark.parametrize("which", ISOLATIONS)
def test_wall_clock_timeout_kills_a_sleeper_and_its_children(which, workdir):
    marker = "37.4242" if which == "probed" else "37.4243"
    run = sh(f"sleep {marker} & sleep {marker}", workdir, Limits(timeout_s=1), isolation_named(which))
    assert run.timed_out and run.seconds < 30
    assert survivors(f"sleep\0{marker}") == []


def test_wall_clock_timeout_stops_a_loop(workdir):
    run = sh("while :; do :; done", workdir, Limits(timeout_s=1, cpu_s=60))
    assert run.timed_out and run.seconds < 30


@pytest.mark.parametrize("which", ISOLATIONS)
def test_cpu_limit_stops_a_loop_before_the_wall_clock(which, workdir):
    run = sh("while :; do :; done", workdir, Limits(timeout_s=60, cpu_s=1), isolation_named(which))
    assert not run.timed_out
    killed = {-signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGXCPU, 128 + signal.SIGKILL}
    assert run.exit_code in killed


def test_memory_and_file_size_limits(workdir):
    big = run_sandboxed([PYTHON, "-c", "b = bytearray(1 << 30)"], workdir, Limits(memory_mb=256), probe_isolation())
    assert big.exit_code != 0 and "MemoryError" in big.stderr
    run = sh("head -c 100000 /dev/zero > big", workdir, Limits(file_bytes=1000))
    assert run.exit_code != 0
    assert os.path.getsize(os.path.join(workdir, "big")) <= 1000


@pytest.mark.parametrize("which", ISOLATIONS)
def test_environment_is_scrubbed(which, workdir, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    run = sh("env", workdir, isolation=isolation_named(which), env={"CODEPREF_RUNNER": "added"})
    seen = dict(line.split("=", 1) for line in run.stdout.splitlines() if "=" in line)
    assert KEY not in run.stdout and "OPENAI_API_KEY" not in seen
    assert seen["PATH"] == SAFE_PATH and seen["HOME"] == workdir and seen["TMPDIR"] == workdir
    assert seen["CODEPREF_RUNNER"] == "added"


_READ_PARENT_ENVIRON = """
import os, sys, tempfile
from transforms.execution.sandbox import Isolation, Limits, probe_isolation, run_sandboxed
# without namespaces as probe_isolation would find it: a root worker runs programs as nobody
isolation = probe_isolation() if sys.argv[1] == "probed" else Isolation(False, os.geteuid() == 0)
workdir = tempfile.mkdtemp(prefix="codepref-test-")
run = run_sandboxed(["/bin/sh", "-c", "cat /proc/$PPID/environ"], workdir, Limits(), isolation)
print("leaked" if os.environ["OPENAI_API_KEY"] in run.stdout else "hidden")
"""


@pytest.mark.parametrize("which", ISOLATIONS)
def test_the_workers_key_cannot_be_read_from_proc(which):
    """A worker started with an API key in its environment: the program must not read it from /proc.

    Without namespaces, a root worker's programs run as nobody; a non-root worker's
    run as its own user, and the worker makes itself non-dumpable so that
    `/proc/<worker pid>/environ` is not theirs to read.
    """
    env = {**os.environ, "OPENAI_API_KEY": KEY, "PYTHONPATH": REPO}
    done = subprocess.run(
        [sys.executable, "-c", _READ_PARENT_ENVIRON, which], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "hidden"


# Namespace-only guards (probe_isolation().namespaces); skipped, with the reason, where they are unavailable.


def test_no_network_inside_the_namespaces(workdir, listener):
    isolation = namespaced()
    connect = f"import socket; socket.create_connection(('127.0.0.1', {listener.port}), timeout=2).sendall(b'x')"
    run = run_sandboxed([PYTHON, "-c", connect], workdir, Limits(timeout_s=20), isolation)
    assert run.exit_code != 0 and "Error" in run.stderr
    assert listener.close() == 0


def test_the_listener_sees_a_connection_without_namespaces(workdir, listener):
    """The control of the test above: the same program, unisolated, does connect."""
    connect = f"import socket; socket.create_connection(('127.0.0.1', {listener.port}), timeout=2).sendall(b'x')"
    run = run_sandboxed([PYTHON, "-c", connect], workdir, Limits(timeout_s=20), GUARDS_ONLY)
    assert run.exit_code == 0, run.stderr
    assert listener.close() == 1


@pytest.mark.parametrize("drop_user", [pytest.param(None, id="probed"), pytest.param(False, id="as-root")])
def test_nothing_outside_the_workdir_is_writable_inside_the_namespaces(drop_user, workdir, outside):
    """As the probed user, and as root (where only the read-only mounts can stop the write)."""
    isolation = namespaced()
    if drop_user is not None:
        isolation = Isolation(namespaces=True, drop_user=drop_user)
    run = sh(f"touch inside && touch {outside}/escaped", workdir, isolation=isolation)
    assert run.exit_code != 0
    assert os.path.exists(os.path.join(workdir, "inside"))
    assert list(outside.iterdir()) == []
    if drop_user is False:
        assert "Read-only file system" in run.stderr


def test_a_write_outside_lands_without_namespaces(workdir, outside):
    """The control of the test above: unisolated, as root here, the write does land."""
    run = sh(f"touch {outside}/escaped", workdir, isolation=GUARDS_ONLY)
    assert run.exit_code == 0
    assert [p.name for p in outside.iterdir()] == ["escaped"]


def test_the_pid_namespace_hides_the_worker_and_kills_escaped_children(workdir):
    isolation = namespaced()
    seen = sh("ls /proc | grep -c '^[0-9]'", workdir, isolation=isolation)
    assert int(seen.stdout) < 10  # the sandbox's own processes, not the machine's
    marker = "41.4343"
    run = sh(f"setsid sleep {marker} & sleep {marker}", workdir, Limits(timeout_s=1), isolation)
    assert run.timed_out
    assert survivors(f"sleep\0{marker}") == []  # a new session does not leave the PID namespace


def test_a_fork_bomb_is_stopped(workdir):
    isolation = probe_isolation()
    marker = "codepref-bomb-5150"
    bomb = f"bomb() {{ bomb | bomb & }}; bomb; sleep 30 # {marker}"
    run = sh(bomb, workdir, Limits(timeout_s=3, processes=32), isolation)
    assert run.seconds < 60  # it ended
    assert "fork" in run.stderr.lower()  # the process limit refused forks
    assert survivors(marker) == []
    after = sh("echo fine", workdir, isolation=isolation)
    assert (after.exit_code, after.stdout) == (0, "fine\n")


def test_a_non_root_worker_without_namespaces_hides_its_environment():
    """The non-root worker's case (programs run as its own user): it makes itself non-dumpable.

    Run as root, this starts the worker as nobody with the system Python (the
    sandbox module needs nothing else); run as another user, as that user.
    """
    script = _READ_PARENT_ENVIRON.replace("Isolation(False, os.geteuid() == 0)", "Isolation(False, False)")
    script = script.replace("from transforms.execution.sandbox import", "from sandbox import")
    shared = tempfile.mkdtemp(prefix="codepref-sandbox-module-")  # readable by nobody, unlike a 0700 checkout
    shutil.copy(os.path.join(REPO, "transforms", "execution", "sandbox.py"), shared)
    os.chmod(shared, 0o755)
    os.chmod(os.path.join(shared, "sandbox.py"), 0o644)
    env = {"OPENAI_API_KEY": KEY, "PYTHONPATH": shared, "PATH": SAFE_PATH}
    as_nobody = {"user": 65534, "group": 65534, "extra_groups": []} if os.geteuid() == 0 else {}
    python = "/usr/bin/python3" if as_nobody else sys.executable
    done = subprocess.run(
        [python, "-c", script, "guards-only"], cwd="/", env=env, capture_output=True, text=True, **as_nobody
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "hidden"


def test_a_sandbox_that_did_not_start_the_program_is_retried_then_an_error(workdir, monkeypatch):
    """A refused fork or `unshare` is no verdict on the program: it is retried, then raised."""
    monkeypatch.setattr(sandbox, "_RETRIES", (0.0, 0.0))
    once = 'if [ -e .tried ]; then : > .codepref-started && exec "$@"; else : > .tried; exit 1; fi'
    monkeypatch.setattr(sandbox, "_GUARDS_ONLY_START", once)
    guards = Isolation(False, os.geteuid() == 0)
    run = run_sandboxed(["/bin/sh", "-c", "echo ran"], workdir, Limits(), guards)
    assert (run.started, run.stdout) == (True, "ran\n")
    monkeypatch.setattr(sandbox, "_GUARDS_ONLY_START", "echo 'fork: Resource temporarily unavailable' >&2; exit 1")
    with pytest.raises(sandbox.SandboxError, match="could not start /bin/sh after 3 tries: fork: Resource"):
        run_sandboxed(["/bin/sh", "-c", "echo ran"], workdir, Limits(), guards)
