"""Runs a function on one element at a time in a child process.

A crash or a hang then costs that element, not the worker. Beam's
`with_exception_handling(use_subprocess=True)` forks the worker for this. A
worker that talks gRPC (the multi-process DirectRunner, Dataflow) has threads
holding locks, and a forked child inherits those locks held: in CI such a child
aborted on abseil's mutex check, and healthy pairs failed with it. `ChildProcess`
starts its child with `spawn` instead, a fresh interpreter that inherits
nothing, and keeps it for the next elements. After a crash or a timeout the
child is stopped and the next call starts a new one.

The function, its elements and results cross a pipe, so they must pickle, and
the function must be importable (defined at module level or a
`functools.partial` of one). As with any `spawn`, a script that runs a pipeline
must guard it with `if __name__ == "__main__":`.
"""

__all__ = ["ChildProcess", "IsolationError"]

import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any


class IsolationError(RuntimeError):
    """The child process died, could not start, or ran past the timeout."""


class ChildProcess:
    """Calls `fn(element)` in a long-lived spawned child process.

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
        self._process: Any = None
        self._conn: Any = None

    def __call__(self, element: Any) -> Any:
        conn = self._conn or self._start()
        try:
            conn.send(element)
        except (BrokenPipeError, ConnectionResetError):
            raise self._died() from None
        if not conn.poll(self._timeout_s):
            self.close()
            raise IsolationError(f"no result within {self._timeout_s:g} s; the child process was stopped")
        try:
            ok, value = conn.recv()
        except (EOFError, ConnectionResetError):
            raise self._died() from None
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
            self._process.join()
        self._process = self._conn = None

    def _start(self) -> Any:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self._fn, self._prepare), daemon=True)
        self._process.start()
        child.close()
        self._conn = parent
        try:
            parent.recv()  # the child is ready: imports and `prepare` are done
        except (EOFError, ConnectionResetError):
            raise IsolationError(f"the child process could not start (exit code {self._exit_code()})") from None
        return parent

    def _died(self) -> IsolationError:
        error = IsolationError(f"the child process died on this element (exit code {self._exit_code()})")
        self.close()
        return error

    def _exit_code(self) -> int | None:
        self._process.join(5)
        return self._process.exitcode


def _serve(conn: Any, fn: Callable[[Any], Any], prepare: Callable[[], None] | None) -> None:
    """The child's loop: answer `(True, result)` or `(False, (error, traceback))`."""
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
