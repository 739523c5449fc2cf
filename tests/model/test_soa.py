import math

import pytest
import torch
from torch import nn

from fsr_cli.model.soa import SOA, soft_bins, theta_to_deg


def row_attention(x: torch.Tensor, conv: nn.Conv1d) -> torch.Tensor:
    """Fixed vertical attention written independently: mean of each row -> standardise over the
    rows -> conv -> sigmoid -> broadcast along the rows -> residual reweighting."""
    rows = x.mean(dim=3)  # (B, C, H)
    z = (rows - rows.mean(-1, keepdim=True)) / torch.sqrt(rows.var(-1, unbiased=False, keepdim=True) + 1e-4)
    a = torch.sigmoid(conv(z))  # (B, C, H)
    return x * (1 + a[..., None])


@pytest.mark.parametrize("learn", [True, False])
@pytest.mark.parametrize("hw", [(7, 7), (14, 14), (9, 12)])
def test_soa_at_90_degrees_is_row_attention(learn, hw):
    torch.manual_seed(0)
    soa = SOA(channels=5, theta_init_deg=90.0, learn_theta=learn)
    x = torch.randn(3, 5, *hw)
    torch.testing.assert_close(soa(x), row_attention(x, soa.conv), atol=1e-5, rtol=1e-5)


def test_soa_at_0_degrees_is_column_attention():
    torch.manual_seed(0)
    soa = SOA(channels=4, theta_init_deg=0.0, bins=10)
    x = torch.randn(2, 4, 10, 10)
    ref = row_attention(x.transpose(2, 3), soa.conv).transpose(2, 3)
    torch.testing.assert_close(soa(x), ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("deg", [0.0, 17.0, 45.0, 90.0, 123.4, 170.0])
def test_soft_bins_are_a_partition_of_unity(deg):
    w = soft_bins(torch.tensor(math.radians(deg)), height=11, width=13, bins=11)
    assert w.shape == (11, 11 * 13)
    assert (w >= 0).all()
    torch.testing.assert_close(w.sum(0), torch.ones(11 * 13))


@pytest.mark.parametrize("deg", [0.0, 45.0, 90.0, 123.4])
def test_blurred_bins_widen_towards_a_ramp_and_blur_0_is_exact(deg):
    theta = torch.tensor(math.radians(deg))
    exact = soft_bins(theta, height=11, width=13, bins=11)
    torch.testing.assert_close(soft_bins(theta, height=11, width=13, bins=11, blur=0.0), exact)
    reach = [
        (soft_bins(theta, height=11, width=13, bins=11, blur=b) > 0).sum(1).float().mean()
        for b in (0, 0.5, 1)
    ]
    assert reach[0] < reach[1] < reach[2]  # each bin covers more of the map as the blur grows
    # at blur 1 the outermost bins still differ: the profile keeps a direction along t
    w = soft_bins(theta, height=11, width=13, bins=11, blur=1.0)
    assert (w[0] - w[-1]).abs().max() > 0.5


def test_soa_with_blur_keeps_the_signal_and_a_gradient_for_theta():
    torch.manual_seed(0)
    soa = SOA(channels=3, theta_init_deg=30.0).double()
    soa.blur = 0.7
    x = torch.randn(2, 3, 14, 14, dtype=torch.float64)
    _, w = soa.profile(x)
    torch.testing.assert_close(w.sum(0), torch.ones(14 * 14, dtype=torch.float64))  # renormalised
    gate = soa.gate(x)
    assert ((gate >= 0) & (gate <= 1)).all()
    (g,) = torch.autograd.grad((soa(x) * x).sum(), [soa.theta])
    assert abs(g.item()) > 1e-3
    soa.blur = 0.0
    torch.testing.assert_close(soa.profile(x)[1], soft_bins(soa.theta, height=14, width=14, bins=14))


@pytest.mark.parametrize("deg", [23.0, 61.3, 88.0, 137.0])
def test_gradient_reaches_theta_and_matches_finite_differences(deg):
    torch.manual_seed(1)
    soa = SOA(channels=3, theta_init_deg=deg).double()
    x, target = torch.randn(2, 3, 14, 14, dtype=torch.float64), torch.randn(2, 3, 14, 14, dtype=torch.float64)
    loss = (soa(x) * target).sum()
    (g,) = torch.autograd.grad(loss, [soa.theta])
    assert abs(g.item()) > 1e-3
    h = 1e-6
    with torch.no_grad():
        soa.theta += h
        up = (soa(x) * target).sum()
        soa.theta -= 2 * h
        down = (soa(x) * target).sum()
    assert g.item() == pytest.approx(((up - down) / (2 * h)).item(), rel=1e-3, abs=1e-6)


@pytest.mark.parametrize("deg", [0.0, 45.0, 90.0])
def test_gradient_is_nonzero_at_kinks(deg):
    # At these angles pixels sit exactly on bin centres (kinks of the triangular weights);
    # autograd then takes a one-sided slope, which must not vanish.
    torch.manual_seed(2)
    soa = SOA(channels=3, theta_init_deg=deg)
    x, target = torch.randn(2, 3, 14, 14), torch.randn(2, 3, 14, 14)
    (g,) = torch.autograd.grad((soa(x) * target).sum(), [soa.theta])
    assert abs(g.item()) > 1e-3


def test_fixed_theta_is_a_buffer():
    soa = SOA(channels=2, theta_init_deg=90.0, learn_theta=False)
    assert "theta" not in dict(soa.named_parameters())
    assert "theta" in soa.state_dict()
    assert soa.theta_deg() == 90.0


def test_theta_is_reported_modulo_180():
    assert theta_to_deg(torch.tensor(math.radians(-10.0))) == pytest.approx(170.0)
    assert theta_to_deg(torch.tensor(math.radians(270.0))) == pytest.approx(90.0)
