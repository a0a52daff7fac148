"""Connected components in Beam equal an in-memory union-find."""

import random

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.dedup.components import (
    ConnectedComponents,
    in_memory_components,
    large_star,
    small_star,
    union_find_roots,
)


def _node(i: int) -> str:
    return f"{i:08x}"


def _run(edges: list[tuple[str, str]], rounds: int) -> None:
    expected = sorted(in_memory_components(edges).items())
    with TestPipeline() as p:
        got = p | beam.Create(edges) | ConnectedComponents(rounds=rounds)
        assert_that(got, equal_to(expected))


def _random_graph(seed: int, nodes: int, edges: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(_node(rng.randrange(nodes)), _node(rng.randrange(nodes))) for _ in range(edges)]


def test_union_find_maps_to_the_smallest_node():
    roots = union_find_roots([("c", "d"), ("b", "c"), ("x", "y")])
    assert roots == {"b": "b", "c": "b", "d": "b", "x": "x", "y": "x"}


def test_stars_move_nodes_toward_the_minimum():
    assert sorted(large_star(("b", ["a", "c", "d"]))) == [("c", "a"), ("d", "a")]
    assert sorted(small_star(("d", ["b", "c"]))) == [("c", "b"), ("d", "b")]


@pytest.mark.parametrize("seed", range(4))
def test_random_graphs_equal_union_find(seed):
    _run(_random_graph(seed, nodes=300, edges=260), rounds=2)


def test_self_loops_and_repeated_edges():
    _run([("a", "a"), ("b", "a"), ("a", "b"), ("c", "b"), ("c", "b")], rounds=1)


def test_long_path_is_exact_after_too_few_rounds():
    # A path of 400 nodes in scrambled order needs more rounds than given: the
    # residual union-find finishes it exactly.
    order = list(range(400))
    random.Random(7).shuffle(order)
    path = [(_node(order[i]), _node(order[i + 1])) for i in range(399)]
    _run(path, rounds=1)


def test_zero_rounds_is_still_exact():
    _run(_random_graph(11, nodes=100, edges=120), rounds=0)


def test_no_edges_gives_nothing():
    _run([], rounds=2)
