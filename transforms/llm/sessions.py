"""The LLM clients of one worker thread, shared by every LLM stage that runs on it.

Beam fuses consecutive stages (rate → instruct → judge) into one chain of DoFns
on one thread. Were each to hold its own event loop, an endpoint's requests of
one stage would stall while another stage waits on its answers, and each stage
would get `max_concurrency` of its own. Here a thread has one loop thread
(`transforms.llm.loop`), one
cache connection per location and one `LLMClient` per (endpoint, cache, mode):
whenever any stage runs the loop, every stage's requests progress, and an
endpoint's `max_concurrency` holds for the thread as a whole.

`acquire` hands out a thread's `Session` and counts its users; `release` closes
it (clients, loop, caches) when the last one lets go. A session is used only on
the thread that acquired it: an SQLite connection belongs to one thread.
"""

__all__ = ["Session", "acquire", "release"]

import threading

from schemas.llm import EndpointConfig
from transforms.llm.client import LLMClient
from transforms.llm.loop import LoopThread


class Session:
    """One thread's loop thread, caches and clients; see the module docstring."""

    def __init__(self) -> None:
        self.loop = LoopThread()
        self.users = 0
        self._caches: dict[str, object] = {}
        self._clients: dict[tuple[EndpointConfig, str, str], LLMClient] = {}

    def client(self, endpoint: EndpointConfig, cache: str, mode: str) -> LLMClient:
        """The thread's client of an endpoint with a cache location and a mode, made on first use."""
        key = (endpoint, cache, mode)
        if key not in self._clients:
            from transforms.llm.cache import open_cache

            if cache not in self._caches:
                self._caches[cache] = open_cache(cache)
            self._clients[key] = LLMClient(endpoint, self._caches[cache], mode, self.loop)
        return self._clients[key]

    def refused(self) -> bool:
        """True once an endpoint has refused (401, 403, 404) through one of the clients."""
        return any(client.refusal is not None for client in self._clients.values())

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self.loop.close()  # cancels what a failed run left running
        for cache in self._caches.values():
            cache.close()
        self._clients, self._caches = {}, {}


_SESSIONS: dict[int, Session] = {}
_LOCK = threading.Lock()


def acquire() -> Session:
    """The calling thread's session, counted as one more user."""
    with _LOCK:
        session = _SESSIONS.get(threading.get_ident())
        if session is None or session.refused():  # a refusal ends its run; the next run starts afresh
            session = _SESSIONS[threading.get_ident()] = Session()
        session.users += 1
        return session


def release(session: Session) -> None:
    """One user fewer; the last closes the session."""
    with _LOCK:
        session.users -= 1
        if session.users > 0:
            return
        for thread, held in list(_SESSIONS.items()):
            if held is session:
                del _SESSIONS[thread]
    session.close()
