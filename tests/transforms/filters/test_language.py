from collections import defaultdict

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.transforms.filters.helpers import assert_conserved, make_pair, stage_counters
from transforms.filters import language
from transforms.filters.language import FilterLanguage, build_detector, extract_prose, language_reject, prose_letters


ENGLISH = [
    "Refactor the retry helper so it waits longer after each failed attempt and gives up after five tries.",
    "Handle the null pointer case in processOrder and add a unit test for it.",
    "Add a docstring to compute_checksum explaining the CRC polynomial it uses.",
    "Improve the readability of `get_user_by_id` by splitting it into smaller helpers:\n"
    "```python\ndef get_user_by_id(uid):\n    return db.session.query(User).filter(User.id == uid).first()\n```",
]
FOREIGN = [
    ("Corrige el error en el bucle que recorre el búfer y añade pruebas unitarias.", "Spanish"),
    ("Améliore la lisibilité de cette fonction en la découpant en petites fonctions.", "French"),
    ("Исправьте ошибку в цикле, который проходит по буферу.", "Russian"),
    ("请提高这个函数的可读性。", "Chinese"),
    ("修复 `get_user` 函数中的空指针错误，并添加单元测试。", "Chinese"),
    ("Behebe den Fehler in der Schleife, die über den Puffer läuft, und ergänze Tests.", "German"),
]


@pytest.fixture(scope="module")
def detector():
    return build_detector()


def test_extract_prose_drops_code():
    text = (
        "Fix `parse_args()` in src/cli.py, see https://example.com/issue?id=3.\n"
        "```python\ndef main():\n    pass\n```\n"
        "Also processOrder and os.path.join and std::vector break, v2 too.\n"
        "    indented_code = 1\n"
        "~~~\nunterminated fence"
    )
    assert extract_prose(text) == "Fix in , see Also and and break, too."
    assert extract_prose("修复get_user函数") == "修复 函数"
    assert extract_prose("") == ""


def test_prose_letters_weighs_ideographs():
    assert prose_letters("Fix it, now!") == 8
    assert prose_letters("请提高可读性") == 18


@pytest.mark.parametrize("prompt", ENGLISH)
def test_english_is_kept(detector, prompt):
    assert language_reject(prompt, detector) is None


@pytest.mark.parametrize(("prompt", "name"), FOREIGN)
def test_other_languages_are_rejected(detector, prompt, name):
    reason, detail = language_reject(prompt, detector)
    assert reason == "not_english"
    assert detail.startswith(f"detected {name} (")


def test_too_little_prose_is_undecided_and_kept(detector):
    counts = defaultdict(int)

    def count(name, n):
        counts[name] += n

    code_only = "```js\nconst x = arr.map((v) => v * 2);\n```\n`reduce()` `filter()`"
    assert language_reject(code_only, detector, count=count) is None
    assert language_reject("Arregla esto.", detector, count=count) is None  # 12 letters
    assert language_reject("", detector, count=count) is None
    assert dict(counts) == {"undecided": 3}
    assert language_reject("Arregla esto.", detector, min_letters=5) is not None


def test_language_rejects_matches_language_reject(detector):
    prompts = [*ENGLISH, *(prompt for prompt, _ in FOREIGN), "Arregla esto.", "", "```py\nx = 1\n```"]
    counts = defaultdict(int)

    def count(name, n):
        counts[name] += n

    assert language.language_rejects(prompts, detector, count=count) == [language_reject(p, detector) for p in prompts]
    assert dict(counts) == {"undecided": 3}
    assert language.language_rejects([], detector) == []


def test_languages_must_include_english():
    with pytest.raises(ValueError, match="ENGLISH"):
        FilterLanguage(languages=("SPANISH", "FRENCH"))


def test_filter_language_pipeline():
    pairs = [
        make_pair("1" * 16, prompt=ENGLISH[0]),
        make_pair("2" * 16, prompt=FOREIGN[0][0]),
        make_pair("3" * 16, prompt="```py\nx = 1\n```"),
        make_pair("4" * 16, prompt=FOREIGN[3][0]),
    ]
    p = TestPipeline()
    out = p | beam.Create(pairs) | FilterLanguage()
    assert_that(out.main | beam.Map(lambda r: r.idx), equal_to(["1" * 16, "3" * 16]), label="CheckMain")
    got = out.rejected | beam.Map(lambda r: (r.stage, r.reason, r.record_id, r.detail.split(" (")[0]))
    want = [
        ("language_filter", "not_english", "2" * 16, "detected Spanish"),
        ("language_filter", "not_english", "4" * 16, "detected Chinese"),
    ]
    assert_that(got, equal_to(want), label="CheckRejected")
    result = p.run()
    result.wait_until_finish()
    counters = stage_counters(result, "language_filter")
    assert counters == {"in": 4, "out": 2, "rejected:not_english": 2, "undecided": 1}
    assert_conserved(counters)


def test_failing_prompt_in_a_batch_rejects_only_its_pair(monkeypatch):
    class Flaky:
        def __init__(self, languages):
            self._detector = build_detector(languages)

        def detect_language_of(self, text):
            if "explode" in text:
                raise RuntimeError("detector crashed")
            return self._detector.detect_language_of(text)

        def detect_languages_in_parallel_of(self, texts):
            return [self.detect_language_of(text) for text in texts]

    monkeypatch.setattr(language, "build_detector", Flaky)
    monkeypatch.setattr(language._LanguageFn, "batch_size", 3)  # one batch checked in process, one at the bundle's end
    prompts = [ENGLISH[0], FOREIGN[0][0], "Do not explode on an empty input file.", ENGLISH[1], FOREIGN[5][0]]
    pairs = [make_pair(str(i) * 16, prompt=prompt) for i, prompt in enumerate(prompts, 1)]
    p = TestPipeline()
    out = p | beam.Create(pairs) | FilterLanguage(threshold=1.0)
    assert_that(out.main | beam.Map(lambda r: r.idx), equal_to(["1" * 16, "4" * 16]), label="CheckMain")
    got = out.rejected | beam.Map(lambda r: (r.reason, r.record_id, r.detail.split(" (")[0]))
    want = [
        ("not_english", "2" * 16, "detected Spanish"),
        ("language_failed", "3" * 16, "RuntimeError('detector crashed')"),
        ("not_english", "5" * 16, "detected German"),
    ]
    assert_that(got, equal_to(want), label="CheckRejected")
    result = p.run()
    result.wait_until_finish()
    counters = stage_counters(result, "language_filter")
    assert counters == {
        "in": 5,
        "out": 2,
        "rejected:not_english": 2,
        "rejected:language_failed": 1,
        "error:RuntimeError": 1,
    }
    assert_conserved(counters)
