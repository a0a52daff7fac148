"""Runs a solution against its tests inside the sandbox; Python's standard library only.

Usage (in the run's folder): `python3 -I -B python_harness.py ENTRY_POINT TRACE`, with a
nonce on standard input. It executes `solution.py`, then `tests.py`, in one namespace
(`__name__` is not `"__main__"`, so a solution's main guard does not run); when the
tests define `check(candidate)` and ENTRY_POINT names a function, it calls
`check(ENTRY_POINT)`. With TRACE `1` it records the solution's executed lines.

It writes `.result-NONCE.json`: `{"outcome": "passed" | "assertion" | "error",
"detail": ..., "lines": [...]}`; the file is opened before any untrusted code runs,
under a name that code cannot know, so a program that exits early leaves no verdict.

Guards (an audit hook and patched `os` functions, on top of the sandbox): no
sockets, no subprocesses or forks, no writes, deletions or renames outside the
run's folder, no directory descriptors to reach outside it, no FIFOs or device
nodes. An exit with status 0 (`sys.exit()`) from the solution is an error (the
tests did not run to their end); from the tests it is their choice: passed.
"""

import json
import os
import sys
import traceback


def _guard(root: str) -> None:
    blocked = {
        "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
        "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
        "os.kill", "os.killpg", "pty.spawn", "ctypes.dlopen", "ctypes.cdata",
    }  # fmt: skip
    changing = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
                "os.symlink", "os.truncate", "os.utime", "shutil.rmtree", "shutil.move"}  # fmt: skip

    def inside(path) -> bool:
        if isinstance(path, int):
            return True  # an open descriptor was checked when it was opened
        try:
            full = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return full == root or full.startswith(root + os.sep)

    def hook(event: str, args: tuple) -> None:
        if event in blocked:
            raise PermissionError(f"the sandbox forbids {event}")
        if event == "open" and len(args) >= 2:
            path, mode = args[0], args[1]
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            writes = isinstance(mode, str) and any(c in mode for c in "wax+")
            writes = writes or bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
            if writes and path is not None and not inside(path):
                raise PermissionError(f"the sandbox forbids writing {path}")
        elif event in changing and args and not all(inside(a) for a in args[:2] if isinstance(a, str | bytes)):
            raise PermissionError(f"the sandbox forbids {event} outside its folder")

    for name in ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp", "mkfifo", "mknod"):
        if hasattr(os, name):
            setattr(os, name, _forbidden(f"os.{name}"))
    for name in ("open", "rename", "replace", "link", "symlink", "mkdir", "unlink", "remove", "rmdir", "chmod"):
        setattr(os, name, _without_dir_fd(getattr(os, name)))
    import _posixsubprocess  # subprocess and multiprocessing start children through it

    _posixsubprocess.fork_exec = _forbidden("_posixsubprocess.fork_exec")
    sys.addaudithook(hook)


def _forbidden(name: str):
    def call(*_args, **_kwargs):
        raise PermissionError(f"the sandbox forbids {name}")

    return call


def _without_dir_fd(function):
    """`function` refusing a directory descriptor, which the audit hook cannot see (paths are checked alone)."""

    def call(*args, **kwargs):
        if any(kwargs.get(k) is not None for k in ("dir_fd", "src_dir_fd", "dst_dir_fd")):
            raise PermissionError(f"the sandbox forbids {function.__name__} with a directory descriptor")
        return function(*args, **kwargs)

    return call


def _raised_in(exc: BaseException, filename: str) -> bool:
    """Whether the innermost frame of `exc`'s traceback is code of `filename`."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename == filename


def _tracer(lines: set, filename: str):
    def local(frame, event, _arg):
        if event == "line" and frame.f_lineno > 0:
            lines.add(frame.f_lineno)
        return local

    def trace(frame, event, _arg):
        if frame.f_code.co_filename == filename:
            if event in ("call", "line") and frame.f_lineno > 0:
                lines.add(frame.f_lineno)
            return local
        return None

    return trace


def main() -> int:
    """Runs the solution and its tests; exits 0 when they pass."""
    entry, trace = sys.argv[1], sys.argv[2] == "1"
    nonce = sys.stdin.readline().strip()
    root = os.path.realpath(os.getcwd())
    result = open(os.path.join(root, f".result-{nonce}.json"), "w")  # noqa: SIM115 (kept open to the end)
    sys.stdin = open(os.devnull)  # noqa: SIM115
    with open("solution.py", encoding="utf-8") as f:
        solution = f.read()
    with open("tests.py", encoding="utf-8") as f:
        tests = f.read()
    sys.setrecursionlimit(3000)
    _guard(root)
    lines: set[int] = set()
    solution_file, tests_file = os.path.join(root, "solution.py"), os.path.join(root, "tests.py")
    outcome, detail = "passed", ""
    namespace = {"__name__": "__codepref_solution__", "__builtins__": __builtins__}
    try:
        if trace:
            sys.settrace(_tracer(lines, solution_file))
        exec(compile(solution, solution_file, "exec"), namespace)
        exec(compile(tests, tests_file, "exec"), namespace)
        check = namespace.get("check")
        if callable(check) and entry:
            if entry not in namespace:
                raise NameError(f"the entry point {entry!r} is not defined by the solution")
            check(namespace[entry])
        elif callable(check) and not entry:
            raise RuntimeError("the tests define check(candidate) but no entry point names the function")
    except AssertionError:
        outcome, detail = "assertion", traceback.format_exc(limit=-3)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            outcome, detail = "assertion", f"the tests exited with {exc.code!r}"
        elif not _raised_in(exc, tests_file):
            outcome, detail = "error", "the solution exited with 0 before the tests finished"
    except BaseException:  # noqa: BLE001 (any failure of untrusted code is a verdict)
        outcome, detail = "error", traceback.format_exc(limit=-3)
    finally:
        sys.settrace(None)
    result.write(json.dumps({"outcome": outcome, "detail": detail[-2000:], "lines": sorted(lines)}))
    result.close()
    return 0 if outcome == "passed" else 1


if __name__ == "__main__":
    sys.exit(main())
