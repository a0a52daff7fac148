"""Pair collator: right-pads chosen and rejected sequences into tensors.

Chosen and rejected are padded independently, each to its own batch maximum
(optionally rounded up to a multiple). For each side the batch holds:

* `{side}_input_ids` (long, pad id after the real tokens),
* `{side}_attention_mask` (long, 1 on real tokens),
* `{side}_last_index` (long, index of the last real token: the reward read-out),

and for the chosen side also `chosen_lm_mask` (bool, True on response tokens,
i.e. real tokens at positions >= prompt length), the targets of the LM loss.
"""

__all__ = ["PairCollator", "pad_right"]

import dataclasses
from collections.abc import Sequence

import torch

from trainer.tokenization import EncodedPair


def pad_right(rows: Sequence[Sequence[int]], pad_value: int, multiple_of: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pads integer rows into a matrix.

    Args:
        rows: Token-id rows (each non-empty).
        pad_value: Fill value after each row.
        multiple_of: Round the padded width up to a multiple of this.

    Returns:
        `(values, mask)`: long tensors of shape `[len(rows), width]`.
    """
    width = max(len(row) for row in rows)
    width = -(-width // multiple_of) * multiple_of
    values = torch.full((len(rows), width), pad_value, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        values[i, : len(row)] = torch.as_tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return values, mask


@dataclasses.dataclass(frozen=True)
class PairCollator:
    """Builds a training batch from `EncodedPair`s.

    Attributes:
        pad_token_id: Id written into padding positions.
        pad_to_multiple_of: Round each side's width up to a multiple of this.
    """

    pad_token_id: int
    pad_to_multiple_of: int = 1

    def __call__(self, pairs: Sequence[EncodedPair]) -> dict[str, torch.Tensor]:
        """Collates pairs into the tensors listed in the module docstring.

        Args:
            pairs: A non-empty list of encoded pairs.

        Returns:
            A dict of tensors.
        """
        if not pairs:
            raise ValueError("cannot collate an empty batch")
        batch: dict[str, torch.Tensor] = {}
        for side in ("chosen", "rejected"):
            sequences = [getattr(pair, side) for pair in pairs]
            ids, mask = pad_right([s.input_ids for s in sequences], self.pad_token_id, self.pad_to_multiple_of)
            batch[f"{side}_input_ids"] = ids
            batch[f"{side}_attention_mask"] = mask
            batch[f"{side}_last_index"] = mask.sum(dim=1) - 1
            if side == "chosen":
                positions = torch.arange(ids.shape[1]).unsqueeze(0)
                starts = torch.tensor([s.prompt_length for s in sequences]).unsqueeze(1)
                batch["chosen_lm_mask"] = (positions >= starts) & mask.bool()
        return batch
