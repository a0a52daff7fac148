import json
import math

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.transforms.filters.helpers import assert_conserved, make_pair, stage_counters
from transforms.filters import length
from transforms.filters.length import (
    FilterLength,
    estimate_tokens,
    length_reject,
    make_token_counter,
    pair_tokens,
    resolve_tokenizer,
)


CORPUS = [
    "def add ( a , b ) : return a + b",
    "fix the bug in the loop so that it returns the sum",
    "class Cache : def get ( self , key ) : return self . data [ key ]",
]


def train_tokenizer(folder):
    """A WordLevel tokenizer over CORPUS: one token per word or punctuation run."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(CORPUS, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]"]))
    tokenizer.enable_truncation(4)  # from_file must switch this off
    tokenizer.enable_padding(length=64, pad_token="[PAD]")
    path = folder / "tokenizer.json"
    tokenizer.save(str(path))
    return tokenizer, path


@pytest.fixture
def tokenizer_file(tmp_path):
    return train_tokenizer(tmp_path)[1]


def test_tokenizer_json_counts_words_without_truncation_or_padding(tokenizer_file):
    count = make_token_counter(str(tokenizer_file))
    assert count(["def add(a, b): return a + b", "", "unknown words here"]) == [11, 0, 3]  # "):" is one token
    assert make_token_counter(str(tokenizer_file.parent))(["fix the bug"]) == [3]  # the folder holding it


def test_transformers_folder_is_loaded_locally(tmp_path):
    from transformers import PreTrainedTokenizerFast

    backend, _ = train_tokenizer(tmp_path)
    backend.no_truncation()
    backend.no_padding()
    folder = tmp_path / "hf"
    PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]").save_pretrained(str(folder))
    assert resolve_tokenizer(str(folder), "transformers") == ("transformers", str(folder))
    assert make_token_counter(str(folder), "transformers")(["def add(a, b): return a + b"]) == [11]


def test_folder_without_tokenizer_json_uses_transformers(tmp_path):
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\ndef\nadd\nreturn\na\nb\n+\n(\n)\n,\n:\n")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer"}))
    assert resolve_tokenizer(str(tmp_path)) == ("transformers", str(tmp_path))
    assert make_token_counter(str(tmp_path))(["def add(a, b): return a + b", "zzz"]) == [12, 1]
    with pytest.raises(ValueError, match="no tokenizer.json"):
        resolve_tokenizer(str(tmp_path), "tokenizers")


def test_missing_path_is_a_clear_error(tmp_path):
    missing = str(tmp_path / "nope")
    message = f"tokenizer path {missing} not found: give a local tokenizer.json or a folder"
    with pytest.raises(ValueError, match=message):
        make_token_counter(missing)
    with pytest.raises(ValueError, match="not found"):
        FilterLength(tokenizer=missing)
    with pytest.raises(ValueError, match="kind"):
        resolve_tokenizer(None, "sentencepiece")
    with pytest.raises(ValueError, match="max_tokens"):
        FilterLength(max_tokens=0)


def test_estimate():
    assert resolve_tokenizer(None) == ("estimate", None)
    assert estimate_tokens("") == 0
    assert estimate_tokens("a" * 32) == 10
    assert estimate_tokens("a" * 33) == 11  # rounded up
    assert estimate_tokens("日本語") == 3  # one per non-ASCII character
    assert estimate_tokens("x = 'é'") == math.ceil(6 / 3.2 + 1)
    assert make_token_counter(None)(["a" * 64, ""]) == [20, 0]


def test_pair_is_prompt_plus_longer_side(tokenizer_file):
    count = make_token_counter(str(tokenizer_file))
    pair = make_pair("a", prompt="fix the bug", chosen="return a + b", rejected="return a")
    assert pair_tokens(pair, count) == 3 + 4
    swapped = pair._replace(chosen=pair.rejected, rejected=pair.chosen)
    assert pair_tokens(swapped, count) == 7


def test_length_reject_and_fast_path(tokenizer_file):
    count = make_token_counter(str(tokenizer_file))
    long_code = "return a + b\n" * 10  # 40 tokens, 130 bytes
    pair = make_pair("a", prompt="fix the bug", chosen=long_code, rejected="return a")
    assert length_reject(pair, count, 42) == ("too_long", "43 tokens > 42")
    assert length_reject(pair, count, 43) is None

    def never(texts):
        raise AssertionError("a pair this short must not be tokenized")

    short = make_pair("b", prompt="fix", chosen="return a", rejected="return b")  # 3 + 8 bytes
    assert length_reject(short, never, 19) is None
    with pytest.raises(AssertionError):
        length_reject(short, never, 18)


def test_filter_length_pipeline(tokenizer_file, monkeypatch):
    real = length.make_token_counter

    def flaky_counter(path, kind):
        count = real(path, kind)

        def wrapped(texts):
            if "explode" in texts[0]:
                raise RuntimeError("tokenizer crashed")
            return count(texts)

        return wrapped

    monkeypatch.setattr(length, "make_token_counter", flaky_counter)
    pairs = [
        make_pair("1" * 16, prompt="fix the bug", chosen="return a + b", rejected="return a"),
        make_pair("2" * 16, prompt="fix the bug", chosen="return a + b\n" * 10, rejected="return a"),
        make_pair("3" * 16, prompt="explode " * 5, chosen="return a + b\n" * 10, rejected=""),
    ]
    p = TestPipeline()
    out = p | beam.Create(pairs) | FilterLength(max_tokens=20, tokenizer=str(tokenizer_file), threshold=1.0)
    assert_that(out.main | beam.Map(lambda r: r.idx), equal_to(["1" * 16]), label="CheckMain")
    got = out.rejected | beam.Map(lambda r: (r.stage, r.reason, r.record_id, r.detail))
    want = [
        ("length_filter", "too_long", "2" * 16, "43 tokens > 20"),
        ("length_filter", "length_failed", "3" * 16, "RuntimeError('tokenizer crashed')"),
    ]
    assert_that(got, equal_to(want), label="CheckRejected")
    payloads = out.rejected | beam.Map(lambda r: (r.reason, sorted(json.loads(r.payload) or {})))
    keys = sorted(["idx", "input", "chosen", "rejected", "language", "aspect", "source"])
    assert_that(payloads, equal_to([("too_long", keys), ("length_failed", [])]), label="CheckPayload")
    result = p.run()
    result.wait_until_finish()
    counters = stage_counters(result, "length_filter")
    assert counters == {"in": 3, "out": 1, "rejected:too_long": 1, "rejected:length_failed": 1, "error:RuntimeError": 1}
    assert_conserved(counters)


def test_filter_length_estimates_without_tokenizer():
    pairs = [make_pair("1" * 16, chosen="x" * 300), make_pair("2" * 16, chosen="x" * 400)]
    with TestPipeline() as p:
        out = p | beam.Create(pairs) | FilterLength(max_tokens=100)
        assert_that(out.main | beam.Map(lambda r: r.idx), equal_to(["1" * 16]), label="CheckMain")
        details = out.rejected | beam.Map(lambda r: (r.reason, r.detail))
        assert_that(details, equal_to([("too_long", "129 tokens > 100 (estimated)")]), label="CheckRejected")


def test_failures_over_the_threshold_fail_the_job(tokenizer_file, monkeypatch):
    def broken_counter(path, kind):
        def count(texts):
            raise RuntimeError("broken tokenizer")

        return count

    monkeypatch.setattr(length, "make_token_counter", broken_counter)
    pairs = [make_pair(str(i) * 16, chosen="return a + b\n" * 10) for i in range(3)]
    with pytest.raises(Exception, match="exceeded threshold"), TestPipeline() as p:
        _ = p | beam.Create(pairs) | FilterLength(max_tokens=20, tokenizer=str(tokenizer_file))
