"""The LLM layer: templates, parsers, one client with one cache, and labelling stages.

Modules:
    templates: versioned Jinja2 prompt templates → chat messages.
    parsing: answers (JSON or tags) → validated answer models, never guessed.
    cache: the response cache (SQLite, or any Beam filesystem path).
    client: the async client of any OpenAI-compatible endpoint: rate limits, one retry layer, accounting.
    transport: its HTTP layer (aiohttp).
    sessions: one thread's event loop, caches and clients, shared by its LLM stages.
    stage: the Beam adapter of every LLM stage (`RunLLMTask`).
    batch_api: OpenAI Batch API export / submit / status / collect into the cache.
"""
