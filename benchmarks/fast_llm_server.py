"""A minimal, fast OpenAI-compatible chat server for benchmarks: valid answers, a fixed latency.

    python benchmarks/fast_llm_server.py --port 8765 --latency-ms 200

`POST /v1/chat/completions` answers, after `--latency-ms`, with a JSON object
valid for the schema the request asks for (`response_format` `json_schema` or
`json_object` with `schema`): each property gets a value of its type (the first
of an `enum`, the `minimum` of a number, `rating` 5, a `verdict` naming the side
that holds the new code, as the labelling prompts expect), and a `usage` block.
A request without a schema gets a short text. `GET /v1/models` lists the model.
`GET /stats` returns the number of completions served since the start or the last
`POST /stats/reset`, and the wall span from the first request's arrival to the
last answer (`span_s`): completions / span is the rate while a client was busy.

It runs on aiohttp's event loop in its own process, so its ceiling (measured by
`benchmarks/bench_peers_llm.py` with a plain async load generator) is far above
what a client at `max_concurrency / latency` can ask of it.
"""

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from aiohttp import web


_SENTENCE = (
    "Rewrite the function so that it checks its input, handles the empty case and returns the total of "
    "the values it is given, keeping its public signature and behaviour otherwise unchanged."
)
"""Every string answer: an English sentence long enough for the prompt filters."""


def _value(name: str, spec: dict[str, Any], messages: list[dict[str, Any]]) -> Any:
    if name == "verdict":
        user = str(messages[-1].get("content", "")) if messages else ""
        return "A" if user.find("NEW-CODE") < user.rfind("OLD-CODE") else "B"
    if "enum" in spec:
        return spec["enum"][0]
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "integer" or kind == "number":
        return 5 if name == "rating" else spec.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "array":
        item = spec.get("items", {"type": "string"})
        return [_value(name, item, messages) for _ in range(spec.get("minItems", 1))]
    if kind == "object":
        return instance(spec, messages)
    return _SENTENCE


def instance(schema: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON object valid for `schema` (its properties and types; enums take their first value)."""
    return {name: _value(name, spec, messages) for name, spec in schema.get("properties", {}).items()}


def answer_text(body: dict[str, Any]) -> str:
    """The assistant's content for a request body."""
    response_format = body.get("response_format") or {}
    schema = response_format.get("schema") or (response_format.get("json_schema") or {}).get("schema")
    if not schema:
        return _SENTENCE
    return json.dumps(instance(schema, body.get("messages", [])))


def make_app(model: str, latency_s: float) -> web.Application:
    """The aiohttp application."""
    served: dict[str, Any] = {"completions": 0, "first": None, "last": None}

    async def completions(request: web.Request) -> web.Response:
        if served["first"] is None:
            served["first"] = time.monotonic()
        body = await request.json()
        if latency_s:
            await asyncio.sleep(latency_s)
        text = answer_text(body)
        served["completions"] += 1
        served["last"] = time.monotonic()
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4
        completion_tokens = len(text) // 4
        return web.json_response(
            {
                "id": f"bench-{served['completions']}",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", model),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": model, "object": "model", "owned_by": "bench"}]})

    async def stats(_: web.Request) -> web.Response:
        span = served["last"] - served["first"] if served["first"] is not None and served["last"] else 0.0
        return web.json_response({"completions": served["completions"], "span_s": span})

    async def reset(_: web.Request) -> web.Response:
        served.update(completions=0, first=None, last=None)
        return web.json_response({"reset": True})

    app = web.Application(client_max_size=64 << 20)
    app.add_routes(
        [
            web.post("/v1/chat/completions", completions),
            web.get("/v1/models", models),
            web.get("/stats", stats),
            web.post("/stats/reset", reset),
        ]
    )
    return app


def main(argv: list[str] | None = None) -> None:
    """Serves until killed; prints `ready http://127.0.0.1:PORT/v1` once listening."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--model", default="bench-model")
    args = parser.parse_args(argv)

    async def serve() -> None:
        runner = web.AppRunner(make_app(args.model, args.latency_ms / 1000), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port, backlog=1024).start()
        print(f"ready http://127.0.0.1:{args.port}/v1", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
