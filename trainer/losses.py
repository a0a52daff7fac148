"""Pure loss and schedule functions of the Bradley-Terry reward model.

The objective (paper-facts §4.1, §7.2) is

    total = BT + lambda_lm * LM + mu * MAG

* `bt_loss`: Bradley-Terry, `mean(-log sigmoid(r_c - r_r))`;
* `response_nll`: token-mean negative log-likelihood of the chosen response
  tokens (behaviour cloning); skipped entirely when `lambda_lm == 0`;
* `magnitude_penalty`: `centered` is the paper's `(r_c + r_r)^2`, `abs` the
  reference code's `(|r_c| + |r_r|)^2`; both are batch means.

Metrics returned beside the loss: mean chosen/rejected reward, mean margin
`r_c - r_r`, and accuracy `mean(r_c > r_r)` (strict: ties count as wrong).
All reductions are done in float32.
"""

__all__ = [
    "MAGNITUDE_FORMS",
    "LossOutput",
    "bt_loss",
    "cosine_with_warmup",
    "magnitude_penalty",
    "response_nll",
    "reward_loss",
]

import dataclasses
import math

import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias

from trainer.config import MAGNITUDE_FORMS


def bt_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """Bradley-Terry loss `mean(-log sigmoid(r_chosen - r_rejected))`.

    Args:
        r_chosen: Rewards of the chosen responses, shape `[B]`.
        r_rejected: Rewards of the rejected responses, shape `[B]`.

    Returns:
        A scalar float32 tensor.
    """
    return -F.logsigmoid(r_chosen.float() - r_rejected.float()).mean()


def magnitude_penalty(r_chosen: torch.Tensor, r_rejected: torch.Tensor, form: str = "centered") -> torch.Tensor:
    """Reward magnitude penalty, a batch mean.

    Args:
        r_chosen: Rewards of the chosen responses, shape `[B]`.
        r_rejected: Rewards of the rejected responses, shape `[B]`.
        form: `centered` for `(r_c + r_r)^2` (keeps rewards centred on zero) or
            `abs` for `(|r_c| + |r_r|)^2` (keeps them small).

    Returns:
        A scalar float32 tensor.

    Raises:
        ValueError: If `form` is unknown.
    """
    r_c, r_r = r_chosen.float(), r_rejected.float()
    if form == "centered":
        return ((r_c + r_r) ** 2).mean()
    if form == "abs":
        return ((r_c.abs() + r_r.abs()) ** 2).mean()
    raise ValueError(f"unknown magnitude form {form!r}; expected one of {MAGNITUDE_FORMS}")


def response_nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Token-mean cross-entropy of next-token logits against their targets.

    Args:
        logits: `[N, V]` logits, one row per predicted response token.
        targets: `[N]` token ids.

    Returns:
        A scalar float32 tensor; zero (still attached to the graph) when `N == 0`.
    """
    if targets.numel() == 0:
        return logits.float().sum() * 0.0
    return F.cross_entropy(logits.float(), targets)


@dataclasses.dataclass(frozen=True)
class LossOutput:
    """Total loss, its parts and batch metrics (all scalar tensors).

    Attributes:
        total: The optimised loss.
        bt: Bradley-Terry part.
        lm: LM part (zero when not computed).
        magnitude: Magnitude penalty part (before weighting).
        margin: Mean `r_c - r_r`.
        accuracy: Mean of `r_c > r_r`.
        chosen_mean: Mean chosen reward.
        rejected_mean: Mean rejected reward.
    """

    total: torch.Tensor
    bt: torch.Tensor
    lm: torch.Tensor
    magnitude: torch.Tensor
    margin: torch.Tensor
    accuracy: torch.Tensor
    chosen_mean: torch.Tensor
    rejected_mean: torch.Tensor

    def metrics(self) -> dict[str, float]:
        """Returns the parts as floats keyed like the training log."""
        return {
            "loss/total": float(self.total.detach()),
            "loss/bt": float(self.bt.detach()),
            "loss/lm": float(self.lm.detach()),
            "loss/mag": float(self.magnitude.detach()),
            "reward/chosen_mean": float(self.chosen_mean.detach()),
            "reward/rejected_mean": float(self.rejected_mean.detach()),
            "reward/margin": float(self.margin.detach()),
            "reward/accuracy": float(self.accuracy.detach()),
        }


def reward_loss(
    r_chosen: torch.Tensor,
    r_rejected: torch.Tensor,
    *,
    lm: torch.Tensor | None = None,
    lambda_lm: float = 0.0,
    mu: float = 0.0,
    magnitude_form: str = "centered",
) -> LossOutput:
    """Combines the loss parts: `bt + lambda_lm * lm + mu * magnitude`.

    Args:
        r_chosen: Rewards of the chosen responses, shape `[B]`.
        r_rejected: Rewards of the rejected responses, shape `[B]`.
        lm: Response NLL from `response_nll`, or None when not computed.
        lambda_lm: LM (behaviour cloning) weight.
        mu: Magnitude penalty weight.
        magnitude_form: `centered` or `abs` (see `magnitude_penalty`).

    Returns:
        The loss and metrics.
    """
    bt = bt_loss(r_chosen, r_rejected)
    magnitude = magnitude_penalty(r_chosen, r_rejected, magnitude_form)
    total = bt + mu * magnitude
    if lm is not None and lambda_lm:
        total = total + lambda_lm * lm
    lm_value = lm.float() if lm is not None else torch.zeros((), device=bt.device)
    with torch.no_grad():
        diff = r_chosen.float() - r_rejected.float()
        margin = diff.mean()
        accuracy = (diff > 0).float().mean()
        chosen_mean = r_chosen.float().mean()
        rejected_mean = r_rejected.float().mean()
    return LossOutput(total, bt, lm_value, magnitude, margin, accuracy, chosen_mean, rejected_mean)


def cosine_with_warmup(step: int, *, warmup_steps: int, total_steps: int, min_lr_ratio: float = 0.0) -> float:
    """LR multiplier: linear warmup to 1, then cosine decay to `min_lr_ratio`.

    Args:
        step: Optimizer steps taken so far.
        warmup_steps: Steps of linear warmup.
        total_steps: Total optimizer steps.
        min_lr_ratio: Terminal LR as a fraction of the peak.

    Returns:
        The multiplier in `[0, 1]`.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / span, 1.0)
    return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
