"""An asyncio event loop in a thread of its own, for the LLM client.

Beam calls a DoFn from one thread, and that thread is busy with the CPU work
of the stages fused with an LLM stage. Were the requests' loop run only
between elements, an answer that has arrived would wait for the next element
before it is read and the next request sent. On a loop thread of its own, the
requests progress whenever the interpreter lets it run (every few
milliseconds at worst), and the calling thread only hands coroutines over
(`submit`) and collects futures.
"""

__all__ = ["LoopThread"]

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any


class LoopThread:
    """An event loop running in a daemon thread until `close`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="codepref-llm-loop", daemon=True)
        self._thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        """Starts a coroutine on the loop; returns its future (thread-safe)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Runs a coroutine on the loop and returns its result (or raises its exception)."""
        return self.submit(coroutine).result()

    def close(self) -> None:
        """Cancels what is still running on the loop, stops it and joins the thread."""
        if self.loop.is_closed():
            return
        self.run(_cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


async def _cancel_the_rest() -> None:
    """Cancels every task but this one: a run that failed leaves answers it no longer wants."""
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
