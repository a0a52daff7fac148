import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.build import MixConfig
from schemas.records import PairRecord
from transforms.mix import MixPairs, _SmallestRanks, rank


def pair(i, source="a", aspect="Functional Correctness", language="Python"):
    return PairRecord(
        idx=f"id{i}", input=f"q{i}", chosen="c", rejected="r", language=language, aspect=aspect, source=source
    )


def expected_kept(pairs, n):
    return sorted(pairs, key=rank)[:n]


def test_smallest_ranks_threshold_merges_like_one_pass():
    fn = _SmallestRanks({"a": 3, "b": 8, "c": 0, "d": 2})
    parts = [fn.create_accumulator() for _ in range(3)]
    for i, v in enumerate([9, 4, 7, 1, 8, 2, 6]):
        fn.add_input(parts[i % 3], ("a", v))
        fn.add_input(parts[i % 3], ("b", v))
    assert fn.extract_output(fn.merge_accumulators(parts)) == {
        "a": 4,  # the 3 smallest: 1, 2, 4
        "b": None,  # fewer than the cap: keep all
        "c": -1,  # a zero cap keeps nothing
        "d": None,  # no pair at all
    }


def test_caps_then_targets_keep_the_lowest_ranks_and_reject_the_rest():
    a = [pair(i) for i in range(20)]
    b = [pair(100 + i, "b", "Security Hardness", "Go") for i in range(6)]
    c = [pair(200 + i, "c", "Security Hardness", "Go") for i in range(6)]
    cfg = MixConfig(caps={"a": 5, "b": 10}, targets={"Security Hardness": {"Go": 8}})
    kept_a = expected_kept(a, 5)
    kept_go = expected_kept(b + c, 8)
    with TestPipeline() as p:
        out = p | beam.Create(a + b + c) | MixPairs(cfg)
        assert_that(out.main | "Ids" >> beam.Map(lambda x: x.idx), equal_to([x.idx for x in kept_a + kept_go]))
        reasons = out.rejected | beam.Map(lambda r: (r.reason, r.record_id))
        assert_that(
            reasons,
            equal_to(
                [("source_cap", x.idx) for x in a if x not in kept_a]
                + [("target_cap", x.idx) for x in b + c if x not in kept_go]
            ),
            label="Reasons",
        )


def test_no_caps_pass_everything_and_a_zero_cap_keeps_nothing():
    pairs = [pair(i) for i in range(4)]
    with TestPipeline() as p:
        out = p | beam.Create(pairs) | MixPairs(MixConfig())
        assert_that(out.main | beam.Map(lambda x: x.idx), equal_to([x.idx for x in pairs]))
    with TestPipeline() as p:
        out = p | beam.Create(pairs) | MixPairs(MixConfig(caps={"a": 0}))
        assert_that(out.main, equal_to([]))
