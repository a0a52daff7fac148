"""Pure loss functions and the LR schedule against hand-computed values."""

import math

import pytest
import torch

from trainer.losses import (
    bt_loss,
    cosine_with_warmup,
    magnitude_penalty,
    response_nll,
    reward_loss,
)


R_C = torch.tensor([1.0, -0.5, 2.0])
R_R = torch.tensor([0.0, 0.5, 2.0])


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def test_bt_loss_hand_computed():
    expected = -(_log_sigmoid(1.0) + _log_sigmoid(-1.0) + _log_sigmoid(0.0)) / 3
    assert float(bt_loss(R_C, R_R)) == pytest.approx(expected, rel=1e-6)
    assert float(bt_loss(torch.zeros(4), torch.zeros(4))) == pytest.approx(math.log(2), rel=1e-6)


def test_magnitude_centered_and_abs():
    # centered: (1+0)^2, (-0.5+0.5)^2, (2+2)^2 -> (1 + 0 + 16) / 3
    assert float(magnitude_penalty(R_C, R_R, "centered")) == pytest.approx(17 / 3)
    # abs: (1+0)^2, (0.5+0.5)^2, (2+2)^2 -> (1 + 1 + 16) / 3
    assert float(magnitude_penalty(R_C, R_R, "abs")) == pytest.approx(18 / 3)
    with pytest.raises(ValueError):
        magnitude_penalty(R_C, R_R, "square")


def test_response_nll_matches_manual_and_handles_empty():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    targets = torch.tensor([0, 2])
    manual = -(math.log(math.exp(2) / (math.exp(2) + 2)) + math.log(1 / (math.e + 2))) / 2
    assert float(response_nll(logits, targets)) == pytest.approx(manual, rel=1e-6)
    empty = torch.zeros((0, 3), requires_grad=True)
    value = response_nll(empty, torch.zeros(0, dtype=torch.long))
    assert float(value.detach()) == 0.0
    value.backward()  # still part of the graph


def test_reward_loss_combines_parts_and_metrics():
    lm = torch.tensor(2.5)
    out = reward_loss(R_C, R_R, lm=lm, lambda_lm=0.25, mu=0.01, magnitude_form="abs")
    expected_bt = float(bt_loss(R_C, R_R))
    assert float(out.total) == pytest.approx(expected_bt + 0.25 * 2.5 + 0.01 * 6.0, rel=1e-6)
    assert float(out.lm) == 2.5
    assert float(out.margin) == pytest.approx((1.0 - 1.0 + 0.0) / 3)
    # the tie (2.0 vs 2.0) counts as wrong: only the first pair is right
    assert float(out.accuracy) == pytest.approx(1 / 3)
    metrics = out.metrics()
    assert set(metrics) == {
        "loss/total",
        "loss/bt",
        "loss/lm",
        "loss/mag",
        "reward/chosen_mean",
        "reward/rejected_mean",
        "reward/margin",
        "reward/accuracy",
    }


def test_reward_loss_without_lm_ignores_lambda():
    out = reward_loss(R_C, R_R, lm=None, lambda_lm=1.0, mu=0.0)
    assert float(out.total) == pytest.approx(float(bt_loss(R_C, R_R)))
    assert float(out.lm) == 0.0


def test_reward_loss_gradient_flows_to_rewards():
    r_c = R_C.clone().requires_grad_()
    r_r = R_R.clone().requires_grad_()
    reward_loss(r_c, r_r, mu=0.1).total.backward()
    # d/dr_c of -log sigma(r_c - r_r) / B is -(1 - sigma(delta)) / B (< 0), plus the centring term
    delta = R_C - R_R
    expected = -(1 - torch.sigmoid(delta)) / 3 + 0.1 * 2 * (R_C + R_R) / 3
    assert torch.allclose(r_c.grad, expected, atol=1e-6)


def test_cosine_with_warmup():
    kwargs = {"warmup_steps": 10, "total_steps": 110, "min_lr_ratio": 0.05}
    assert cosine_with_warmup(0, **kwargs) == pytest.approx(0.1)
    assert cosine_with_warmup(9, **kwargs) == pytest.approx(1.0)
    assert cosine_with_warmup(10, **kwargs) == pytest.approx(1.0)
    assert cosine_with_warmup(60, **kwargs) == pytest.approx(0.05 + 0.95 * 0.5)
    assert cosine_with_warmup(110, **kwargs) == pytest.approx(0.05)
    assert cosine_with_warmup(500, **kwargs) == pytest.approx(0.05)
    values = [cosine_with_warmup(s, **kwargs) for s in range(10, 111)]
    assert values == sorted(values, reverse=True)
