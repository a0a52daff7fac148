"""Runs a function on one element at a time in a child process.

A crash or a hang then costs that element, not the worker. Beam's
`with_exception_handling(use_subprocess=True)` forks the worker for this. A
worker that talks gRPC (the multi-process DirectRunner, Dataflow) has threads
holding locks, and a forked child inherits those locks held: in CI such a child
aborted on abseil's mutex check, and healthy pairs failed with it.

`ChildProcess` starts a fresh interpreter instead (`python -c`, no fork of the
worker, no re-import of its `__main__`), gives it the worker's `sys.path`, and
keeps it for the next elements. The child imports only what unpickling the
function needs, so keep such functions in modules that do not import Beam.
After a crash or a timeout the child is stopped and the next call starts a new
one. The function, its elements and results cross a pipe, so they must pickle
(a module-level function, or a `functools.partial` of one).
"""

__all__ = ["ChildProcess", "IsolationError"]

import pathlib
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, Pipe
from typing import Any


_ROOT = str(pathlib.Path(__file__).resolve().parent.parent)
_BOOTSTRAP = "import sys; sys.path.insert(0, sys.argv[1]); import transforms.isolation as i; i.serve(int(sys.argv[2]))"
"""The child's program: find this package, then serve on the inherited pipe."""


class IsolationError(RuntimeError):
    """The child process died, could not start, or ran past the timeout."""


class ChildProcess:
    """Calls `fn(element)` in a long-lived child interpreter.

    Args:
        fn: the function to run; an exception it raises is raised again here,
            with the child's traceback as a note.
        timeout_s: the most one call may take; starting the child and
            `prepare` do not count.
        prepare: run once in each new child before its first element (e.g. load
            parsers).
    """

    def __init__(self, fn: Callable[[Any], Any], timeout_s: float, prepare: Callable[[], None] | None = None) -> None:
        self._fn, self._timeout_s, self._prepare = fn, timeout_s, prepare
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None

    def __call__(self, element: Any) -> Any:
        conn = self._conn or self._start()
        try:
            conn.send(element)
        except OSError:
            raise self._died("died before this element") from None
        if not conn.poll(self._timeout_s):
            self.close()
            raise IsolationError(f"no result within {self._timeout_s:g} s; the child process was stopped")
        try:
            ok, value = conn.recv()
        except (EOFError, OSError):
            raise self._died("died on this element") from None
        if ok:
            return value
        error, child_traceback = value
        error.add_note(f"in the child process:\n{child_traceback}")
        raise error

    def close(self) -> None:
        """Stops the child, if one runs."""
        if self._process is not None:
            self._conn.close()
            self._process.kill()
            self._process.wait()
        self._process = self._conn = None

    def _start(self) -> Connection:
        parent, child = Pipe()
        self._process = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, _ROOT, str(child.fileno())],
            pass_fds=[child.fileno()],
            stdin=subprocess.DEVNULL,
        )
        child.close()
        self._conn = parent
        try:
            parent.send(sys.path)
            parent.send((self._fn, self._prepare))
            parent.recv()  # the child is ready: imports and `prepare` are done
        except (EOFError, OSError):
            raise self._died("could not start") from None
        return parent

    def _died(self, what: str) -> IsolationError:
        try:
            code = self._process.wait(5)
        except subprocess.TimeoutExpired:  # the pipe broke but the process lives on: stopped below
            code = None
        how = f"killed by {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
        self.close()
        return IsolationError(f"the child process {what} ({how})")


def serve(fd: int) -> None:
    """Runs the child's side of the pipe `fd`.

    Takes the worker's `sys.path`, then the function and `prepare`, then answers
    each element with `(True, result)` or `(False, (error, traceback))`.
    """
    conn = Connection(fd)
    sys.path[:] = conn.recv()
    fn, prepare = conn.recv()
    if prepare is not None:
        prepare()
    conn.send(None)
    while True:
        try:
            element = conn.recv()
        except EOFError:
            return
        try:
            answer = (True, fn(element))
        except Exception as error:
            answer = (False, (error, traceback.format_exc()))
        try:
            conn.send(answer)
        except Exception as error:  # the result or the error does not pickle
            conn.send((False, (RuntimeError(f"{type(error).__name__}: {error}"), traceback.format_exc())))
