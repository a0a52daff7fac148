"""Shared helpers of the execution tests: a TCP listener, sandbox folders, isolations and pairs."""

import os
import socket
import threading
import time

import pytest

from schemas.records import PairRecord
from transforms.code.mutations.records import OPERATORS
from transforms.code.planted import mutant_pair
from transforms.execution.sandbox import Isolation, Limits, probe_isolation


FAST = Limits(timeout_s=3, cpu_s=3)
"""Limits for runs that must be stopped: short enough to keep the suite quick."""

GUARDS_ONLY = Isolation(namespaces=False, drop_user=False)
"""No namespaces and the worker's own user: only the limits and the harness guards hold."""


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> int:
        """Stops listening (after a last accept round); returns how many connections arrived."""
        self._stop.set()
        self._thread.join()
        self.sock.close()
        return self.accepted


def namespaced() -> Isolation:
    """The probed isolation, or a skip that says why namespaces are unavailable (and checks the warning does)."""
    isolation = probe_isolation()
    if not isolation.namespaces:
        assert "isolation" in isolation.warning, isolation
        pytest.skip(f"user namespaces are unavailable on this machine: {isolation.warning}")
    assert isolation.warning == ""
    return isolation


def seed(chosen: str, tests: str, entry_point: str = "", language: str = "Python", name: str = "task") -> PairRecord:
    """A pair seed as `transforms.sources.instructions.seed_pair` makes it: no rejected side yet."""
    from transforms.sources.instructions import InstructionColumns, seed_pair

    row = {"instruction": f"Write {name}.", "solution": chosen, "language": language, "t": tests, "e": entry_point}
    return seed_pair(row, InstructionColumns(tests="t", entry_point="e"), name)


def mutated(pair: PairRecord, seed_value: int = 0, pool: int = 16) -> PairRecord:
    """`pair` with a pool of real AST mutants (`transforms.code.planted.mutant_pair`)."""
    result = mutant_pair(pair, OPERATORS, seed_value, pool=pool)
    assert isinstance(result, PairRecord) and result.mutants, result
    return result


def only_mutant(pair: PairRecord, operator: str, before: str) -> PairRecord:
    """`pair` (with mutants) keeping just its mutant of `operator` that replaced `before`."""
    [mutant] = [m for m in pair.mutants if m.operator == operator and m.before.strip() == before]
    return pair._replace(rejected=mutant.code, mutants=(mutant,))


def _live_with(marker: bytes) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker in cmdline and state not in (b"Z", b"X"):
            found.append(int(entry))
    return found


def survivors(marker: str, within_s: float = 10.0) -> list[int]:
    """Pids of live (not zombie) processes whose command line holds `marker`, once `within_s` seconds
    have passed without them all dying (killed processes may take a moment to go)."""
    deadline = time.monotonic() + within_s
    while (alive := _live_with(marker.encode())) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive
