"""Benchmark LLM labelling against the local server (SmolLM2-135M on llama.cpp).

Measured in one run, on one machine:
1. the server's saturated completion throughput (tokens/s): 8 concurrent plain
   completions of 96 tokens, no cache — the ceiling for any client;
2. pairs judged per second through `LLMClient` + `JudgeTask` (2 votes a pair) at
   concurrency 1, 2, 4 and 8, each with a fresh cache;
3. a warm re-run of (2) from the cache, as a fraction of the cold run;
4. the cache's cost: SQLite lookups and writes per request on 20,000 keys.

Results replace the `label` section of BENCHMARKS.md.

    python benchmarks/bench_label.py [--pairs 8]
"""

import argparse
import asyncio
import hashlib
import os
import platform
import sys
import tempfile
import time


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.report import replace_section  # noqa: E402
from pipelines.demo import load_samples  # noqa: E402
from pipelines.llm_server import start_server  # noqa: E402
from schemas.labels import language_for_path  # noqa: E402
from schemas.llm import EndpointConfig, JudgeRule  # noqa: E402
from schemas.records import PairRecord  # noqa: E402
from transforms.llm.cache import open_cache  # noqa: E402
from transforms.llm.client import LLMClient  # noqa: E402
from transforms.llm.judge import JudgeTask  # noqa: E402


def pairs(n: int) -> list[PairRecord]:
    return [
        PairRecord(
            idx=hashlib.sha256(s.name.encode()).hexdigest()[:16],
            input=f"Improve {s.path}.",
            chosen=s.after,
            rejected=s.before,
            language=language_for_path(s.path) or "Python",
            aspect=s.criterion,
            source="bench",
        )
        for s in load_samples()[:n]
    ]


def judge_run(endpoint: EndpointConfig, items: list[PairRecord], cache_path: str) -> tuple[float, dict]:
    task = JudgeTask(endpoint, JudgeRule(samples=2), max_tokens=64)
    requests = [r for p in items for _, r in task.plan(p).requests]
    client = LLMClient(endpoint, open_cache(cache_path))
    start = time.perf_counter()
    results = client.complete(requests)
    wall = time.perf_counter() - start
    stats = client.take_stats().as_dict()
    client.close()
    stats["answered"] = sum(r.text is not None for r in results)
    return wall, stats


def saturated_tokens_per_s(base_url: str, model: str) -> float:
    import openai

    async def go() -> float:
        sdk = openai.AsyncOpenAI(base_url=base_url, api_key="none", max_retries=0, timeout=600)
        start = time.perf_counter()
        requests = [
            sdk.chat.completions.create(
                model=model,
                max_tokens=96,
                temperature=0.8,
                seed=i,
                messages=[{"role": "user", "content": f"Write a story about robot {i}."}],
            )
            for i in range(8)
        ]
        done = await asyncio.gather(*requests)
        wall = time.perf_counter() - start
        await sdk.close()
        return sum(r.usage.completion_tokens for r in done) / wall

    return asyncio.run(go())


def cache_cost(tmp: str) -> tuple[float, float]:
    cache = open_cache(os.path.join(tmp, "bench.sqlite"))
    values = {
        f"{i:064x}": {"text": "x" * 400, "error": None, "detail": "", "prompt_tokens": 1, "completion_tokens": 1}
        for i in range(20_000)
    }
    keys = list(values)
    start = time.perf_counter()
    for i in range(0, len(keys), 16):
        cache.put_many({k: values[k] for k in keys[i : i + 16]})
    put = (time.perf_counter() - start) / len(keys)
    start = time.perf_counter()
    for i in range(0, len(keys), 64):
        cache.get_many(keys[i : i + 64])
    get = (time.perf_counter() - start) / len(keys)
    cache.close()
    return get * 1e6, put * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--write", default="BENCHMARKS.md")
    args = parser.parse_args()
    items = pairs(args.pairs)
    server = start_server()
    rows = []
    try:
        ceiling = saturated_tokens_per_s(server.base_url, server.model)
        with tempfile.TemporaryDirectory() as tmp:
            for concurrency in (1, 2, 4, 8):
                endpoint = EndpointConfig(
                    name="local",
                    base_url=server.base_url,
                    model=server.model,
                    output_mode="json_object_schema",
                    max_concurrency=concurrency,
                    timeout_s=600,
                )
                cache_path = os.path.join(tmp, f"c{concurrency}.sqlite")
                cold, stats = judge_run(endpoint, items, cache_path)
                warm, warm_stats = judge_run(endpoint, items, cache_path)
                tokens = stats["completion_tokens"] / cold
                rows.append((concurrency, len(items) / cold, tokens, cold, warm, warm_stats["requests_sent"]))
            get_us, put_us = cache_cost(tmp)
    finally:
        server.stop()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        "## label: pairs judged per second (local llama.cpp server)",
        "",
        f"Machine: {machine}, no GPU. Server: SmolLM2-135M-Instruct Q4_1 via llama-cpp-python, measured in the "
        f"same run. {len(items)} pairs from the demo samples, 2 votes each (64 tokens max, JSON-object mode).",
        "",
        f"Server ceiling (8 concurrent plain completions, no cache): **{ceiling:,.1f} completion tokens/s**.",
        "",
        "| concurrency | pairs/s | completion tokens/s | cold s | warm s (cache) | warm / cold | requests sent warm |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {c} | {p:.3f} | {t:.1f} | {cold:.1f} | {warm:.4f} | {warm / cold:.2%} | {sent} |"
            for c, p, t, cold, warm, sent in rows
        ],
        "",
        f"Cache (SQLite, WAL, 20,000 keys): lookup {get_us:.1f} µs per request (batches of 64), write {put_us:.1f} µs "
        "per request (batches of 16).",
        "",
        "llama-cpp-python's server answers one request at a time, so concurrency beyond 1 overlaps only the HTTP "
        "and parsing work; against a batching server (vLLM, OpenAI) the same client keeps `max_concurrency` requests "
        "in flight.",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        replace_section(args.write, "## label:", section)


if __name__ == "__main__":
    main()
