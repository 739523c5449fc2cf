"""The zoo's networks: registered as `fsr.models` entry points, built from their presets, trained
by fsr's fold-batched engine, and (facesleuth-public) its SOA as the public code computes it."""

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from fsr_cli.model.config import load_preset
from fsr_cli.model.network import build_model
from fsr_cli.model.plugin_net import check_plugin
from fsr_cli.model.plugins import entry_points
from fsr_cli.model.toy import toy_flows
from fsr_cli.train.engine import FitConfig, Fold, fit_folds

ZOO = ["offapexnet", "facesleuth-public", "dual-inception", "rcn-a", "sssnet", "htnet"]


@pytest.mark.parametrize("name", ZOO)
def test_every_zoo_model_is_an_installed_plugin_that_fsr_trains(name):
    assert name in entry_points()  # pyproject.toml registers them, as any package would
    cfg = load_preset(name)
    check_plugin(build_model(cfg))
    toy = toy_flows(n_samples=48, n_groups=4, noise=0.3, seed=1)
    fit = FitConfig.from_model(cfg, seed=0, epochs=2, batch_size=16)
    folds = [Fold("a", np.arange(24, 48), np.arange(24)), Fold("b", np.arange(24), np.arange(24, 48))]
    results = fit_folds(cfg, fit, flow=toy["flow"], app=toy["app"], y=toy["y"], folds=folds)
    assert [r.test_probs.shape for r in results] == [(24, 3), (24, 3)]
    assert all(np.isfinite(r.test_probs).all() for r in results)


def test_the_public_soa_turns_the_map_as_affine_grid_does_and_starts_at_72_degrees():
    from fsr_cli.model.zoo.facesleuth_public import PublicSOA

    soa = PublicSOA(8)
    assert math.degrees(float(soa.theta().detach())) == pytest.approx(72.0, abs=1e-4)
    x = torch.randn(2, 8, 7, 9)
    t = soa.theta().detach()
    c, s = torch.cos(t), torch.sin(t)
    turn = torch.stack([torch.stack([c, s, 0 * t]), torch.stack([-s, c, 0 * t])]).expand(2, 2, 3)
    grid = F.affine_grid(turn, [2, 8, 7, 9], align_corners=False)
    pooled = F.grid_sample(x, grid, align_corners=False).mean(3, keepdim=True)
    gate = torch.sigmoid(soa.excite(F.relu(soa.squeeze(pooled))))
    torch.testing.assert_close(soa(x), x * gate, atol=1e-5, rtol=1e-5)
    model = build_model(load_preset("facesleuth-public"))
    assert model.thetas_deg() == pytest.approx([72.0] * 3, abs=1e-4)
