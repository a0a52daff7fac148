"""Benchmark codepref's LLM client and `codepref label` against a fast server, side by side with its ceiling.

Measured in one run, on one machine, for each latency (default 0 and 200 ms):

1. the ceiling: `benchmarks/fast_llm_server.py` (its own process) driven by a plain
   aiohttp load generator with the same concurrency and the same request bodies;
2. codepref's `LLMClient` sending the same requests (judge prompts of pairs of the
   scale corpus, fresh cache): requests/s as a share of the ceiling and of
   `max_concurrency / latency` (at 200 ms and 64: 320 req/s);
3. at the last latency, `codepref label --commits-file` on commit rows made from the
   scale corpus (cold, fresh cache; then warm, everything cached), each in a fresh
   measured process: wall, requests sent, effective requests/s, warm / cold.

Contenders alternate within each round (`--rounds`, default 2); tables give the
min and median, peak RSS and the load average. Results replace the `peers: LLM
client` section of BENCHMARKS.md (`--report`).

    python benchmarks/bench_peers_llm.py [--requests 10000] [--latencies 0,200] [--commits 1200]
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.peers_common import machine, markdown_table, measure, summary, versions  # noqa: E402
from benchmarks.report import replace_section  # noqa: E402


HEADING = "## peers: LLM client vs a fast server"
HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = "bench-model"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`fast_llm_server.py` in its own process."""

    def __init__(self, latency_ms: float) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fast_llm_server.py"), "--port", str(self.port)]
            + ["--latency-ms", str(latency_ms), "--model", MODEL],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"the fast server did not start: {line!r}")
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def served(self, reset: bool = False) -> dict:
        """The server's `/stats` (completions, span_s); with `reset`, starts a new count."""
        import urllib.request

        root = f"http://127.0.0.1:{self.port}/stats"
        if reset:
            urllib.request.urlopen(urllib.request.Request(root + "/reset", method="POST"), timeout=10).read()
            return {}
        with urllib.request.urlopen(root, timeout=10) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def judge_requests(n: int, corpus: str):
    """`n` judge requests (2 votes a pair) of the scale corpus's pairs."""
    import pyarrow.parquet as pq

    from schemas.llm import EndpointConfig, JudgeRule
    from schemas.records import PairRecord
    from transforms.llm.judge import JudgeTask

    endpoint = EndpointConfig(name="fast", base_url="http://unused/v1", model=MODEL, max_concurrency=64)
    task = JudgeTask(endpoint, JudgeRule(samples=2), max_tokens=256)
    requests = []
    for path in sorted(os.listdir(os.path.join(corpus, "data"))):
        for batch in pq.ParquetFile(os.path.join(corpus, "data", path)).iter_batches(batch_size=512):
            for row in batch.to_pylist():
                pair = PairRecord(
                    idx=row["idx"],
                    input=row["input"],
                    chosen=row["chosen"],
                    rejected=row["rejected"],
                    language="Python",
                    aspect="Runtime Efficiency",
                    source="bench",
                )
                plan = task.plan(pair)
                requests += [r for _, r in getattr(plan, "requests", ())]  # a pair the judge refuses: none
                if len(requests) >= n:
                    return requests[:n]
    raise ValueError(f"the corpus has too few pairs for {n} requests")


def ceiling(base_url: str, bodies_path: str, concurrency: int) -> float:
    """Requests/s of a plain aiohttp load generator sending the bodies of `bodies_path` (JSON lines)."""
    import aiohttp

    with open(bodies_path, encoding="utf-8") as f:
        bodies = [line.encode() for line in f]

    async def go() -> float:
        limit = asyncio.Semaphore(concurrency)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(body: bytes) -> None:
                async with (
                    limit,
                    session.post(
                        f"{base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
                    ) as response,
                ):
                    await response.read()
                    response.raise_for_status()

            start = time.perf_counter()
            await asyncio.gather(*(one(body) for body in bodies))
            return len(bodies) / (time.perf_counter() - start)

    return asyncio.run(go())


def client_rate(base_url: str, requests_path: str, concurrency: int, cache: str) -> dict:
    """Requests/s of codepref's `LLMClient` on the pickled requests (a fresh cache)."""
    import pickle

    from schemas.llm import EndpointConfig
    from transforms.llm.cache import open_cache
    from transforms.llm.client import LLMClient

    with open(requests_path, "rb") as f:
        requests = pickle.load(f)
    endpoint = EndpointConfig(name="fast", base_url=base_url, model=MODEL, max_concurrency=concurrency, timeout_s=120)
    client = LLMClient(endpoint, open_cache(cache))
    start = time.perf_counter()
    results = client.complete(requests)
    wall = time.perf_counter() - start
    client.close()
    return {"rate": len(requests) / wall, "answered": sum(r.text is not None for r in results)}


def request_bodies(requests, path: str) -> None:
    """The requests as OpenAI chat bodies, one JSON line each (what the load generator sends)."""
    from transforms.llm.client import chat_body

    with open(path, "w", encoding="utf-8") as f:
        for request in requests:
            f.write(json.dumps(chat_body(request)) + "\n")


def commit_rows(corpus: str, n: int, path: str) -> None:
    """`n` commit rows (the mine schema, JSONL) from the corpus's pairs: old = rejected, new = chosen."""
    import pyarrow.parquet as pq

    messages = {
        "Runtime Efficiency": "Speed up {f}: avoid the repeated scan in the hot loop",
        "Memory Efficiency": "Reduce memory use in {f} by streaming instead of copying",
        "Security Hardness": "Validate input in {f} to prevent injection",
        "Functional Correctness": "Fix wrong result in {f} for empty input",
        "Readability and Maintainability": "Refactor {f} for readability: clearer names",
    }
    extensions = {"Python": "py", "Go": "go", "Java": "java", "JavaScript": "js", "C": "c", "C++": "cpp"}
    extensions |= {"C#": "cs", "Ruby": "rb"}
    from schemas.labels import ASPECTS, LANGUAGES

    written = 0
    with open(path, "w", encoding="utf-8") as out:
        for name in sorted(os.listdir(os.path.join(corpus, "data"))):
            for batch in pq.ParquetFile(os.path.join(corpus, "data", name)).iter_batches(batch_size=512):
                for row in batch.to_pylist():
                    aspect, language = ASPECTS[row["aspect"]], LANGUAGES[row["language"]]
                    if aspect not in messages or language not in extensions:
                        continue
                    file_path = f"src/module_{written:06d}.{extensions[language]}"
                    message = messages[aspect].format(f=file_path)
                    commit = {
                        "commit": f"{written:040x}",
                        "subject": message,
                        "message": message,
                        "repos": "bench/service",
                        "file_path": file_path,
                        "license": "mit",
                        "unix_time": 1_700_000_000 + written,
                        "old_contents": row["rejected"],
                        "new_contents": row["chosen"],
                    }
                    out.write(json.dumps(commit) + "\n")
                    written += 1
                    if written >= n:
                        return
    raise ValueError(f"the corpus has too few usable pairs for {n} commits")


def fast_endpoint(base_url: str, concurrency: int, **settings: object) -> dict:
    """The `llm.endpoints` entry of the fast server (`settings`: more endpoint fields)."""
    endpoint = {"name": "fast", "base_url": base_url, "model": MODEL, "max_concurrency": concurrency}
    return endpoint | {"output_mode": "json_schema"} | settings


def llm_config(path: str, base_url: str, concurrency: int, cache: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"endpoints": [fast_endpoint(base_url, concurrency)], "cache": cache}, f)


def label_run(commits: str, config: str, out: str, log: str, server: "Server"):
    """`codepref label` in a fresh measured process; returns the result, the requests it sent, the pairs
    written and the server's rate while it was asked (completions / span from first request to last answer)."""
    server.served(reset=True)
    result = measure(
        [sys.executable, "-m", "pipelines.cli", "label", "--commits-file", commits]
        + ["--llm-config", config, "--out", out, "--no-content-dedup"],
        log=log,
    )
    with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    sent = sum(stage["requests_sent"] for stage in manifest.get("llm", {}).values())
    pairs = sum(split["rows"] for split in manifest["outputs"].values())
    served = server.served()
    busy_rate = served["completions"] / served["span_s"] if served["span_s"] else 0.0
    return result, sent, pairs, busy_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000, help="requests per client and ceiling run")
    parser.add_argument("--latencies", default="0,200", help="server latencies in ms, comma-separated")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--commits", type=int, default=4000, help="commit rows of the `codepref label` run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--report", default="BENCHMARKS.md")
    args = parser.parse_args()
    latencies = [float(x) for x in args.latencies.split(",")]
    with tempfile.TemporaryDirectory(prefix="codepref-bench-llm-") as tmp:
        from benchmarks.scale_corpus import generate

        generate(os.path.join(tmp, "corpus"), rows=max(args.requests // 2, args.commits) + 2000, seed=3)
        import pickle

        requests = judge_requests(args.requests, os.path.join(tmp, "corpus"))
        requests_path, bodies_path = os.path.join(tmp, "requests.pickle"), os.path.join(tmp, "bodies.jsonl")
        with open(requests_path, "wb") as f:
            pickle.dump(requests, f)
        request_bodies(requests, bodies_path)
        client_rows = []
        label_rows = []
        for latency in latencies:
            server = Server(latency)
            try:
                rates = {"ceiling": [], "codepref LLMClient": []}
                for round_ in range(args.rounds):
                    order = list(rates) if round_ % 2 == 0 else list(reversed(rates))
                    for name in order:
                        if name == "ceiling":
                            run = measure(
                                ceiling,
                                {
                                    "base_url": server.base_url,
                                    "bodies_path": bodies_path,
                                    "concurrency": args.concurrency,
                                },
                            )
                            rates[name].append((run.value, run))
                        else:
                            cache = os.path.join(tmp, f"client-{latency}-{round_}.sqlite")
                            run = measure(
                                client_rate,
                                {
                                    "base_url": server.base_url,
                                    "requests_path": requests_path,
                                    "concurrency": args.concurrency,
                                    "cache": cache,
                                },
                            )
                            rates[name].append((run.value["rate"], run))
                ideal = args.concurrency / (latency / 1000) if latency else None
                best_ceiling = max(rate for rate, _ in rates["ceiling"])
                for name, runs in rates.items():
                    values = [rate for rate, _ in runs]
                    best = max(values)
                    client_rows.append(
                        [
                            f"{latency:g}",
                            name,
                            f"{best:,.0f}",
                            f"{statistics.median(values):,.0f}",
                            f"{best / best_ceiling:.0%}",
                            f"{best / ideal:.0%}" if ideal else "-",
                            f"{max(r.peak_rss_mb for _, r in runs):,.0f}",
                            " / ".join(f"{r.load_before[0]:.1f}" for _, r in runs),
                        ]
                    )
                if latency == latencies[-1]:
                    commits = os.path.join(tmp, "commits.jsonl")
                    commit_rows(os.path.join(tmp, "corpus"), args.commits, commits)
                    for round_ in range(args.rounds):
                        cache = os.path.join(tmp, f"label-{round_}.sqlite")
                        config = os.path.join(tmp, f"llm-{round_}.json")
                        llm_config(config, server.base_url, args.concurrency, cache)
                        log = os.path.join(tmp, f"label-{round_}.log")
                        cold_out, warm_out = os.path.join(tmp, f"cold{round_}"), os.path.join(tmp, f"warm{round_}")
                        cold, sent, pairs, busy = label_run(commits, config, cold_out, log, server)
                        warm, warm_sent, _, _ = label_run(commits, config, warm_out, log, server)
                        label_rows.append((cold, sent, pairs, warm, warm_sent, busy))
            finally:
                server.stop()
    colds = [row[0].wall_s for row in label_rows]
    busy = [row[5] for row in label_rows]
    ideal_last = args.concurrency / (latencies[-1] / 1000) if latencies[-1] else float("nan")
    ceiling_last = best_ceiling
    warms = [row[3].wall_s for row in label_rows]
    sent = label_rows[0][1] if label_rows else 0
    last = latencies[-1]
    lines = [
        HEADING,
        "",
        f"Machine: {machine()}. Versions: {versions('aiohttp', 'openai', 'apache-beam')}. One run: for each "
        f"latency the fast server (`benchmarks/fast_llm_server.py`, aiohttp, its own process) is driven by a plain "
        f"aiohttp load generator (the ceiling) and by codepref's `LLMClient`, alternating, {args.rounds} rounds, "
        f"each in a fresh process; {args.requests:,} judge requests of the scale corpus, concurrency "
        f"{args.concurrency}.",
        "",
        markdown_table(
            [
                "latency ms",
                "client",
                "req/s best",
                "req/s median",
                "of ceiling",
                "of concurrency / latency",
                "peak RSS MB",
                "load avg (1 min) before each",
            ],
            client_rows,
        ),
        "",
        f"`codepref label --commits-file` at {last:g} ms, {args.commits:,} commit rows from the scale corpus "
        f"(`--no-content-dedup`; {sent:,} requests sent cold, {label_rows[0][2] if label_rows else 0:,} pairs "
        f"written), cold (fresh cache) then warm (everything cached), {args.rounds} rounds:",
        "",
        markdown_table(
            ["run", "wall s min", "wall s median", "requests sent", "req/s (cold: sent / wall)", "peak RSS MB"],
            [
                [
                    "cold",
                    f"{min(colds):.1f}",
                    f"{statistics.median(colds):.1f}",
                    f"{sent:,}",
                    f"{sent / min(colds):,.0f}",
                    f"{max(r[0].peak_rss_mb for r in label_rows):,.0f}",
                ],
                [
                    "warm",
                    f"{min(warms):.1f}",
                    f"{statistics.median(warms):.1f}",
                    f"{label_rows[0][4]:,}",
                    "-",
                    f"{max(r[3].peak_rss_mb for r in label_rows):,.0f}",
                ],
            ],
        ),
        "",
        f"Cold run, requests/s over its whole wall time: {sent / min(colds):,.0f} best, "
        f"{sent / statistics.median(colds):,.0f} median: **{sent / min(colds) / ideal_last:.0%}** of "
        f"`max_concurrency / latency` ({ideal_last:,.0f} req/s) and {sent / min(colds) / ceiling_last:.0%} of the "
        f"ceiling measured above. While the LLM stages were asking (the server's count over the span from its "
        f"first request to its last answer): {max(busy):,.0f} req/s best, {statistics.median(busy):,.0f} median, "
        f"**{max(busy) / ideal_last:.0%}** of `max_concurrency / latency`. The rest of the cold run's wall time "
        f"is Beam's start-up, the stages before the first request and after the last answer.",
        "",
        f"Warm / cold: **{min(warms) / min(colds):.0%}** "
        f"(median {statistics.median(warms) / statistics.median(colds):.0%}).",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    print(json.dumps({"summary": summary(colds)}), file=sys.stderr)
    if args.report:
        replace_section(args.report, HEADING, section)


if __name__ == "__main__":
    main()
