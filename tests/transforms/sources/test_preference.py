import json

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.build import PreferenceSource
from schemas.records import PairRecord, RejectRecord
from transforms.manifest import StageReport
from transforms.sources import preference
from transforms.sources.preference import (
    PRESETS,
    ReadPreferenceSource,
    efficiency_pairs,
    pair_from_mapped,
    pair_id,
    resolve_preset,
    solutions_from_row,
)


def source(**fields):
    return resolve_preset(PreferenceSource.model_validate({"name": "ext", "files": ["x"], "license": "mit", **fields}))


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_presets_fill_unset_fields_and_the_source_overrides_them():
    s = source(preset="cybernative-dpo")
    assert s.columns.prompt == "question" and s.aspect == "Security Hardness"
    assert source(preset="cybernative-dpo", aspect="Functional Correctness").aspect == "Functional Correctness"
    assert set(PRESETS) >= {"cybernative-dpo", "prosec", "runbugrun", "ecco-edit", "pie-perf", "codenet", "venus"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"preset": "nope"}, "unknown preset 'nope'"),
        ({"license": None}, "give the licence"),
        ({"license": "gpl-3.0"}, "not permissive"),
        ({"license": "GPL 3"}, "not permissive"),
    ],
)
def test_bad_sources_are_refused_with_a_reason(fields, message):
    with pytest.raises(ValueError, match=message):
        source(**fields)


def test_the_licence_is_stored_as_its_spdx_id():
    assert source(license="Apache 2.0").license == "apache-2.0" and source(license="MIT").license == "mit"


def test_generic_mapping_reads_a_pair_and_names_what_is_wrong():
    s = source(columns={"prompt": "q", "chosen": "good", "rejected": "bad", "language": "lang", "aspect": "crit"})
    row = {"q": "Sort it", "good": "a", "bad": "b", "lang": "cpp", "crit": "runtime_efficiency"}
    pair = pair_from_mapped(row, "f:1", s)
    assert isinstance(pair, PairRecord)
    assert (pair.language, pair.aspect, pair.source, pair.license) == ("C++", "Runtime Efficiency", "ext", "mit")
    assert pair.idx == pair_id("ext", "Runtime Efficiency", "Sort it", "a", "b") == pair_from_mapped(row, "f:9", s).idx
    crb = pair_from_mapped({**row, "lang": "CSharp", "crit": "Readability_and_Maintainability"}, "f:3", s)
    assert (crb.language, crb.aspect) == ("C#", "Readability and Maintainability")
    cases = [
        ({**row, "good": " "}, "missing_field", "good"),
        ({**row, "lang": "cobol"}, "unknown_language", "cobol"),
        ({**row, "crit": "speed"}, "unknown_aspect", "speed"),
        ("text", "missing_field", "not an object"),
    ]
    for bad, reason, detail in cases:
        reject = pair_from_mapped(bad, "f:2", s)
        assert isinstance(reject, RejectRecord) and reject.reason == reason and detail in reject.detail
        assert reject.stage == "read_ext"


def test_keep_rules_and_prompt_templates():
    s = source(preset="prosec")
    row = {
        "lang": "python",
        "cwe": "CWE-78",
        "original_instruction": "Run a command",
        "original_code": "os.system(x)",
        "fixed_code": "subprocess.run([x])",
        "benign": False,
    }
    pair = pair_from_mapped(row, "w", s)
    assert (pair.chosen, pair.rejected, pair.aspect) == ("subprocess.run([x])", "os.system(x)", "Security Hardness")
    assert pair_from_mapped({**row, "benign": True}, "w", s).reason == "not_kept"
    rbr = source(preset="runbugrun")
    pair = pair_from_mapped({"problem_id": "p1", "buggy_code": "x", "fixed_code": "y", "language": "ruby"}, "w", rbr)
    assert pair.input.startswith("Write a ruby program that solves problem p1") and pair.language == "Ruby"
    reject = pair_from_mapped({"buggy_code": "x", "fixed_code": "y", "language": "ruby"}, "w", rbr)
    assert reject.reason == "missing_field" and "problem_id" in reject.detail


def solution(code, runtime=None, memory=None):
    return preference.Solution("p", code, "Python", runtime, memory, code)


def test_efficiency_pairs_need_the_ratio_and_pair_best_with_worst():
    s = source(efficiency={"problem": "p", "prompt": "q", "runtime": "t", "memory": "m", "max_pairs": 2})
    solutions = [solution("a", 10, 100), solution("b", 20, 120), solution("c", 60, 700), solution("d", 100, 110)]
    pairs, used = efficiency_pairs(solutions, s)
    assert [(p.aspect, p.chosen, p.rejected) for p in pairs] == [
        ("Runtime Efficiency", "a", "d"),  # 10 vs 100: 10×; then b (20) vs c (60): 3×, below 5×: stop
        ("Memory Efficiency", "a", "c"),  # 100 vs 700: 7×; then d (110) vs b (120): stop
    ]
    assert used == {0, 2, 3} and len({p.idx for p in pairs}) == 2
    assert json.loads(pairs[0].label_details) == {
        "efficiency": {"measure": "runtime", "chosen": 10, "rejected": 100, "ratio": 10.0}
    }
    assert efficiency_pairs([solution("a", 10), solution("a", 99)], s) == ([], set())  # same code never faces itself


CODENET_ROW = {
    "s_id": "s1",
    "p_id": "p00001",
    "u_id": "u1",
    "language": "C++",
    "status": "Accepted",
    "cpu_time": "60",
    "memory": "15496",
    "code": "int main(){}",
}
"""One accepted CodeNet submission row."""


def test_codenet_rows_group_by_problem_and_submitter(tmp_path):
    s = source(preset="codenet")
    row = dict(CODENET_ROW)
    key, solutions = solutions_from_row(row, "w", s)
    assert (
        key == ("C++\x1fp00001", "u1")
        and solutions[0].runtime == 60.0
        and "Project CodeNet problem p00001" in (solutions[0].prompt)
    )
    assert solutions_from_row({**row, "status": "Wrong Answer"}, "w", s).reason == "not_kept"
    assert solutions_from_row({**row, "cpu_time": "-1", "memory": ""}, "w", s).reason == "no_measurement"


def run_source(src, check_pairs, check_reports=None):
    with TestPipeline() as p:
        out = p | ReadPreferenceSource(src)
        reports: tuple[StageReport, ...] = out.reports
        assert_that(out.main | beam.Map(lambda x: (x.chosen, x.rejected, x.aspect, x.language)), check_pairs)
        counts = {}
        for r in reports:
            counts[r.name] = (
                r.scanned | f"{r.name}In" >> beam.CombineGlobally(sum),
                r.out | f"{r.name}Out" >> beam.combiners.Count.Globally(),
                r.rejected | f"{r.name}Reasons" >> beam.Map(lambda x: x.reason),
            )
        if check_reports:
            for name, (scanned, out, reasons) in counts.items():
                assert_that(scanned, equal_to([check_reports[name][0]]), label=f"{name}CheckIn")
                assert_that(out, equal_to([check_reports[name][1]]), label=f"{name}CheckOut")
                assert_that(reasons, equal_to(check_reports[name][2]), label=f"{name}CheckReasons")
    return reports


def test_codenet_fixture_end_to_end(tmp_path):
    rows = []
    for user, times in (("u1", ["10", "80", "30"]), ("u2", ["50", "70"])):
        for i, t in enumerate(times):
            rows.append(
                {
                    "s_id": f"s{user}{i}",
                    "p_id": "p00002",
                    "u_id": user,
                    "date": "1",
                    "language": "Python",
                    "original_language": "Python (3.4.3)",
                    "filename_ext": "py",
                    "status": "Accepted",
                    "cpu_time": t,
                    "memory": "100",
                    "code_size": "9",
                    "code": f"print({user}{i})",
                }
            )
    rows.append({**rows[0], "status": "Runtime Error"})
    path = tmp_path / "codenet.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)  # every column a string, as on the Hub
    src = source(preset="codenet", files=[str(path)])
    expected = [("print(u10)", "print(u11)", "Runtime Efficiency", "Python")]  # u1: 10 vs 80 ms; u2: 50 vs 70 no
    run_source(
        src,
        equal_to(expected),
        {
            "read_ext": (6, 5, ["not_kept"]),
            "efficiency_ext": (5, 2, ["unpaired", "unpaired", "unpaired"]),
        },
    )


def test_venus_fixture_pairs_inside_one_row(tmp_path):
    row = {
        "question_id": 1,
        "name": "two-sum",
        "content": "<p>Find two numbers.</p>",
        "rt_list": [{"code": "fast", "runtime": "40"}, {"code": "slow", "runtime": "400"}],
        "mm_list": [{"code": "small", "memory": "16000"}, {"code": "big", "memory": "17000"}],
    }
    src = source(preset="venus", files=[write_jsonl(tmp_path / "venus.jsonl", [row])])
    run_source(
        src,
        equal_to([("fast", "slow", "Runtime Efficiency", "Python")]),
        {
            "read_ext": (1, 1, []),
            "efficiency_ext": (4, 2, ["unpaired", "unpaired"]),
        },
    )


@pytest.mark.parametrize(
    ("preset", "row", "expected"),
    [
        (
            "cybernative-dpo",
            {
                "lang": "c++",
                "vulnerability": "overflow",
                "system": "",
                "question": "Copy a string",
                "chosen": "```cpp\nstrncpy(a, b, n);\n```",
                "rejected": "```cpp\nstrcpy(a, b);\n```",
            },
            ("```cpp\nstrncpy(a, b, n);\n```", "```cpp\nstrcpy(a, b);\n```", "Security Hardness", "C++"),
        ),
        (
            "prosec",
            {
                "lang": "java",
                "cwe": "CWE-89",
                "original_instruction": "Find a user by name",
                "original_code": 'q("... \'" + n + "\'")',
                "fixed_code": 'q("... ?", n)',
                "benign": False,
            },
            ('q("... ?", n)', 'q("... \'" + n + "\'")', "Security Hardness", "Java"),
        ),
        (
            "ecco-edit",
            {"problem_id": "p02547", "input": "slow()", "target": "fast()"},
            ("fast()", "slow()", "Runtime Efficiency", "Python"),
        ),
        (
            "pie-perf",
            {
                "user_id": "u1",
                "problem_id": "p00849",
                "language": "C++",
                "input": "slow();",
                "target": "fast();",
                "cpu_time_v0": 900,
                "cpu_time_v1": 90,
                "status_v0": "Accepted",
            },
            ("fast();", "slow();", "Runtime Efficiency", "C++"),
        ),
        (
            "runbugrun",
            {
                "problem_id": "p1",
                "buggy_code": "puts 1",
                "fixed_code": "puts 2",
                "labels": [],
                "buggy_submission_id": 1,
                "fixed_submission_id": 2,
                "user_id": "u",
                "language": "ruby",
            },
            ("puts 2", "puts 1", "Functional Correctness", "Ruby"),
        ),
    ],
)
def test_pair_presets_on_fixtures_in_their_layout(tmp_path, preset, row, expected):
    src = source(preset=preset, files=[write_jsonl(tmp_path / "d.jsonl", [row, row | {"oops": 1}, "not json"])])
    (tmp_path / "d.jsonl").write_text((tmp_path / "d.jsonl").read_text() + "{broken\n")
    run_source(src, equal_to([expected, expected]), {"read_ext": (4, 2, ["missing_field", "malformed_json"])})


def test_hub_sources_stream_through_datasets(monkeypatch):
    calls = []

    def fake_load_dataset(name, split, streaming):
        calls.append((name, split, streaming))
        return iter([{"prompt": "p", "chosen": "c", "rejected": "r", "language": "go"}])

    import datasets

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    rows = list(preference._iter_hub_rows("hub:org/name:train"))
    assert calls == [("org/name", "train", True)] and rows[0][0] == "org/name[train] row 1"


def test_measurements_are_numbers_not_bools_and_odd_values_never_crash():
    s = source(preset="codenet")
    row = dict(CODENET_ROW)
    for bad in (True, False, 10**400, "1e999", float("nan"), [60], {"ms": 60}, None):
        got = solutions_from_row({**row, "cpu_time": bad, "memory": bad}, "w", s)
        assert isinstance(got, RejectRecord) and got.reason == "no_measurement", bad
    _, [solution] = solutions_from_row({**row, "cpu_time": 60, "memory": True}, "w", s)
    assert (solution.runtime, solution.memory) == (60.0, None)
    venus = source(preset="venus")
    for lists in (5, "rt", {"code": "x"}, True):
        got = solutions_from_row(
            {"question_id": 1, "content": "Two sum.", "rt_list": lists, "mm_list": None}, "w", venus
        )
        assert isinstance(got, RejectRecord) and got.reason == "no_measurement", lists


def test_keep_rules_tell_bools_from_numbers():
    s = source(preset="prosec")
    row = {
        "lang": "python",
        "original_instruction": "Run a command",
        "original_code": "os.system(x)",
        "fixed_code": "subprocess.run([x])",
    }
    assert isinstance(pair_from_mapped({**row, "benign": False}, "w", s), PairRecord)
    for value in (0, 0.0, "False", None):
        got = pair_from_mapped({**row, "benign": value}, "w", s)
        assert isinstance(got, RejectRecord) and got.reason == "not_kept", value


def test_a_prompt_template_that_does_not_fit_the_row_is_a_missing_field():
    s = source(preset="runbugrun", prompt_template="Solve {problem_id:d} in {language}; see {labels[0]}.")
    row = {"problem_id": "p1", "buggy_code": "puts 1", "fixed_code": "puts 2", "language": "ruby", "labels": []}
    for bad in ({"problem_id": ["p1"]}, {"problem_id": 3, "labels": 7}, {"problem_id": 3}):
        got = pair_from_mapped({**row, **bad}, "w", s)
        assert isinstance(got, RejectRecord) and got.reason == "missing_field", bad
        assert "prompt_template" in got.detail, bad
