"""`codepref build` on a second real runner: Beam's portable runner with an EXTERNAL worker pool.

The shipped demo config (pipelines/demo/build.yaml) is resolved as `codepref demo`
resolves it (`build_demo_repository`, `write_demo_config`), with the LLM off
(`mode: export`: nothing is sent), and built twice: with the DirectRunner, and
on Beam's Python job service (`local_job_service_main`) and a worker pool
(`worker_pool_main`), started on loopback as separate processes, with
`--runner PortableRunner --environment_type EXTERNAL`: the job service runs the
job and asks the pool for SDK workers, which the pool starts as processes of
their own, as a cluster would, so `git` and tree-sitter run on the workers. The
release must be the DirectRunner's byte for byte: every data, rejects and batch
file and manifest.json, which records nothing about the runner, the time or the
workers.

Without an LLM the git history is still mined, tagged, deduplicated, cut into
function pairs and sampled; `rate_commits` (the first LLM stage) writes its
requests to `batch/` and rejects its pairs `awaiting_batch`, so the later LLM
stages see none. The instruction set, the secure-code pairs, the final stages,
the mix and the system column run as in the demo.

A run whose SDK worker dies (it cannot start, or is killed) would wait for the
worker forever: the watch ends it as soon as a worker of the pool exits with a
failure, and the test fails with the logs.
"""

import contextlib
import glob
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import yaml

from pipelines.demo import build_demo_repository, write_demo_config
from pipelines.llm_server import free_port
from tests.pipelines.test_build import manifest_of, run_build


JOB_SERVICE = "apache_beam.runners.portability.local_job_service_main"
WORKER_POOL = "apache_beam.runners.worker.worker_pool_main"
START_DEADLINE_S = 300  # generous: two Python processes importing Beam on a busy 2-core machine
RUN_TIMEOUT_S = 900  # only so that a hung job fails the test instead of the whole CI run


class Service:
    """A started service process (its own process group), its port and its log file."""

    def __init__(self, name, module, args, port, log, env):
        self.name, self.port, self.log = name, port, log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )

    def wait_until_listening(self, others):
        """Polls until the port accepts a connection; fails with the logs if the process ends or never listens."""
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode} before listening\n{logs(others)}")
            with contextlib.suppress(OSError), socket.create_connection(("localhost", self.port), timeout=1):
                return
            time.sleep(0.2)
        pytest.fail(f"{self.name} did not listen on localhost:{self.port} within {START_DEADLINE_S} s\n{logs(others)}")

    def stop(self):
        """Ends the whole process group (the pool's SDK workers are in it): SIGTERM, then SIGKILL."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=30)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):  # workers that outlived the pool's own process
            os.killpg(self.process.pid, signal.SIGKILL)


def failed_workers(pool):
    """The pool's SDK workers that have exited with a failure: {pid: exit code, or -signal}.

    The pool starts each worker with Popen and waits for none that ends by itself,
    so an exited worker stays a zombie child of the pool, whose /proc stat keeps
    its wait status (field 52, Linux >= 3.5). A worker the job service lets go at
    the end of a job exits 0. Empty where /proc is missing.
    """
    failed = {}
    for path in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(path) as f:
                text = f.read()
        except OSError:  # the process is gone
            continue
        fields = text[text.rindex(")") + 2 :].split()  # fields[i] is field i + 3 of proc(5): state, ppid, ...
        if fields[0] == "Z" and fields[1] == str(pool.process.pid) and len(fields) > 49 and int(fields[49]):
            failed[int(path.split("/")[2])] = os.waitstatus_to_exitcode(int(fields[49]))
    return failed


def watch(run, job, pool):
    """Waits for the build `run`; returns None when it ended, else why it was killed.

    It is killed when a service ends, when an SDK worker of the pool fails (the
    job would wait for it forever), or after RUN_TIMEOUT_S.
    """
    earlier = failed_workers(pool)  # the pool may be shared: only this run's workers count
    deadline = time.monotonic() + RUN_TIMEOUT_S
    why = None
    while run.poll() is None and why is None:
        ended = [
            f"the {s.name} exited with {s.process.returncode}" for s in (job, pool) if s.process.poll() is not None
        ]
        failed = {pid: code for pid, code in failed_workers(pool).items() if pid not in earlier}
        if ended:
            why = "; ".join(ended)
        elif failed:
            why = "an SDK worker of the worker pool failed: " + ", ".join(
                f"pid {pid} exited with {code}" for pid, code in sorted(failed.items())
            )
        elif time.monotonic() > deadline:
            why = f"the build did not end within {RUN_TIMEOUT_S} s"
        else:
            time.sleep(1)
    if why is not None:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    return why


def build_portable(config, out, tmp, job, pool):
    """Runs `codepref build` on the job service and the pool: (why it was killed or None, return code, details)."""
    build = [sys.executable, "-m", "pipelines.cli", "build", "--config", config, "--out", str(out)]
    portable = ["--runner", "PortableRunner", f"--job_endpoint=localhost:{job.port}", "--environment_type", "EXTERNAL"]
    workers = [f"--environment_config=localhost:{pool.port}", "--temp_location", str(tmp / "beam-tmp")]
    args = [*build, *portable, *workers]
    log_path = tmp / f"build-{os.path.basename(out)}.log"
    with open(log_path, "wb") as log:
        run = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    why = watch(run, job, pool)
    return why, run.returncode, f"----- codepref build log -----\n{read_log(log_path)}\n{logs([job, pool])}"


def read_log(path, limit=6000):
    with open(path, errors="replace") as f:
        text = f.read()
    return text if len(text) <= limit else "...\n" + text[-limit:]


def logs(services):
    return "\n".join(f"----- {s.name} log ({s.log}) -----\n{read_log(s.log)}" for s in services)


def every_file(out):
    found = {}
    for folder, _, names in os.walk(out):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, out)] = f.read()
    return found


def python_on_path(folder, script):
    """A folder holding `python` (a shell script) and an environment with it first on PATH.

    The pool starts each SDK worker as `python -c ...`, found on PATH.
    """
    folder.mkdir()
    (folder / "python").write_text(f"#!/bin/sh\n{script}\n")
    (folder / "python").chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """The job service and the worker pool, listening on loopback; both torn down whatever happens."""
    missing = [m for m in (JOB_SERVICE, WORKER_POOL) if importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(f"apache_beam lacks {', '.join(missing)}: install apache-beam (pip install -e .) to run this test")
    tmp = tmp_path_factory.mktemp("portable")
    # This interpreter, which has Beam and the project installed (a wrapper: a symlink to a venv's python leaves it).
    env = python_on_path(tmp / "bin", f'exec "{sys.executable}" "$@"')
    started = []
    try:
        job_port = free_port()
        job_args = ["--port", str(job_port), "--staging_dir", str(tmp / "staging")]
        started.append(Service("job service", JOB_SERVICE, job_args, job_port, tmp / "job.log", env))
        pool_port = free_port()
        pool_args = ["--service_port", str(pool_port)]
        started.append(Service("worker pool", WORKER_POOL, pool_args, pool_port, tmp / "pool.log", env))
        for service in started:
            service.wait_until_listening(started)
        yield tmp, *started
    finally:
        for service in started:
            service.stop()


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory):
    """The shipped demo config, resolved by `codepref demo`'s own code with the LLM off: its path."""
    inputs = tmp_path_factory.mktemp("demo-input")
    repo = build_demo_repository(str(inputs / "demo-samples"))
    return write_demo_config(str(inputs), repo, None)


def test_the_portable_runner_with_a_worker_pool_gives_the_directrunner_release(demo_config, services):
    tmp, job, pool = services
    with open(demo_config) as f:
        assert yaml.safe_load(f)["llm"]["mode"] == "export"
    done = run_build("--config", demo_config, "--out", str(tmp / "direct"))
    assert done.returncode == 0, done.stderr
    stages = {s["name"]: s for s in manifest_of(tmp / "direct")["stages"]}
    assert stages["mine_git"]["in"] > stages["mine_git"]["out"] > 0  # the history was mined ...
    assert stages["function_pairs"]["out"] > 0
    rated = stages["rate_commits"]
    assert rated["in"] > 0 and rated["out"] == 0 and rated["rejected"] == {"awaiting_batch": rated["in"]}  # ... unsent
    assert stages["judge_pairs"]["in"] == 0 and stages["mutate"]["out"] > 0 and stages["mix"]["rejected"]

    why, returncode, detail = build_portable(demo_config, tmp / "portable", tmp, job, pool)
    assert why is None, f"{why}\n{detail}"
    assert returncode == 0, detail
    assert "Starting worker" in read_log(pool.log, limit=10**9), "the pool started no SDK worker\n" + detail
    direct, portable = every_file(tmp / "direct"), every_file(tmp / "portable")
    assert any(name.startswith("batch" + os.sep) for name in direct) and any(
        name.startswith("rejects" + os.sep) for name in direct
    )
    assert sorted(portable) == sorted(direct), detail
    assert [name for name in sorted(direct) if portable[name] != direct[name]] == [], detail


def test_a_worker_that_cannot_start_ends_the_run_at_once(services, tmp_path):
    _, job, _ = services  # its job waits for the dead worker in the job service until the module's teardown
    env = python_on_path(tmp_path / "bin", 'echo "this SDK worker cannot start" >&2\nexit 3')
    port = free_port()
    pool = Service("worker pool", WORKER_POOL, ["--service_port", str(port)], port, tmp_path / "pool.log", env)
    config = tmp_path / "build.yaml"
    config.write_text(
        yaml.safe_dump({"sources": {"instructions": {"files": [os.path.abspath("pipelines/demo/instructions.jsonl")]}}})
    )
    try:
        pool.wait_until_listening([job, pool])
        why, _, detail = build_portable(str(config), tmp_path / "out", tmp_path, job, pool)
    finally:
        pool.stop()
    assert why is not None and why.startswith("an SDK worker of the worker pool failed: pid "), detail
    assert why.endswith("exited with 3"), detail
    assert "this SDK worker cannot start" in read_log(pool.log)
