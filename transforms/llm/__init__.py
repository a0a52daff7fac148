"""The LLM layer: templates, parsers, one client with one cache, and labelling stages.

Modules:
    templates: versioned Jinja2 prompt templates → chat messages.
    parsing: answers (JSON or tags) → validated answer models, never guessed.
    cache: the response cache (SQLite, or any Beam filesystem path).
    client: the async OpenAI-SDK client: rate limits, one retry layer, accounting.
    batch_api: OpenAI Batch API export / submit / status / collect into the cache.
"""
