import math
import sys
from collections import defaultdict

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.transforms.filters.helpers import assert_conserved, make_pair, stage_counters
from transforms.filters import perplexity as perplexity_module
from transforms.filters.perplexity import (
    FilterPerplexity,
    load_kenlm,
    normalize_prompt,
    perplexity,
    perplexity_reject,
)


class FakeScorer:
    """KenLM's `score` for a unigram model: known words 1/10, others 1/10,000, </s> 1/10."""

    KNOWN = frozenset(["fix", "the", "bug", "in", "loop", "and", "add", "a", "test", "for", "it"])

    def __init__(self):
        self.calls = []

    def score(self, sentence, bos=True, eos=True):
        self.calls.append((sentence, bos, eos))
        words = sentence.split()
        return -sum(1.0 if w in self.KNOWN else 4.0 for w in words) - (1.0 if eos else 0.0)


def test_normalize_prompt_lowercases_prose():
    assert normalize_prompt("Fix  the BUG in `parse_args()`:\n```py\nx = 1\n```\nThanks") == "fix the bug in : thanks"
    assert normalize_prompt("```py\nx = 1\n```") == ""


def test_perplexity_follows_kenlm():
    scorer = FakeScorer()
    assert perplexity("fix the bug", scorer) == pytest.approx(10.0)
    assert scorer.calls == [("fix the bug", True, True)]
    # two unknown words of 1/10,000 and </s> of 1/10 over 3 events: 10 ** (9 / 3)
    assert perplexity("zorp blat", scorer) == pytest.approx(1000.0)
    assert math.isclose(perplexity("fix zorp", scorer), 10 ** (6 / 3))


def test_perplexity_reject():
    counts = defaultdict(int)

    def count(name, n):
        counts[name] += n

    scorer = FakeScorer()
    assert perplexity_reject("Fix the bug in the loop and add a test for it.", scorer, count=count) is None
    # four unknown words and </s>: 10 ** (17 / 5)
    assert perplexity_reject("Zorp blat quux frob.", scorer, count=count) == (
        "high_perplexity",
        "perplexity 2512 > 1200",
    )
    assert perplexity_reject("Zorp blat quux frob.", scorer, max_perplexity=5000) is None
    assert perplexity_reject("`x`", scorer, count=count) is None
    assert dict(counts) == {"undecided": 1}


def test_load_kenlm_errors(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="not found"):
        load_kenlm(str(tmp_path / "missing.bin"))
    with pytest.raises(ValueError, match="not found"):
        FilterPerplexity(model_path=str(tmp_path / "missing.bin"))
    model = tmp_path / "lm.arpa"
    model.write_text("\\data\\\n")
    monkeypatch.setitem(sys.modules, "kenlm", None)  # as when kenlm is not installed
    with pytest.raises(ImportError, match="pip install kenlm"):
        load_kenlm(str(model))


def test_filter_perplexity_pipeline(tmp_path, monkeypatch):
    model = tmp_path / "lm.arpa"
    model.write_text("\\data\\\n")
    loaded = []

    def fake_load(path):
        loaded.append(path)
        return FakeScorer()

    monkeypatch.setattr(perplexity_module, "load_kenlm", fake_load)
    pairs = [
        make_pair("1" * 16, prompt="Fix the bug in the loop."),
        make_pair("2" * 16, prompt="Zorp blat quux frob."),
        make_pair("3" * 16, prompt="```py\nx = 1\n```"),
    ]
    p = TestPipeline()
    out = p | beam.Create(pairs) | FilterPerplexity(model_path=str(model))
    assert_that(out.main | beam.Map(lambda r: r.idx), equal_to(["1" * 16, "3" * 16]), label="CheckMain")
    got = out.rejected | beam.Map(lambda r: (r.stage, r.reason, r.record_id, r.detail))
    want = [("perplexity_filter", "high_perplexity", "2" * 16, "perplexity 2512 > 1200")]
    assert_that(got, equal_to(want), label="CheckRejected")
    result = p.run()
    result.wait_until_finish()
    assert set(loaded) == {str(model)}
    counters = stage_counters(result, "perplexity_filter")
    assert counters == {"in": 3, "out": 2, "rejected:high_perplexity": 1, "undecided": 1}
    assert_conserved(counters)
