"""Combine and de-duplicate results coming from several search backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True)
class Hit:
    doc_id: str
    score: float
    source: str
    snippet: str = ""


@dataclass
class MergedResults:
    hits: list[Hit] = field(default_factory=list)
    duplicates: int = 0


def normalise_id(doc_id: str) -> str:
    return doc_id.strip().lower()


def merge_results(
    result_sets: Iterable[list[Hit]],
    blocked_ids: Iterable[str],
    limit: int = 50,
) -> MergedResults:
    """Return the best-scoring unique hits across all backends.

    Hits whose id is blocked (taken down, legal hold) are dropped, and a hit
    returned by several backends is kept once, with its highest score.
    """
    merged = MergedResults()
    seen_ids: list[str] = []

    all_hits = [hit for results in result_sets for hit in results]
    all_hits.sort(key=lambda h: h.score, reverse=True)

    for hit in all_hits:
        key = normalise_id(hit.doc_id)
        if key in [normalise_id(b) for b in blocked_ids]:
            continue
        if key in seen_ids:
            merged.duplicates += 1
            continue
        seen_ids.append(key)
        merged.hits.append(hit)
        if len(merged.hits) >= limit:
            break
    return merged
