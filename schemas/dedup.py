"""Configuration of exact and near deduplication (validated, frozen, YAML-friendly)."""

__all__ = ["CONTENT_DEDUP", "PAIR_DEDUP", "DedupConfig"]

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DedupConfig(BaseModel):
    """How rows are deduplicated.

    Attributes:
        columns: the text columns whose concatenation is compared.
        ngram: word n-gram size of the shingles.
        threshold: Jaccard similarity at and above which two rows are duplicates.
        num_perm: MinHash permutations.
        seed: the permutations' seed (datasketch-compatible).
        fp_weight: weight of false positives in the choice of bands and rows.
        fn_weight: weight of false negatives in that choice. Candidates are verified
            with exact Jaccard, so false positives only cost time: the default
            favours recall (0.1 / 0.9).
        verify: `exact` keeps a candidate edge only if the exact Jaccard of the two
            shingle sets reaches the threshold; `none` trusts the LSH bands alone
            (the Themis/BigCode behaviour).
        rounds: Large-Star/Small-Star rounds before the exact finishing step.
        id_column: the column naming a row in `duplicate_of` (None: the content hash).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: tuple[str, ...] = ("input", "chosen", "rejected")
    ngram: int = Field(20, ge=1)
    threshold: float = Field(0.75, gt=0.0, lt=1.0)
    num_perm: int = Field(256, ge=2, le=1024)
    seed: int = 77
    fp_weight: float = Field(0.1, ge=0.0)
    fn_weight: float = Field(0.9, ge=0.0)
    verify: Literal["exact", "none"] = "exact"
    rounds: int = Field(3, ge=0, le=20)
    id_column: str | None = "idx"

    @model_validator(mode="after")
    def _check(self) -> "DedupConfig":
        if not self.columns:
            raise ValueError("columns must name at least one column")
        if self.fp_weight + self.fn_weight <= 0:
            raise ValueError("fp_weight + fn_weight must be positive")
        return self


PAIR_DEDUP = DedupConfig()
"""Final pairs: prompt + chosen + rejected, word 20-grams, Jaccard 0.75 (paper §2.11)."""

CONTENT_DEDUP = DedupConfig(columns=("old_contents", "new_contents"), ngram=5, threshold=0.7, id_column="commit")
"""Commit contents: word 5-grams over old + new contents, Jaccard 0.7 (paper §2.5, which runs each column alone)."""
