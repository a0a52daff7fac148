import collections
import gzip
import json

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.records import PairRecord
from transforms.decontaminate import (
    Decontaminate,
    benchmark_hashes,
    build_index,
    contamination,
    in_memory_decontaminate,
    ngram_hashes,
    ngrams,
    read_benchmark_texts,
    tokens,
)


BENCH = "Write a function that returns the sum of all even numbers in a list of integers given as input"
WORDS = [f"w{i}" for i in range(30)]


def pair(idx, prompt="", chosen="x = 1", rejected="x = 2"):
    return PairRecord(idx, prompt, chosen, rejected, "Python", "Runtime Efficiency", "commits")


def run(pairs, texts, **kw):
    counts = collections.defaultdict(int)

    def count(name, n):
        counts[name] += n

    kept, rejected = in_memory_decontaminate(pairs, texts, count=count, **kw)
    return [p.idx for p in kept], rejected, dict(counts)


def test_tokens_and_ngrams():
    assert tokens("Foo(bar,  BAZ)\n\tﬁle_2") == ["foo", "bar", "baz", "file_2"]  # NFKC folds the ligature
    assert ngrams("a b c d", 3) == ["a b c", "b c d"]
    assert ngrams("a b", 3) == []
    hashes = ngram_hashes("a b c a b c", 3)
    assert hashes.dtype == np.uint64 and len(hashes) == 4 and hashes[0] == hashes[3]
    assert ngram_hashes("x", 3).shape == (0,)


def test_exact_overlap_is_rejected_with_field_file_and_ngram():
    kept, rejected, counts = run(
        [pair("p1", "Please: " + BENCH + "."), pair("p2", "Sort a list")], {"bench.jsonl": [BENCH]}
    )
    assert kept == ["p2"]
    [reject] = rejected
    assert (reject.stage, reject.reason, reject.record_id) == ("decontaminate", "contaminated", "p1")
    assert (
        reject.detail
        == "input shares a 13-gram with bench.jsonl: 'write a function that returns the sum of all even numbers in a'"
    )
    assert json.loads(reject.payload)["idx"] == "p1"
    assert counts == {"in": 2, "out": 1, "rejected:contaminated": 1}
    assert counts["in"] == counts["out"] + counts["rejected:contaminated"]


def test_overlap_hidden_by_case_punctuation_and_whitespace_is_found():
    hidden = "WRITE a function,  that returns\tthe SUM of all even-numbers in a LIST of integers!!"
    kept, rejected, _ = run([pair("p1", hidden)], [BENCH])
    assert kept == [] and "<in-memory>" in rejected[0].detail


def test_twelve_shared_tokens_pass_thirteen_are_flagged():
    bench = " ".join(WORDS[:20])
    twelve = "start " + " ".join(WORDS[5:17]) + " end"
    thirteen = "start " + " ".join(WORDS[5:18]) + " end"
    kept, rejected, counts = run([pair("twelve", twelve), pair("thirteen", thirteen)], [bench])
    assert kept == ["twelve"] and [r.record_id for r in rejected] == ["thirteen"]
    assert counts == {"in": 2, "out": 1, "rejected:contaminated": 1}


def test_short_texts_are_never_flagged_and_n_is_configurable():
    short = " ".join(WORDS[:12])
    assert run([pair("p", short)], [short])[0] == ["p"]
    assert run([pair("p", " ".join(WORDS[:5]))], [" ".join(WORDS[:5])], n=5)[0] == []


def test_include_code_checks_chosen_and_rejected():
    pairs = [pair("c", "Tidy up", chosen=BENCH), pair("r", "Tidy up", rejected="# " + BENCH)]
    assert run(pairs, [BENCH])[0] == ["c", "r"]
    kept, rejected, _ = run(pairs, [BENCH], include_code=True)
    assert kept == [] and [r.detail.split(" ")[0] for r in rejected] == ["chosen", "rejected"]


def test_empty_benchmark_passes_everything():
    kept, rejected, counts = run([pair("p", BENCH)], {})
    assert kept == ["p"] and rejected == [] and counts == {"in": 1, "out": 1}


def test_build_index_is_sorted_unique_and_names_the_first_file():
    a, b = benchmark_hashes([BENCH], 13), benchmark_hashes([BENCH + " and more words"], 13)
    index = build_index([("z.jsonl", b), ("a.jsonl", a)], 13)
    assert index.names == ("a.jsonl", "z.jsonl") and index.files.dtype == np.uint8
    assert np.all(index.hashes[1:] > index.hashes[:-1]) and len(index.hashes) == len(b)
    assert contamination(pair("p", BENCH), index) == (
        "input shares a 13-gram with a.jsonl: 'write a function that returns the sum of all even numbers in a'"
    )
    assert "z.jsonl" in contamination(
        pair("p", "even numbers in a list of integers given as input and more words"), index
    )


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


def test_read_jsonl_and_parquet(tmp_path):
    jsonl = write_jsonl(tmp_path / "b.jsonl", [{"prompt": "one", "x": 1}, "", {"prompt": None}, {"prompt": "two"}])
    assert list(read_benchmark_texts(jsonl, "prompt")) == ["one", "two"]
    pq.write_table(pa.table({"question": ["three", "four"]}), tmp_path / "b.parquet")
    assert list(read_benchmark_texts(str(tmp_path / "b.parquet"), "question")) == ["three", "four"]


def test_missing_column_is_a_clear_error(tmp_path):
    jsonl = write_jsonl(tmp_path / "b.jsonl", [{"question": "one"}])
    with pytest.raises(ValueError, match=r"b\.jsonl:line 1: no column 'prompt' \(found \['question'\]\)"):
        list(read_benchmark_texts(jsonl, "prompt"))
    pq.write_table(pa.table({"question": ["x"]}), tmp_path / "b.parquet")
    with pytest.raises(ValueError, match=r"b\.parquet:row 1: no column 'prompt'"):
        list(read_benchmark_texts(str(tmp_path / "b.parquet"), "prompt"))


def test_bad_json_non_text_and_empty_files_are_clear_errors(tmp_path):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"prompt": "ok"}, "{not json"])
    with pytest.raises(ValueError, match=r"bad\.jsonl:line 2: bad JSON"):
        list(read_benchmark_texts(bad, "prompt"))
    listed = write_jsonl(tmp_path / "list.jsonl", [{"prompt": ["a", "b"]}])
    with pytest.raises(ValueError, match=r"list\.jsonl:line 1: column 'prompt' holds list, not text"):
        list(read_benchmark_texts(listed, "prompt"))
    empty = write_jsonl(tmp_path / "empty.jsonl", [])
    with pytest.raises(ValueError, match=r"empty\.jsonl has no rows"):
        list(read_benchmark_texts(empty, "prompt"))


def test_compressed_benchmarks_are_read_and_broken_ones_are_clear_errors(tmp_path):
    rows = b'{"prompt": "one"}\n{"prompt": "two"}\n'
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(rows))
    assert list(read_benchmark_texts(str(tmp_path / "b.jsonl.gz"), "prompt")) == ["one", "two"]
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(rows * 1000)[:40])
    with pytest.raises(ValueError, match=r"cut\.jsonl\.gz: cannot be read \(.*truncated"):
        list(read_benchmark_texts(str(tmp_path / "cut.jsonl.gz"), "prompt"))
    (tmp_path / "latin1.jsonl").write_bytes(b'{"prompt": "ok"}\n{"prompt": "caf\xe9"}\n')
    with pytest.raises(ValueError, match=r"latin1\.jsonl:line 2: not UTF-8 \(invalid continuation byte"):
        list(read_benchmark_texts(str(tmp_path / "latin1.jsonl"), "prompt"))


def test_pattern_matching_no_file_is_a_config_error(tmp_path):
    with pytest.raises(ValueError, match="matches no file"), TestPipeline() as p:
        _ = p | beam.Create([pair("p")]) | Decontaminate([str(tmp_path / "nothing-*.jsonl")])
    with pytest.raises(ValueError, match="n must be at least 1"):
        Decontaminate(n=0)


def test_decontaminate_pipeline(tmp_path):
    write_jsonl(tmp_path / "bench-0.jsonl", [{"prompt": BENCH}, {"prompt": "short"}])
    pq.write_table(pa.table({"prompt": [" ".join(WORDS)]}), tmp_path / "bench-1.parquet")
    pairs = [
        pair("clean", "Speed up the lookup"),
        pair("jsonl", "Hi! " + BENCH.upper()),
        pair("parquet", "x " + " ".join(WORDS[3:16])),
        pair("code", "Tidy up", chosen=BENCH),
    ]
    p = TestPipeline()
    out = p | beam.Create(pairs) | Decontaminate([str(tmp_path / "bench-*")])
    assert_that(out.main | beam.Map(lambda x: x.idx), equal_to(["clean", "code"]), label="CheckMain")
    assert_that(
        out.rejected | beam.Map(lambda r: (r.reason, r.record_id, r.detail.split(": ")[0].rsplit("/", 1)[-1])),
        equal_to([("contaminated", "jsonl", "bench-0.jsonl"), ("contaminated", "parquet", "bench-1.parquet")]),
        label="CheckRejected",
    )
    result = p.run()
    result.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace("codepref.decontaminate"))["counters"]
    }
    assert counters == {"in": 4, "out": 2, "rejected:contaminated": 2, "benchmark_texts": 3}


def test_decontaminate_pipeline_with_code_and_without_patterns(tmp_path):
    write_jsonl(tmp_path / "bench.json", [{"prompt": BENCH}])
    pairs = [pair("clean", "Speed up the lookup"), pair("code", "Tidy up", chosen=BENCH)]
    with TestPipeline() as p:
        created = p | beam.Create(pairs)
        with_code = created | "WithCode" >> Decontaminate([str(tmp_path / "*.json")], include_code=True)
        nothing = created | "NoPatterns" >> Decontaminate([])
        assert_that(with_code.main | "IdsA" >> beam.Map(lambda x: x.idx), equal_to(["clean"]), label="CheckCode")
        assert_that(nothing.main | "IdsB" >> beam.Map(lambda x: x.idx), equal_to(["clean", "code"]), label="CheckAll")
        assert_that(nothing.rejected, equal_to([]), label="CheckNoRejects")


def test_pipeline_fails_on_a_broken_benchmark_file(tmp_path):
    write_jsonl(tmp_path / "bench.jsonl", [{"question": BENCH}])
    with pytest.raises(Exception, match=r"bench\.jsonl:line 1: no column 'prompt'"), TestPipeline() as p:
        _ = p | beam.Create([pair("p", "x")]) | Decontaminate([str(tmp_path / "bench.jsonl")])
