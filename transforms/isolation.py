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

`ChildPool` keeps several such children busy at once (one per CPU), so a stage
that parses is not held to one core while its worker waits on the pipe.
"""

__all__ = ["ChildPool", "ChildProcess", "IsolationError"]

import os
import pathlib
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Hashable, Iterator
from multiprocessing.connection import Connection, Pipe, wait
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
        self.send(element)
        if not self._conn.poll(self._timeout_s):
            self.close()
            raise IsolationError(f"no result within {self._timeout_s:g} s; the child process was stopped")
        return self.receive()

    @property
    def connection(self) -> Connection | None:
        """The pipe to the child, to wait on; None while no child runs."""
        return self._conn

    def send(self, element: Any) -> None:
        """Hands `element` to the child (starting one if none runs); `receive` gets its result."""
        conn = self._conn or self._start()
        try:
            conn.send(element)
        except OSError:
            raise self._died("died before this element") from None

    def receive(self) -> Any:
        """The result of the element last sent; waits for it without a timeout (see `ChildPool`)."""
        try:
            ok, value = self._conn.recv()
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


class ChildPool:
    """Runs `fn` on many elements at once, one per child process, with `ChildProcess`'s isolation.

    `submit` hands an element to a free child and returns at once with the
    outcomes that have arrived meanwhile; it waits only while every child is
    busy. `drain` waits for the rest. An outcome is `(key, result, error)`:
    `error` is None, or what `ChildProcess` would have raised for that element
    (the exception `fn` raised, or its child's crash or timeout, after which
    that child is stopped and replaced when next needed); the other elements go
    on. One child serves the first `grow_after` elements alone (starting a
    child costs about a third of a CPU second, more than a small stage saves);
    after them the pool grows to `size` as the children are all busy.

    Args:
        fn, timeout_s, prepare: as for `ChildProcess`; `timeout_s` counts from
            the element's hand-over to its child.
        size: the most children at once; default one per CPU.
        grow_after: the elements handed over before a second child may start.
    """

    def __init__(
        self,
        fn: Callable[[Any], Any],
        timeout_s: float,
        prepare: Callable[[], None] | None = None,
        size: int | None = None,
        grow_after: int = 64,
    ) -> None:
        self._timeout_s, self._grow_after, self._submitted = timeout_s, grow_after, 0
        self._size = max(1, size or os.cpu_count() or 1)
        self._idle = [ChildProcess(fn, timeout_s, prepare) for _ in range(self._size)]
        self._busy: dict[Connection, tuple[ChildProcess, Hashable, float]] = {}

    def submit(self, key: Hashable, element: Any) -> list[tuple[Hashable, Any, Exception | None]]:
        """Starts `fn(element)`; returns the outcomes that are in, `key`'s own if it failed to start."""
        done = self._collect(block=False)
        while (child := self._free_child()) is None:
            done += self._collect(block=True)
        self._idle.remove(child)
        self._submitted += 1
        try:
            child.send(element)
        except Exception as error:  # it could not start, died, or the element does not pickle
            child.close()
            self._idle.append(child)
            return [*done, (key, None, error)]
        self._busy[child.connection] = (child, key, time.monotonic() + self._timeout_s)
        return done

    def _free_child(self) -> ChildProcess | None:
        """An idle running child; else one to start, if the pool may grow; else None."""
        running = [child for child in self._idle if child.connection is not None]
        if running:
            return running[0]
        limit = self._size if self._submitted >= self._grow_after else 1
        return self._idle[0] if self._idle and len(self._busy) < limit else None

    def drain(self) -> Iterator[tuple[Hashable, Any, Exception | None]]:
        """Waits for every element handed over; yields their outcomes as they arrive."""
        while self._busy:
            yield from self._collect(block=True)

    def close(self) -> None:
        """Stops every child; outcomes still out are lost."""
        for child, _, _ in self._busy.values():
            self._idle.append(child)
        self._busy.clear()
        for child in self._idle:
            child.close()

    def _collect(self, block: bool) -> list[tuple[Hashable, Any, Exception | None]]:
        if not self._busy:
            return []
        timeout = max(0.0, min(deadline for _, _, deadline in self._busy.values()) - time.monotonic()) if block else 0
        done = []
        for conn in wait(list(self._busy), timeout):
            child, key, _ = self._busy.pop(conn)
            try:
                done.append((key, child.receive(), None))
            except Exception as error:
                done.append((key, None, error))
            self._idle.append(child)
        now = time.monotonic()
        for conn, (child, key, deadline) in list(self._busy.items()):
            if deadline <= now:
                del self._busy[conn]
                child.close()
                self._idle.append(child)
                error = IsolationError(f"no result within {self._timeout_s:g} s; the child process was stopped")
                done.append((key, None, error))
        return done


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
