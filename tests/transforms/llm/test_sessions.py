"""`transforms.llm.sessions`: one thread's clients are shared, counted and closed by the last user."""

import threading

from schemas.errors import EndpointError
from tests.transforms.llm.test_client import endpoint
from transforms.llm import sessions


def test_a_thread_shares_one_session_and_one_client_per_endpoint(tmp_path):
    cache = str(tmp_path / "c.sqlite")
    first, second = sessions.acquire(), sessions.acquire()
    try:
        assert first is second and first.users == 2
        config = endpoint("http://127.0.0.1:9/v1")
        assert first.client(config, cache, "live") is second.client(config, cache, "live")
        assert first.client(config, cache, "cache_only") is not first.client(config, cache, "live")
    finally:
        sessions.release(second)
        assert not first.loop.loop.is_closed()  # one user left
        sessions.release(first)
    assert first.loop.loop.is_closed()
    again = sessions.acquire()
    assert again is not first  # a closed session is never handed out again
    sessions.release(again)


def test_another_thread_gets_its_own_session():
    here = sessions.acquire()
    there = []
    thread = threading.Thread(target=lambda: there.append(sessions.acquire()))
    thread.start()
    thread.join()
    try:
        assert there[0] is not here
    finally:
        sessions.release(there[0])
        sessions.release(here)


def test_a_refused_session_is_not_handed_to_the_next_run(tmp_path):
    session = sessions.acquire()
    try:
        client = session.client(endpoint("http://127.0.0.1:9/v1"), str(tmp_path / "c.sqlite"), "live")
        client.refusal = EndpointError("endpoint fake: 401 Unauthorized")
        fresh = sessions.acquire()
        assert fresh is not session and not fresh.refused()
        sessions.release(fresh)
    finally:
        sessions.release(session)
