"""Connected components of the duplicate graph, computed in Beam.

Nodes are any ordered values (ints, strings); a component's representative is its smallest node. Input: a
PCollection of edges `(u, v)`. Output: `(node, representative)` for every node
of an edge that is not its component's representative.

Method: alternating Large-Star and Small-Star rounds (Kiveris et al., 2014,
"Connected Components in MapReduce and Beyond"), each one GroupByKey, so no
worker holds the graph. They keep the graph's connectivity and pull every node
towards its component's minimum; after a few rounds the components of ordinary
duplicate graphs are stars around their minimum. A fixed number of rounds is
unrolled (a Beam graph is static), then one finishing step makes the result exact
for any graph: an edge `(leaf, p)` is settled when the leaf has no other edge and
`p` no smaller neighbour; every other edge is "residual" and is collected into one
union-find (as a side input; empty when the rounds converged, small otherwise).
A settled leaf's representative is its parent's root in that union-find. Tests
compare the result with an in-memory union-find (`in_memory_components`) on
random graphs and on long paths, where the rounds do not converge.
"""

__all__ = ["ConnectedComponents", "in_memory_components", "large_star", "small_star", "union_find_roots"]

import dataclasses
from collections.abc import Iterable
from typing import Any

import apache_beam as beam

from transforms.metrics import TAG_MAIN


def union_find_roots(edges: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    """Maps every node of `edges` to the smallest node of its component."""
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for u, v in edges:
        parent.setdefault(u, u)
        parent.setdefault(v, v)
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[max(ru, rv)] = min(ru, rv)
    return {x: find(x) for x in parent}


def in_memory_components(edges: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    """The expected output of `ConnectedComponents` as a dict (nodes that are not representatives)."""
    return {node: root for node, root in union_find_roots(edges).items() if node != root}


def large_star(item: tuple[Any, Iterable[Any]]) -> Iterable[tuple[Any, Any]]:
    """Links every larger neighbour of `u` to the minimum of `u`'s closed neighbourhood."""
    u, neighbours = item
    neighbours = set(neighbours)
    m = min(neighbours | {u})
    for v in neighbours:
        if v > u:
            yield v, m


def small_star(item: tuple[Any, Iterable[Any]]) -> Iterable[tuple[Any, Any]]:
    """Links `u` and its smaller-or-equal neighbours to the minimum of them."""
    u, smaller = item
    group = set(smaller) | {u}
    m = min(group)
    for v in group:
        if v != m:
            yield v, m


def _both_ways(edge: tuple[Any, Any]) -> Iterable[tuple[Any, Any]]:
    u, v = edge
    if u != v:
        yield u, v
        yield v, u


def _toward_smaller(edge: tuple[Any, Any]) -> Iterable[tuple[Any, Any]]:
    u, v = edge
    if u != v:
        yield (u, v) if v < u else (v, u)


_SETTLED, _HAS_SMALLER = "leaf", "smaller"
TAG_RESIDUAL = "residual"  # the edges left for the exact finish (union-find)


def _classify(item: tuple[Any, Iterable[Any]]):
    """Per node: a leaf candidate keyed by its parent, a flag, or residual edges."""
    u, neighbours = item
    neighbours = set(neighbours)
    smaller = [v for v in neighbours if v < u]
    if smaller:
        yield u, (_HAS_SMALLER, None)
    if len(neighbours) == 1 and smaller:
        yield smaller[0], (_SETTLED, u)
    else:
        for v in smaller:
            yield beam.pvalue.TaggedOutput(TAG_RESIDUAL, (u, v))


def _settle(item: tuple[Any, Iterable[tuple[str, Any]]]):
    parent, marks = item
    marks = list(marks)
    has_smaller = any(kind == _HAS_SMALLER for kind, _ in marks)
    for kind, leaf in marks:
        if kind != _SETTLED:
            continue
        if has_smaller:
            yield beam.pvalue.TaggedOutput(TAG_RESIDUAL, (leaf, parent))
        else:
            yield leaf, parent


@dataclasses.dataclass
class ConnectedComponents(beam.PTransform):
    """`(u, v)` edges → `(node, representative)` for each non-representative node.

    Attributes:
        rounds: Large-Star/Small-Star round pairs unrolled before the exact finish.
    """

    rounds: int = 4

    def expand(self, edges: beam.PCollection) -> beam.PCollection:  # (u, v) → (node, representative)
        for i in range(self.rounds):
            edges = (
                edges
                | f"LargeStarEmit{i}" >> beam.FlatMap(_both_ways)
                | f"LargeStarGroup{i}" >> beam.GroupByKey()
                | f"LargeStar{i}" >> beam.FlatMap(large_star)
                | f"SmallStarEmit{i}" >> beam.FlatMap(_toward_smaller)
                | f"SmallStarGroup{i}" >> beam.GroupByKey()
                | f"SmallStar{i}" >> beam.FlatMap(small_star)
                | f"Distinct{i}" >> beam.Distinct()
            )
        classified = (
            edges
            | "FinishEmit" >> beam.FlatMap(_both_ways)
            | "FinishGroup" >> beam.GroupByKey()
            | "Classify" >> beam.FlatMap(_classify).with_outputs(TAG_RESIDUAL, main=TAG_MAIN)
        )
        settled = (
            classified[TAG_MAIN]
            | "GroupByParent" >> beam.GroupByKey()
            | "Settle" >> beam.FlatMap(_settle).with_outputs(TAG_RESIDUAL, main=TAG_MAIN)
        )
        residual = (classified[TAG_RESIDUAL], settled[TAG_RESIDUAL]) | "Residual" >> beam.Flatten()
        roots = beam.pvalue.AsSingleton(
            residual
            | "CollectResidual" >> beam.combiners.ToList()
            | "UnionFind" >> beam.Map(lambda es: union_find_roots(sorted(es)))
        )
        from_leaves = settled[TAG_MAIN] | "LeafRoots" >> beam.Map(lambda lp, r: (lp[0], r.get(lp[1], lp[1])), r=roots)
        from_residual = (
            residual
            | "ResidualNodes" >> beam.FlatMap(lambda e: e)
            | "DistinctResidualNodes" >> beam.Distinct()
            | "ResidualRoots" >> beam.FlatMap(lambda n, r: [(n, r[n])] if r[n] != n else [], r=roots)
        )
        return (from_leaves, from_residual) | "AllRoots" >> beam.Flatten()
