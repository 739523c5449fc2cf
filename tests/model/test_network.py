import pytest
import torch

from fsr_cli.model.config import list_presets, load_preset
from fsr_cli.model.network import build_model, count_params
from fsr_cli.model.soa import SOA

PRESETS = ["facesleuth-r", "cva", "no-orientation", "motion-only", "appearance-only"]
N_SOA = {"facesleuth-r": 3, "cva": 3, "no-orientation": 0, "motion-only": 3, "appearance-only": 0}


def test_all_presets_are_shipped():
    assert set(PRESETS) <= set(list_presets())


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("size", [28, 64])
def test_shapes_for_every_preset(name, size):
    cfg = load_preset(name, flow_size=size)
    torch.manual_seed(0)
    model = build_model(cfg)
    flow, app = torch.randn(2, 3, size, size), torch.randn(2, 1, cfg.app_size, cfg.app_size)
    assert model(flow, app).shape == (2, cfg.n_classes)
    assert len(model.thetas_deg()) == N_SOA[name]
    maps = model.attention_maps(flow, app)
    assert len(maps) == N_SOA[name]
    side = size // cfg.motion_unshuffle
    for i, m in enumerate(maps):
        assert m.shape == (2, -(-side // 2**i), -(-side // 2**i))
        assert (m >= 0).all() and (m <= 1).all()


def test_larger_appearance_input():
    cfg = load_preset("facesleuth-r", app_size=48, n_classes=5)
    model = build_model(cfg)
    assert model(torch.randn(2, 3, 28, 28), torch.randn(2, 1, 48, 48)).shape == (2, 5)


def test_soa_parameter_overhead_is_under_one_percent():
    model = build_model(load_preset("facesleuth-r"))
    soa = sum(p.numel() for m in model.soa_layers() for p in m.parameters())
    total = count_params(model)
    assert soa / total < 0.01
    assert total - count_params(build_model(load_preset("no-orientation"))) == soa


def test_theta_starts_at_the_preset_angle():
    cfg = load_preset("facesleuth-r")
    assert build_model(cfg).thetas_deg() == [cfg.theta_init_deg] * 3
    assert build_model(load_preset("cva")).thetas_deg() == [90.0] * 3


def test_no_orientation_has_no_theta():
    model = build_model(load_preset("no-orientation"))
    assert model.thetas_deg() == []
    assert not any("theta" in k for k in model.state_dict())
    assert not any(isinstance(m, SOA) for m in model.modules())


def test_single_stream_presets_ignore_the_other_input():
    torch.manual_seed(0)
    flow, app = torch.randn(2, 3, 28, 28), torch.randn(2, 1, 32, 32)
    motion = build_model(load_preset("motion-only")).eval()
    torch.testing.assert_close(motion(flow, app), motion(flow, torch.randn_like(app)))
    appearance = build_model(load_preset("appearance-only")).eval()
    torch.testing.assert_close(appearance(flow, app), appearance(torch.randn_like(flow), app))
