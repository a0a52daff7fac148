import os
import sys
import threading
import time

import pytest

from transforms.isolation import ChildPool, ChildProcess, IsolationError


HELD = threading.Lock()
"""Held by a thread of the parent in one test; a forked child would inherit it held."""


def work(element):
    """Squares numbers; other elements crash, hang or raise in the child."""
    if element == "abort":
        os.abort()
    if element == "hang":
        time.sleep(60)
    if element == "raise":
        raise ValueError("bad element")
    if element == "unpicklable":
        return threading.Lock()
    if element == "lock":
        return HELD.acquire(timeout=2)
    if element == "pid":
        return os.getpid()
    if element == "modules":
        return "apache_beam" in sys.modules, getattr(sys.modules["__main__"], "__file__", None)
    return element * element


def slow_start():
    time.sleep(3)


@pytest.fixture
def child():
    process = ChildProcess(work, timeout_s=60)  # generous: a loaded machine is never a timeout
    yield process
    process.close()


def test_results_come_from_a_separate_process(child):
    assert [child(n) for n in range(5)] == [0, 1, 4, 9, 16]
    assert child("pid") != os.getpid()
    assert child("pid") == child("pid"), "one child serves many elements"


def test_a_crash_costs_only_its_element(child):
    first = child("pid")
    with pytest.raises(IsolationError, match=r"died on this element \(killed by SIGABRT\)"):
        child("abort")
    assert child(7) == 49
    assert child("pid") != first, "a new child replaced the dead one"


def test_the_child_imports_only_what_the_function_needs(child):
    assert child("modules") == (False, None), "neither Beam nor a copy of the worker's __main__"


def test_a_hang_is_stopped_at_the_timeout():
    process = ChildProcess(work, timeout_s=0.5)
    try:
        process(2)
        started = time.monotonic()
        with pytest.raises(IsolationError, match="no result within 0.5 s"):
            process("hang")
        assert time.monotonic() - started < 45, "stopped at the timeout, not after the 60 s sleep"
        assert process(3) == 9
    finally:
        process.close()


def test_an_exception_keeps_its_type_and_the_child_traceback(child):
    with pytest.raises(ValueError, match="bad element") as raised:
        child("raise")
    assert any("in the child process" in note and "work" in note for note in raised.value.__notes__)
    with pytest.raises(RuntimeError, match="pickle"):
        child("unpicklable")
    assert child(4) == 16


def test_the_child_inherits_no_lock_held_in_the_parent(child):
    acquired, release = threading.Event(), threading.Event()

    def hold():
        with HELD:
            acquired.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        acquired.wait(5)
        assert child("lock") is True, "a forked child would wait on the parent's held lock"
    finally:
        release.set()
        holder.join()


def test_starting_and_prepare_do_not_count_against_the_timeout():
    process = ChildProcess(work, timeout_s=2, prepare=slow_start)
    try:
        assert process(5) == 25
    finally:
        process.close()


def test_a_child_that_cannot_start_is_reported():
    process = ChildProcess(work, timeout_s=1, prepare=os.abort)
    with pytest.raises(IsolationError, match=r"could not start \(killed by SIGABRT\)"):
        process(1)
    process.close()


@pytest.fixture
def pool():
    children = ChildPool(work, timeout_s=60, size=2, grow_after=0)
    yield children
    children.close()


def run_all(pool, elements):
    outcomes = []
    for key, element in enumerate(elements):
        outcomes += pool.submit(key, element)
    outcomes += pool.drain()
    return {key: (result, error) for key, result, error in outcomes}


def test_a_pool_answers_every_element_under_its_own_key(pool):
    outcomes = run_all(pool, list(range(20)))
    assert outcomes == {n: (n * n, None) for n in range(20)}


def test_a_pool_keeps_two_children_busy_once_the_stream_is_long():
    pool = ChildPool(slow_square, timeout_s=60, size=2, grow_after=8)
    try:
        outcomes = run_all(pool, [1, 2, 3, "pid"])
        assert {key: result for key, (result, _) in outcomes.items()} == {0: 1, 1: 4, 2: 9, 3: outcomes[3][0]}
        assert outcomes[3][0] != os.getpid()
        pids = {pid for pid, _ in run_all(pool, ["pid"] * 4).values()}
        assert pids == {outcomes[3][0]}, "the first `grow_after` elements keep to one child"
        pids = {pid for pid, _ in run_all(pool, ["pid"] * 4).values()}
        assert len(pids) == 2, "after them, while one child sleeps the next element goes to the other"
    finally:
        pool.close()


def slow_square(element):
    """Sleeps a little, so that a second element arrives while the first is out."""
    time.sleep(0.2)
    return os.getpid() if element == "pid" else element * element


def test_a_crash_or_an_exception_in_a_pool_costs_only_its_element(pool):
    outcomes = run_all(pool, [2, "abort", 3, "raise", 4, "unpicklable", 5])
    assert [outcomes[key][0] for key in (0, 2, 4, 6)] == [4, 9, 16, 25]
    assert isinstance(outcomes[1][1], IsolationError) and "killed by SIGABRT" in str(outcomes[1][1])
    assert isinstance(outcomes[3][1], ValueError) and "bad element" in str(outcomes[3][1])
    assert isinstance(outcomes[5][1], RuntimeError) and "pickle" in str(outcomes[5][1])
    assert run_all(pool, [6]) == {0: (36, None)}


def test_a_hang_in_a_pool_is_stopped_at_the_timeout():
    pool = ChildPool(work, timeout_s=0.5, size=2, grow_after=0)
    try:
        started = time.monotonic()
        outcomes = run_all(pool, ["hang", 2, 3])
        assert time.monotonic() - started < 45, "stopped at the timeout, not after the 60 s sleep"
        assert isinstance(outcomes[0][1], IsolationError) and "no result within 0.5 s" in str(outcomes[0][1])
        assert outcomes[1] == (4, None) and outcomes[2] == (9, None)
    finally:
        pool.close()


def test_an_element_that_does_not_pickle_fails_alone(pool):
    outcomes = run_all(pool, [2, threading.Lock(), 3])
    assert outcomes[0] == (4, None) and outcomes[2] == (9, None)
    assert outcomes[1][0] is None and "pickle" in str(outcomes[1][1])
