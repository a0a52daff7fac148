"""Stage `language_filter`: keeps pairs whose prompt is English, offline, with lingua.

`FilterLanguage`: PCollection[PairRecord] → `transforms.manifest.StageOutputs` (`main`, `rejected`, one report).

The prompt (`input`) is reduced to its prose first (`extract_prose`): fenced
code blocks, inline code spans, Markdown-indented code lines, URLs and
code-like words (holding `_`, `$`, `.`, `:`, a slash or backslash, a digit or a
camelCase hump: `get_user`, `os.path`, `src/app`, `processOrder`) are removed,
because identifiers make lingua guess Danish or Yoruba for plain English. When
the prose has fewer than `min_letters` (20) letters (`prose_letters`: an
ideograph, kana or Hangul syllable counts as 3, as it carries about a word), the
language cannot be decided and the pair is KEPT (counter `undecided`); so is a
pair for which lingua declines to decide. Otherwise a prompt detected as
anything but English is rejected `not_english`, the detail naming the language.

Detector (built in `setup()`): lingua's high-accuracy mode over 22 common
languages (`CURATED_LANGUAGES`), models preloaded. lingua keeps its models once
per process, shared by every detector built there. Measured on the shared
2-core development machine (RSS added; build time; detection per prompt):

    all 75 languages, lazy                 1,046 MB after 6 languages   8.4 s for the first 300 prompts
    all 75 languages, preloaded            1,271 MB   5.2 s   0.7 ms
    all 75, low accuracy, preloaded          149 MB   0.3 s
    26 curated, preloaded                    659 MB   2.7 s   0.4 ms
    24 curated, preloaded                    601 MB   2.6 s   0.3 ms
    22 curated, preloaded (chosen)       447-493 MB   2.3 s   0.3-0.5 ms
    22 curated, lazy                         374 MB   5.5 s for the first 60 prompts
    30 curated, low accuracy, preloaded       81 MB   0.2 s

On 30 short English coding prompts and 30 translations (22 languages), the
chosen detector made no mistake; all 75 languages called 2-3 English prompts
Danish, Yoruba, Latin, Welsh or Tswana; low-accuracy mode got 3 (curated) and 7
(all) English prompts wrong. Preloading costs 2 s once per worker and keeps the
memory predictable. Known limits: a language outside the set is usually taken
for a neighbour in it (Czech for Spanish, Tagalog for Dutch: still rejected),
but Romanian can pass as English; English with French loanwords ("crème
brûlée") can be called French.

Only the first 300 characters of the prose are detected (`_DETECT_CHARS`):
lingua's cost grows with the text beyond about 120 characters (0.28 ms for 300
characters of English, 0.45 ms for 600). Decisions were the same at 600, 400,
300 and 200 characters on the tests' prompts (all shorter than 300) and on the
first 20,000 prompts of the scale corpus (10,776 with over 300 characters of
prose; 207 rejected). Detecting those 20,000 on one thread (CPU, least of 3):

    first 600 characters     6.8 s
    first 400                6.8 s
    first 300 (chosen)       6.4 s
    first 200                4.5 s

The stage hands lingua 1,024 prompts at a time (`language_rejects`,
`detect_languages_in_parallel_of`), which it splits over one thread per core; the
decisions are those of one prompt at a time. On the same 20,000 prompts, prose
extraction included: 8.3-10.3 s one at a time with 600 characters (before),
5.8-6.5 s batched with 300 (9.7-11 s of CPU on the 2 cores), with the shared
2-core development machine otherwise nearly idle. While other jobs kept it busy
(load 2.5), batching gained nothing (7.9-8.1 s against 8.5 s): the second thread
has no core to run on. Extracting the prose (0.13 ms a prompt) stays on one thread.

Reasons: `not_english`, `language_failed` (the detector raised). Counters
(namespace `codepref.language_filter`): `in`, `out`, `rejected:<reason>`,
`error:<exc_type>`, and `undecided` (kept without a decision; part of `out`).
"""

__all__ = [
    "CURATED_LANGUAGES",
    "FilterLanguage",
    "build_detector",
    "extract_prose",
    "language_reject",
    "language_rejects",
    "prose_letters",
]

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

import apache_beam as beam

from schemas.records import PairRecord, RejectRecord
from transforms.filters import PairFilterFn, apply_pair_filter


STAGE = "language_filter"
NOT_ENGLISH = "not_english"
LANGUAGE_FAILED = "language_failed"
UNDECIDED = "undecided"

CURATED_LANGUAGES: tuple[str, ...] = (
    "ENGLISH",
    "CHINESE",
    "JAPANESE",
    "KOREAN",
    "HINDI",
    "SPANISH",
    "FRENCH",
    "GERMAN",
    "PORTUGUESE",
    "ITALIAN",
    "DUTCH",
    "POLISH",
    "TURKISH",
    "VIETNAMESE",
    "INDONESIAN",
    "RUSSIAN",
    "UKRAINIAN",
    "ARABIC",
    "PERSIAN",
    "GREEK",
    "HEBREW",
    "THAI",
)
"""lingua `Language` names the detector chooses among (see the module docstring)."""

_FENCED = re.compile(r"^[ \t]*(`{3,}|~{3,}).*?(?:^[ \t]*\1[^\n]*$|\Z)", re.M | re.S)
_INLINE = re.compile(r"(`+)[^`]+?\1")
_INDENTED = re.compile(r"^(?: {4}|\t).*$", re.M)
_URL = re.compile(r"\S+://\S*")
_WORD = re.compile(r"(?<![\w$])[A-Za-z_$][\w$]*(?:[.:/\\]+[\w$]+)*", re.ASCII)
_CODE_WORD = re.compile(r"[_$.:/\\\d]|[a-z][A-Z]")


def extract_prose(text: str) -> str:
    """Returns the prose of a prompt: code blocks, inline code, URLs and identifiers removed."""
    for pattern in (_FENCED, _INLINE, _INDENTED, _URL):
        text = pattern.sub(" ", text)
    text = _WORD.sub(lambda m: " " if _CODE_WORD.search(m.group()) else m.group(), text)
    return " ".join(text.split())


_WIDE = re.compile("[\u2e80-\U0010ffff]")
_DETECT_CHARS = 300  # a prompt's language shows in its first sentences; see the module docstring


def prose_letters(prose: str) -> int:
    """Counts letters, an ideograph, kana or Hangul syllable (U+2E80 and up) counting as 3."""
    return sum(map(str.isalpha, prose)) + 2 * sum(map(str.isalpha, _WIDE.findall(prose)))


def build_detector(languages: tuple[str, ...] | None = CURATED_LANGUAGES, preload: bool = True) -> Any:
    """Builds a lingua detector in high-accuracy mode.

    Args:
        languages: lingua `Language` names, or None for all of them.
        preload: load every model now rather than on first use.

    Returns:
        A `lingua.LanguageDetector`.
    """
    from lingua import Language, LanguageDetectorBuilder

    if languages is None:
        builder = LanguageDetectorBuilder.from_all_languages()
    else:
        builder = LanguageDetectorBuilder.from_languages(*(getattr(Language, name) for name in languages))
    if preload:
        builder = builder.with_preloaded_language_models()
    return builder.build()


def _prose(prompt: str, min_letters: int) -> tuple[str | None, int]:
    """Returns (the text to detect, or None when too short to decide, the prose's letter count)."""
    prose = extract_prose(prompt)
    letters = prose_letters(prose)
    return (prose[:_DETECT_CHARS] if letters >= min_letters else None), letters


def _verdict(language: Any, letters: int, count: Callable[[str, int], None] | None) -> tuple[str, str] | None:
    if language is None:
        if count is not None:
            count(UNDECIDED, 1)
        return None
    if language.name == "ENGLISH":
        return None
    return NOT_ENGLISH, f"detected {language.name.title()} ({letters} letters of prose)"


def language_reject(
    prompt: str, detector: Any, min_letters: int = 20, count: Callable[[str, int], None] | None = None
) -> tuple[str, str] | None:
    """Returns `(not_english, detail)` when the prompt's prose is not English, else None.

    Args:
        prompt: the pair's `input`.
        detector: anything with lingua's `detect_language_of(text) -> Language | None`.
        min_letters: the fewest letters of prose needed to decide.
        count: called as `count("undecided", 1)` when the language cannot be decided.
    """
    text, letters = _prose(prompt, min_letters)
    return _verdict(None if text is None else detector.detect_language_of(text), letters, count)


def language_rejects(
    prompts: Sequence[str], detector: Any, min_letters: int = 20, count: Callable[[str, int], None] | None = None
) -> list[tuple[str, str] | None]:
    """Returns `language_reject`'s verdict for each prompt, detecting them all in one call.

    lingua's `detect_languages_in_parallel_of` spreads a list over threads (one per
    core); detecting one text at a time keeps one core busy.

    Args:
        prompts: the pairs' `input`s.
        detector: anything with lingua's `detect_languages_in_parallel_of(texts) -> list[Language | None]`.
        min_letters: as for `language_reject`.
        count: as for `language_reject`; called once all prompts are detected.
    """
    prepared = [_prose(prompt, min_letters) for prompt in prompts]
    detected = iter(detector.detect_languages_in_parallel_of([text for text, _ in prepared if text is not None]))
    languages = [None if text is None else next(detected) for text, _ in prepared]
    return [_verdict(language, letters, count) for language, (_, letters) in zip(languages, prepared, strict=True)]


class _LanguageFn(PairFilterFn):
    batch_size = 1024  # lingua splits a batch over its threads; 1,024 prompts take about 0.3 s

    def __init__(self, min_letters: int, languages: tuple[str, ...] | None) -> None:
        super().__init__(STAGE)
        self._min_letters, self._languages = min_letters, languages

    def setup(self) -> None:
        super().setup()
        self._detector = build_detector(self._languages)

    def check(self, pair: PairRecord) -> RejectRecord | None:
        problem = language_reject(pair.input, self._detector, self._min_letters, self._count)
        return None if problem is None else self.reject(pair, *problem)

    def check_batch(self, pairs: list[PairRecord]) -> list[RejectRecord | None]:
        problems = language_rejects([pair.input for pair in pairs], self._detector, self._min_letters, self._count)
        return [
            None if problem is None else self.reject(pair, *problem)
            for pair, problem in zip(pairs, problems, strict=True)
        ]


@dataclasses.dataclass
class FilterLanguage(beam.PTransform):
    """Rejects pairs whose prompt is not English; see the module docstring.

    Outputs (`StageOutputs`): `main` (kept `PairRecord`s), `rejected`
    (`RejectRecord`s, reasons `not_english` and `language_failed`), one report.

    Attributes:
        min_letters: the fewest letters of prose needed to decide; fewer keeps the pair.
        languages: lingua `Language` names to choose among (must include ENGLISH),
            or None for all 75 (about 1.3 GB).
        threshold: the share of failed pairs above which the job fails (a bug).
    """

    min_letters: int = 20
    languages: tuple[str, ...] | None = CURATED_LANGUAGES
    threshold: float = 0.05

    def __post_init__(self) -> None:
        if self.languages is not None and "ENGLISH" not in self.languages:
            raise ValueError("languages must include ENGLISH")

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns StageOutputs
        fn = _LanguageFn(self.min_letters, self.languages)
        return apply_pair_filter(pairs, fn, LANGUAGE_FAILED, self.threshold)
