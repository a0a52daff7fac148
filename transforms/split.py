r"""Assign each pair to `train` or `validation` by a stable hash of its prompt.

The split key is the pair's normalised prompt: its word tokens as in
`transforms.decontaminate.tokens` (NFKC, lowercase, runs of `\w`), joined by
single spaces, so prompts that differ only in case, spacing or punctuation share
a split. When the prompt has no tokens (commit pairs before instruction
synthesis) the normalised chosen code is the key instead. The key, prefixed by
the `salt` and a NUL, is hashed with SHA-256; the first 8 bytes, read as an
unsigned big-endian integer and divided by 2^64, give a point in [0, 1)
(`transforms.hashing.stable_unit`), and
pairs with a point below `validation_fraction` go to validation. The same prompt
therefore never lands in two splits, and the assignment is the same in every
process and on every runner. Changing `salt` redraws the split.

`validation_fraction` defaults to 0.02 (2 %): enough rows to watch a reward
model's validation accuracy on a dataset of tens of thousands of pairs while
leaving almost all data for training; 0 puts every pair in train.

`SplitPairs`: PCollection[PairRecord] → `SplitOutputs(train, validation)`.
A split stage has no rejects. Counters (`codepref.split`): `in`, `out` and
`split:<name>`; `in == out`.
"""

__all__ = ["SPLITS", "STAGE", "TRAIN", "VALIDATION", "SplitOutputs", "SplitPairs", "split_key", "split_of"]

import dataclasses
from typing import NamedTuple

import apache_beam as beam

from schemas.records import PairRecord
from transforms.decontaminate import tokens
from transforms.hashing import stable_unit
from transforms.metrics import beam_counter


STAGE = "split"
TRAIN = "train"
VALIDATION = "validation"
SPLITS = (TRAIN, VALIDATION)
DEFAULT_VALIDATION_FRACTION = 0.02


def split_key(pair: PairRecord) -> str:
    """The normalised prompt of `pair`, or its normalised chosen code when the prompt has no words."""
    key = " ".join(tokens(pair.input or ""))
    return key or " ".join(tokens(pair.chosen or ""))


def _check_fraction(fraction: float) -> None:
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1], got {fraction}")


def split_of(pair: PairRecord, validation_fraction: float = DEFAULT_VALIDATION_FRACTION, salt: str = "") -> str:
    """Returns `train` or `validation` for `pair`, stably; see the module docstring.

    Raises:
        ValueError: `validation_fraction` is outside [0, 1].
    """
    _check_fraction(validation_fraction)
    if validation_fraction == 0.0:
        return TRAIN
    point = stable_unit(f"{salt}\0{split_key(pair)}")
    return VALIDATION if point < validation_fraction else TRAIN


class SplitOutputs(NamedTuple):
    """Outputs of `SplitPairs`: one PCollection of `PairRecord`s per split."""

    train: beam.PCollection
    validation: beam.PCollection


class _AssignSplitFn(beam.DoFn):
    def __init__(self, validation_fraction: float, salt: str) -> None:
        self._fraction, self._salt = validation_fraction, salt

    def setup(self) -> None:
        self._count = beam_counter(STAGE)

    def process(self, pair: PairRecord):
        split = split_of(pair, self._fraction, self._salt)
        self._count("in", 1)
        self._count("out", 1)
        self._count(f"split:{split}", 1)
        yield pair if split == TRAIN else beam.pvalue.TaggedOutput(split, pair)


@dataclasses.dataclass
class SplitPairs(beam.PTransform):
    """Splits pairs into train and validation by prompt hash; see the module docstring.

    Outputs: `train` and `validation`, the pairs of each split. No rejects.

    Attributes:
        validation_fraction: the share of prompts sent to validation, in [0, 1].
        salt: any string; changing it redraws which prompts go to validation.
    """

    validation_fraction: float = DEFAULT_VALIDATION_FRACTION
    salt: str = ""

    def __post_init__(self) -> None:
        _check_fraction(self.validation_fraction)

    def expand(self, pairs: beam.PCollection[PairRecord]):  # returns SplitOutputs
        out = pairs | "AssignSplit" >> beam.ParDo(_AssignSplitFn(self.validation_fraction, self.salt)).with_outputs(
            VALIDATION, main=TRAIN
        )
        return SplitOutputs(out[TRAIN], out[VALIDATION])
