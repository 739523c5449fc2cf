import pytest
import torch

from fsr_cli.errors import UsageError
from fsr_cli.model.config import list_presets, load_preset
from fsr_cli.model.network import build_model, count_params
from fsr_cli.model.soa import SOA

N_SOA = {  # SOA blocks per preset
    "facesleuth-r": 3,
    "facesleuth-r-search": 3,
    "cva": 3,
    "no-orientation": 0,
    "motion-only": 3,
    "appearance-only": 0,
}
PRESETS = list(N_SOA)


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
    for i, m in enumerate(maps):  # a 2x max-pool (ceil) before each of stages 2..motion_pools+1
        s = -(-side // 2 ** min(i, cfg.motion_pools))
        assert m.shape == (2, s, s)
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
    # the same network on the grid readout without SOA differs by the SOA blocks and the
    # readout's width only
    grid = load_preset("facesleuth-r", soa="none", readout="grid")
    readout_in = model.motion.out_dim - build_model(grid).motion.out_dim
    assert total - count_params(build_model(grid)) == soa + readout_in * grid.fuse_dim


def test_theta_starts_at_random_reproducibly_or_at_the_given_angle():
    assert build_model(load_preset("facesleuth-r")).thetas_deg() == [90.0] * 3  # the default starts vertical
    cfg = load_preset("facesleuth-r-search")
    assert cfg.theta_init_deg is None

    def start(seed: int) -> list[float]:
        torch.manual_seed(seed)
        return build_model(cfg).thetas_deg()

    assert start(0) == start(0) != start(1)
    # one draw per model: every layer starts at the same orientation
    assert len(set(start(0))) == 1 and all(0 <= t < 180 for t in start(0) + start(1))
    assert build_model(load_preset("facesleuth-r", theta_init_deg=30.0)).thetas_deg() == [30.0] * 3
    assert build_model(load_preset("cva")).thetas_deg() == [90.0] * 3


def test_profile_readout_at_90_degrees_is_the_row_means_of_every_stage():
    torch.manual_seed(0)
    model = build_model(load_preset("facesleuth-r", theta_init_deg=90.0, readout="profile")).eval()
    flow = torch.randn(2, 3, 28, 28)
    maps = model.motion.features(flow)
    rows = torch.cat([m.mean(dim=3).flatten(1) for m in maps], dim=1)  # (B, sum C_i * H_i)
    torch.testing.assert_close(model.motion(flow), rows, atol=1e-5, rtol=1e-5)
    # the angle acts on the classifier's input directly, not only through the gates
    with torch.no_grad():
        for soa in model.soa_layers():
            soa.theta.fill_(0.0)  # columns instead of rows
    cols = torch.cat([m.mean(dim=2).flatten(1) for m in model.motion.features(flow)], dim=1)
    torch.testing.assert_close(model.motion(flow), cols, atol=1e-5, rtol=1e-5)


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


def test_per_sample_flow_standardisation_ignores_each_samples_gain_and_offset():
    torch.manual_seed(0)
    flow, app = torch.randn(2, 3, 28, 28), torch.randn(2, 1, 32, 32)
    models = {
        norm: build_model(load_preset("facesleuth-r", flow_norm=norm)).eval()
        for norm in ("fold", "sample", "median")
    }
    gain = torch.tensor([3.0, 0.2]).view(2, 1, 1, 1)  # one gain and offset per sample and channel
    changed = flow * gain + torch.randn(2, 3, 1, 1)
    with torch.no_grad():
        for norm in ("sample", "median"):
            torch.testing.assert_close(
                models[norm](flow, app), models[norm](changed, app), atol=1e-4, rtol=1e-4
            )
        assert (
            models["fold"](flow, app) - models["fold"](changed, app)
        ).abs().max() > 1e-3  # not so without it
    with pytest.raises(UsageError, match="flow_norm"):
        load_preset("facesleuth-r", flow_norm="dataset")


def test_median_standardisation_leaves_the_still_face_at_zero():
    from fsr_cli.model.network import standardise_maps

    still = torch.full((1, 3, 28, 28), 0.7)  # head drift: a constant offset on every map ...
    still[..., 10:14, 12:18] += 5.0  # ... and one local motion
    background = standardise_maps(still, median=True)[..., :5, :5]
    torch.testing.assert_close(background, torch.zeros_like(background))  # the still face is 0
    assert standardise_maps(still)[..., :5, :5].abs().min() > 0.05  # the mean moves with the motion
