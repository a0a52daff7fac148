import collections
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import PairRecord
from transforms.split import SplitPairs, split_key, split_of


def pair(idx, prompt="", chosen="x = 1", rejected="x = 2"):
    return PairRecord(idx, prompt, chosen, rejected, "Python", "Runtime Efficiency", "commits")


PAIRS = [pair(f"p{i}", f"Make function number {i} faster", chosen=f"def f{i}(): pass") for i in range(10_000)]


def test_split_is_deterministic_across_processes():
    here = [split_of(p, 0.3, "s") for p in PAIRS[:200]]
    assert here == [split_of(p, 0.3, "s") for p in PAIRS[:200]]
    code = (
        "from schemas.records import PairRecord; from transforms.split import split_of; "
        "print(''.join(split_of(PairRecord('i', f'Make function number {i} faster', '', '', 'Python', 'x', 'y'),"
        " 0.3, 's')[0] for i in range(200)))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "123"}
    )
    assert other.stdout.strip() == "".join(s[0] for s in here)


def test_same_prompt_lands_in_the_same_split_whatever_the_code():
    for i in range(300):
        prompt = f"Make function number {i} faster"
        splits = {split_of(pair("a", prompt, chosen=f"a{j}", rejected=f"b{j}"), 0.5) for j in range(5)}
        splits.add(split_of(pair("b", "  " + prompt.upper() + "!!", chosen="other"), 0.5))
        assert len(splits) == 1


def test_empty_prompt_falls_back_to_chosen_code():
    assert split_key(pair("a", "", chosen="def F(x):  return x")) == "def f x return x"
    assert split_key(pair("a", "?!", chosen="y = 2")) == "y 2"
    assert split_key(pair("a", "Fix it", chosen="y = 2")) == "fix it"
    by_code = collections.Counter(split_of(pair("a", "", chosen=f"v = {i}"), 0.5) for i in range(1000))
    assert 400 < by_code["validation"] < 600


def test_fraction_is_roughly_honoured():
    counts = collections.Counter(split_of(p, 0.1) for p in PAIRS)
    # Binomial(10_000, 0.1): sd = 30; allow five sd.
    assert abs(counts["validation"] - 1000) < 150
    default = collections.Counter(split_of(p) for p in PAIRS)
    assert abs(default["validation"] - 200) < 75  # default 0.02, sd = 14


def test_salt_redraws_and_edges():
    assert [split_of(p, 0.5, "a") for p in PAIRS[:100]] != [split_of(p, 0.5, "b") for p in PAIRS[:100]]
    assert {split_of(p, 0.0) for p in PAIRS[:500]} == {"train"}
    assert {split_of(p, 1.0) for p in PAIRS[:500]} == {"validation"}
    with pytest.raises(ValueError, match="validation_fraction"):
        split_of(PAIRS[0], 1.5)
    with pytest.raises(ValueError, match="validation_fraction"):
        SplitPairs(validation_fraction=-0.1)


def test_split_pairs_pipeline():
    pairs = PAIRS[:400]
    expected = collections.defaultdict(list)
    for p in pairs:
        expected[split_of(p, 0.25, "x")].append(p.idx)
    assert expected["train"] and expected["validation"]
    tp = TestPipeline()
    out = tp | beam.Create(pairs) | SplitPairs(validation_fraction=0.25, salt="x")
    assert_that(out.train | "TrainIds" >> beam.Map(lambda p: p.idx), equal_to(expected["train"]), label="CheckTrain")
    assert_that(
        out.validation | "ValIds" >> beam.Map(lambda p: p.idx), equal_to(expected["validation"]), label="CheckVal"
    )
    result = tp.run()
    result.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace("codepref.split"))["counters"]
    }
    assert counters == {
        "in": 400,
        "out": 400,
        "split:train": len(expected["train"]),
        "split:validation": len(expected["validation"]),
    }


def test_split_pairs_zero_fraction_is_all_train():
    with TestPipeline() as p:
        out = p | beam.Create(PAIRS[:50]) | SplitPairs(validation_fraction=0.0)
        assert_that(out.train | beam.Map(lambda p: p.idx), equal_to([p.idx for p in PAIRS[:50]]), label="CheckTrain")
        assert_that(out.validation, equal_to([]), label="CheckVal")
