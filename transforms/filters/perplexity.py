"""Stage `perplexity_filter` (optional, off by default): drops prompts a KenLM model finds unlikely.

`FilterPerplexity`: PCollection[PairRecord] → `transforms.manifest.StageOutputs` (`main`, `rejected`, one report).
It needs a KenLM model file (`.arpa` or `.bin`) and the `kenlm` package, which
is not a project dependency (`pip install kenlm`, which compiles C++): a
pipeline applies this stage only when it is given a model path.

The prompt is scored as one sentence: its prose (`language.extract_prose`:
code blocks, inline code, URLs and identifiers removed, since a language model
of text cannot judge code), lowercased and split on whitespace, joined by single
spaces. Perplexity is KenLM's: `10 ** (-log10 P(sentence, with <s> and </s>) /
(words + 1))`. The model should be trained on text normalised the same way
(lowercased, whitespace-tokenised) for the threshold to mean anything; the
default of 1200 is the Themis paper's. A prompt with no prose words is kept
(counter `undecided`).

Reasons: `high_perplexity` (detail `"perplexity 1834 > 1200"`),
`perplexity_failed` (scoring raised). Counters (namespace
`codepref.perplexity_filter`): `in`, `out`, `rejected:<reason>`,
`error:<exc_type>`, `undecided`.
"""

__all__ = ["FilterPerplexity", "load_kenlm", "normalize_prompt", "perplexity", "perplexity_reject"]

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import apache_beam as beam

from schemas.records import PairRecord, RejectRecord
from transforms.filters import PairFilterFn, apply_pair_filter
from transforms.filters.language import extract_prose


STAGE = "perplexity_filter"
HIGH_PERPLEXITY = "high_perplexity"
PERPLEXITY_FAILED = "perplexity_failed"
UNDECIDED = "undecided"


def normalize_prompt(prompt: str) -> str:
    """Returns the prompt's prose, lowercased, with words joined by single spaces."""
    return " ".join(extract_prose(prompt).lower().split())


def perplexity(sentence: str, scorer: Any) -> float:
    """Returns KenLM's perplexity of a normalised sentence.

    Args:
        sentence: words separated by single spaces.
        scorer: anything with KenLM's `score(sentence, bos=True, eos=True) -> log10 probability`.
    """
    words = len(sentence.split())
    return 10.0 ** (-scorer.score(sentence, bos=True, eos=True) / (words + 1))


def perplexity_reject(
    prompt: str, scorer: Any, max_perplexity: float = 1200.0, count: Callable[[str, int], None] | None = None
) -> tuple[str, str] | None:
    """Returns `(high_perplexity, detail)` when the prompt's perplexity is over the limit, else None.

    Args:
        prompt: the pair's `input`.
        scorer: as for `perplexity`.
        max_perplexity: the highest perplexity kept.
        count: called as `count("undecided", 1)` for a prompt without prose.
    """
    sentence = normalize_prompt(prompt)
    if not sentence:
        if count is not None:
            count(UNDECIDED, 1)
        return None
    value = perplexity(sentence, scorer)
    return (HIGH_PERPLEXITY, f"perplexity {value:.0f} > {max_perplexity:g}") if value > max_perplexity else None


def load_kenlm(model_path: str) -> Any:
    """Loads a KenLM model, importing `kenlm` only now.

    Raises:
        ImportError: `kenlm` is not installed.
        ValueError: the model file does not exist.
    """
    if not os.path.isfile(model_path):
        raise ValueError(f"KenLM model {model_path} not found: give a local .arpa or .bin file")
    try:
        import kenlm
    except ImportError as error:
        raise ImportError("perplexity_filter needs the kenlm package: pip install kenlm") from error
    return kenlm.Model(model_path)


class _PerplexityFn(PairFilterFn):
    def __init__(self, model_path: str, max_perplexity: float) -> None:
        super().__init__(STAGE)
        self._model_path, self._max_perplexity = model_path, max_perplexity

    def setup(self) -> None:
        super().setup()
        self._scorer = load_kenlm(self._model_path)

    def check(self, pair: PairRecord) -> RejectRecord | None:
        problem = perplexity_reject(pair.input, self._scorer, self._max_perplexity, self._count)
        return None if problem is None else self.reject(pair, *problem)


@dataclasses.dataclass
class FilterPerplexity(beam.PTransform):
    """Rejects pairs whose prompt's KenLM perplexity is too high; see the module docstring.

    Outputs (`StageOutputs`): `main` (kept `PairRecord`s), `rejected`
    (`RejectRecord`s, reasons `high_perplexity` and `perplexity_failed`), one report.

    Attributes:
        model_path: a local KenLM model (`.arpa` or `.bin`).
        max_perplexity: the highest perplexity kept (Themis: 1200).
        threshold: the share of failed pairs above which the job fails (a bug).
    """

    model_path: str
    max_perplexity: float = 1200.0
    threshold: float = 0.05

    def __post_init__(self) -> None:
        if not os.path.isfile(self.model_path):
            raise ValueError(f"KenLM model {self.model_path} not found: give a local .arpa or .bin file")

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns StageOutputs
        fn = _PerplexityFn(self.model_path, self.max_perplexity)
        return apply_pair_filter(pairs, fn, PERPLEXITY_FAILED, self.threshold)
