import math

import numpy as np
import pytest
import torch

from fsr_cli.errors import UsageError
from fsr_cli.model.config import load_preset
from fsr_cli.model.network import build_model, mirror_flow
from fsr_cli.model.toy import toy_flows
from fsr_cli.train.engine import (
    FitConfig,
    Fold,
    fit_folds,
    fold_norm,
    loss_floor,
    predict_proba,
    soa_blur_at,
)


def group_folds(groups: np.ndarray, n_folds: int) -> list[Fold]:
    ids = np.unique(groups)
    return [
        Fold(f"g{k}", np.where(~np.isin(groups, part))[0], np.where(np.isin(groups, part))[0])
        for k, part in enumerate(np.array_split(ids, n_folds))
    ]


@pytest.fixture(scope="module")
def toy():
    return toy_flows(n_samples=96, n_groups=8, noise=0.3, seed=3)


@pytest.fixture(scope="module")
def small_run(toy):
    """4 folds, 3 epochs of the preset with every mechanism (random starts, blurred bins, tied
    layers, adaptive noise): the run most tests look at."""
    cfg = load_preset("facesleuth-r-search")
    fit = FitConfig.from_model(cfg, seed=7, epochs=3, batch_size=16)
    folds = group_folds(toy["groups"], 4)
    ticks = []
    res = fit_folds(cfg, fit, **_arrays(toy), folds=folds, progress=lambda d, t: ticks.append((d, t)))
    return cfg, fit, folds, res, ticks


def _arrays(d):
    return {"flow": d["flow"], "app": d["app"], "y": d["y"]}


def test_results_shapes_history_and_progress(small_run, toy):
    cfg, fit, folds, res, ticks = small_run
    assert [r.name for r in res] == [f.name for f in folds]
    assert ticks == [(1, 3), (2, 3), (3, 3)]
    for r, f in zip(res, folds, strict=True):
        assert r.test_probs.shape == (len(f.test_idx), 3)
        np.testing.assert_allclose(r.test_probs.sum(1), 1, rtol=1e-5)
        assert [h["epoch"] for h in r.history] == [1, 2, 3]
        assert set(r.history[0]) == {"epoch", "loss", "train_acc", "theta_deg", "flow_noise"}
        assert len(r.history[-1]["theta_deg"]) == 3
        assert r.test_probs_each_epoch is None
        model = build_model(cfg)
        model.load_state_dict(r.state_dict)  # an ordinary per-fold state_dict
        assert model.thetas_deg() == r.history[-1]["theta_deg"]


def test_theta_starts_from_the_fold_seed_and_moves(small_run):
    from fsr_cli.train.engine import fold_seed

    cfg, fit, folds, res, _ = small_run
    starts = []
    for f, r in zip(folds, res, strict=True):
        torch.manual_seed(fold_seed(fit.seed, f.name))  # as the engine builds a fold's model
        start = build_model(cfg).thetas_deg()
        starts.append(start)
        assert max(abs(a - b) for a, b in zip(start, r.history[-1]["theta_deg"], strict=True)) > 0.5
    assert len({tuple(s) for s in starts}) == len(folds)  # every fold starts elsewhere


def test_the_default_angle_starts_vertical_and_is_learned(toy):
    cfg = load_preset("facesleuth-r")
    fit = FitConfig.from_model(cfg, seed=0, epochs=3, batch_size=16)
    (r,) = fit_folds(cfg, fit, **_arrays(toy), folds=group_folds(toy["groups"], 4)[:1])
    assert build_model(cfg).thetas_deg() == [90.0] * 3
    assert all(abs(t - 90.0) > 1e-4 for t in r.history[-1]["theta_deg"])  # a parameter, not a buffer


def test_same_call_twice_is_identical(small_run, toy):
    cfg, fit, folds, res, _ = small_run
    again = fit_folds(cfg, fit, **_arrays(toy), folds=folds)
    for a, b in zip(res, again, strict=True):
        assert np.array_equal(a.test_probs, b.test_probs)
        assert a.history == b.history


def test_chunking_does_not_change_a_fold(small_run, toy):
    cfg, fit, folds, res, _ = small_run
    split = fit_folds(cfg, fit, **_arrays(toy), folds=folds[:1]) + fit_folds(
        cfg, fit, **_arrays(toy), folds=folds[1:]
    )
    for a, b in zip(res, split, strict=True):
        np.testing.assert_allclose(a.test_probs, b.test_probs, atol=1e-4)
        np.testing.assert_allclose(a.history[-1]["theta_deg"], b.history[-1]["theta_deg"], atol=1e-3)


def test_a_short_fold_trains_the_same_beside_longer_ones(toy):
    # A fold with fewer steps per epoch sits out the chunk's extra steps (masked loss and update).
    cfg = load_preset("facesleuth-r")
    fit = FitConfig.from_model(cfg, seed=1, epochs=2, batch_size=16)
    short = Fold("short", np.arange(20), np.arange(80, 96))
    long_ = Fold("long", np.arange(0, 80), np.arange(80, 96))
    (alone,) = fit_folds(cfg, fit, **_arrays(toy), folds=[short])
    together = fit_folds(cfg, fit, **_arrays(toy), folds=[short, long_])[0]
    np.testing.assert_allclose(alone.test_probs, together.test_probs, atol=1e-4)
    assert alone.history[-1]["theta_deg"] == pytest.approx(together.history[-1]["theta_deg"], abs=1e-3)


def test_flow_noise_is_drawn_per_fold_and_reproducible(toy):
    cfg = load_preset("facesleuth-r", flow_noise=2.0, flow_noise_margin=0.0)  # a fixed std
    fit = FitConfig.from_model(cfg, seed=2, epochs=2, batch_size=16)
    folds = group_folds(toy["groups"], 4)[:2]
    together = fit_folds(cfg, fit, **_arrays(toy), folds=folds)
    again = fit_folds(cfg, fit, **_arrays(toy), folds=folds)
    (alone,) = fit_folds(cfg, fit, **_arrays(toy), folds=folds[1:])
    assert np.array_equal(together[0].test_probs, again[0].test_probs)
    np.testing.assert_allclose(alone.test_probs, together[1].test_probs, atol=1e-4)
    (clean,) = fit_folds(
        load_preset("facesleuth-r", flow_noise_margin=0.0), fit, **_arrays(toy), folds=folds[1:]
    )
    assert np.abs(clean.test_probs - alone.test_probs).max() > 1e-3  # the noise reached training


def test_loss_floor_is_the_entropy_of_the_smoothed_labels():
    # 3 classes, smoothing 0.1: targets 14/15, 1/30, 1/30
    assert loss_floor(load_preset("facesleuth-r")) == pytest.approx(
        -(14 / 15 * math.log(14 / 15) + 2 / 30 * math.log(1 / 30))
    )
    assert loss_floor(load_preset("facesleuth-r", label_smoothing=0.0)) == 0.0


@pytest.mark.parametrize(("margin", "expected"), [(100.0, [0.0, 0.5, 1.0]), (1e-9, [0.0, 0.0, 0.0])])
def test_flow_noise_rises_only_while_the_training_loss_sits_near_its_floor(toy, margin, expected):
    # margin 100: every loss counts as near the floor, so the std climbs a step per epoch; margin
    # 1e-9: no loss gets that close in 3 epochs, so the std stays at 0 and cannot go below it
    cfg = load_preset("facesleuth-r", flow_noise_margin=margin, flow_noise_step=0.5)
    fit = FitConfig.from_model(cfg, seed=0, epochs=3, batch_size=16)
    folds = group_folds(toy["groups"], 4)[:2]
    for r in fit_folds(cfg, fit, **_arrays(toy), folds=folds):
        assert [h["flow_noise"] for h in r.history] == expected
        assert min(h["loss"] for h in r.history) > loss_floor(cfg) + 1e-9


@pytest.mark.parametrize("epochs", [1, 2, 5, 30])
def test_soa_blur_narrows_to_the_exact_bins_before_the_last_epoch(epochs):
    cfg = load_preset("facesleuth-r-search")
    widths = [soa_blur_at(cfg, e, epochs=epochs) for e in range(epochs)]
    assert widths[-1] == 0.0
    assert all(a >= b for a, b in zip(widths[:-1], widths[1:], strict=True))  # never widens again
    if epochs > 1:
        assert widths[0] == cfg.soa_blur == 1.0
    assert sum(w > 0 for w in widths) == min(int(cfg.soa_blur_frac * epochs), epochs - 1)
    assert all(w == 0 for w in (soa_blur_at(load_preset("cva"), e, epochs=epochs) for e in range(epochs)))


@pytest.mark.parametrize("tie", [True, False])
def test_tied_angles_turn_as_one_while_the_bins_are_blurred(toy, tie):
    # 4 epochs, the first 2 blurred: tied layers share their angle through epoch 2, then part
    cfg = load_preset("facesleuth-r-search", soa_blur=1.0, soa_blur_frac=0.5, soa_tie=tie)
    fit = FitConfig.from_model(cfg, seed=0, epochs=4, batch_size=16)
    (r,) = fit_folds(cfg, fit, **_arrays(toy), folds=group_folds(toy["groups"], 4)[:1])
    spread = [max(h["theta_deg"]) - min(h["theta_deg"]) for h in r.history]
    if tie:
        assert spread[:2] == [0.0, 0.0]
    else:
        assert min(spread[:2]) > 0.01
    assert spread[-1] > 0.01  # with the exact bins every layer follows its own gradient


def test_normalisation_uses_training_samples_only(toy):
    flow = toy["flow"].copy()
    train, test = np.arange(0, 50), np.arange(50, 96)
    flow[test] += 1000.0
    norm = fold_norm(flow, toy["app"], train)
    np.testing.assert_allclose(
        norm["flow_mean"], toy["flow"][train].mean(axis=(0, 2, 3)), rtol=1e-5, atol=1e-6
    )


def test_cva_theta_stays_exactly_90(toy):
    cfg = load_preset("cva")
    fit = FitConfig.from_model(cfg, seed=0, epochs=2, batch_size=16)
    (r,) = fit_folds(cfg, fit, **_arrays(toy), folds=group_folds(toy["groups"], 4)[:1])
    assert all(h["theta_deg"] == [90.0] * 3 for h in r.history)
    thetas = [v for k, v in r.state_dict.items() if k.endswith("theta")]
    assert all(torch.equal(t, torch.tensor(math.radians(90.0))) for t in thetas)


@pytest.mark.slow
def test_learns_above_chance_on_held_out_groups():
    d = toy_flows(n_samples=160, n_groups=8, noise=0.3, seed=11)
    cfg = load_preset("facesleuth-r")
    fit = FitConfig.from_model(cfg, seed=0, epochs=12, batch_size=32, record_test_each_epoch=True)
    folds = group_folds(d["groups"], 4)
    res = fit_folds(cfg, fit, **_arrays(d), folds=folds)
    pred = np.concatenate([r.test_probs.argmax(1) for r in res])
    true = np.concatenate([d["y"][f.test_idx] for f in folds])
    assert (pred == true).mean() > 0.7  # chance is 1/3
    assert res[0].test_probs_each_epoch.shape == (12, len(folds[0].test_idx), 3)
    assert "test_acc" in res[0].history[-1]


def test_predict_proba_averages_the_fold_models(small_run, toy):
    cfg, _, folds, res, _ = small_run
    models = []
    for r in res[:2]:
        m = build_model(cfg)
        m.load_state_dict(r.state_dict)
        models.append((m, r.norm))
    f = folds[0].test_idx
    p = predict_proba(models, toy["flow"][f], toy["app"][f])
    np.testing.assert_allclose(
        predict_proba(models[:1], toy["flow"][f], toy["app"][f]), res[0].test_probs, atol=1e-5
    )
    assert p.shape == (len(f), 3)


def test_bad_inputs_are_usage_errors(toy):
    cfg = load_preset("facesleuth-r")
    fit = FitConfig.from_model(cfg, seed=0, epochs=1)
    folds = group_folds(toy["groups"], 2)
    with pytest.raises(
        UsageError, match=r"flow has shape \(96, 3, 32, 32\); the model wants \(N, 3, 28, 28\)"
    ):
        fit_folds(
            cfg, fit, flow=np.zeros((96, 3, 32, 32), np.float32), app=toy["app"], y=toy["y"], folds=folds
        )
    with pytest.raises(UsageError, match=r"labels must lie in \[0, 3\)"):
        fit_folds(cfg, fit, flow=toy["flow"], app=toy["app"], y=toy["y"] + 5, folds=folds)


def test_mirror_sym_makes_the_network_exactly_mirror_invariant(toy):
    torch.manual_seed(0)
    flow = torch.as_tensor(toy["flow"][:8]) + 0.3  # an offset, as a fold's normalisation leaves
    app = torch.as_tensor(toy["app"][:8])
    sym = build_model(load_preset("facesleuth-r", mirror_sym=True)).eval()
    plain = build_model(load_preset("facesleuth-r")).eval()
    plain.load_state_dict(sym.state_dict())
    with torch.no_grad():
        mirrored = (mirror_flow(flow), app.flip(-1))
        torch.testing.assert_close(sym(flow, app), sym(*mirrored), atol=1e-5, rtol=1e-4)
        assert (plain(flow, app) - plain(*mirrored)).abs().max() > 1e-3  # not so without it
        # mirroring twice is the identity: u is negated and flipped back
        torch.testing.assert_close(mirror_flow(mirror_flow(flow)), flow)
    with pytest.raises(UsageError, match="mirror_sym needs flow_norm"):
        load_preset("facesleuth-r", mirror_sym=True, flow_norm="fold")


@pytest.mark.parametrize(
    "option",
    [
        {"mixup": 0.4},
        {"swa_epochs": 2},
        {"flip_aug": True},
        {"app_drop": 0.5},
        {"rot_aug": 15.0, "scale_aug": 0.1},
        {"cutout": 8},
        {"head_dropout": 0.3},
        {"sam_rho": 0.05},
        {"focal_gamma": 2.0},
    ],
)
def test_mixup_averaging_flips_warps_and_blanks_change_training_and_stay_per_fold(toy, option):
    cfg = load_preset("facesleuth-r", **option)
    fit = FitConfig.from_model(cfg, seed=4, epochs=3, batch_size=16)
    folds = group_folds(toy["groups"], 4)[:2]
    together = fit_folds(cfg, fit, **_arrays(toy), folds=folds)
    (alone,) = fit_folds(cfg, fit, **_arrays(toy), folds=folds[1:])
    np.testing.assert_allclose(alone.test_probs, together[1].test_probs, atol=1e-4)
    (plain,) = fit_folds(load_preset("facesleuth-r"), fit, **_arrays(toy), folds=folds[1:])
    assert np.abs(plain.test_probs - alone.test_probs).max() > 1e-3


def test_sharpness_aware_gradient_is_taken_at_each_folds_own_ascent_point():
    from fsr_cli.train.engine import _Folds

    st = _Folds.__new__(_Folds)  # the SAM step alone, on a per-fold quartic loss
    st.cfg = load_preset("facesleuth-r", sam_rho=0.5)
    w0 = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    st.params = {"w": w0.clone().requires_grad_(True), "theta": torch.ones(3, requires_grad=True)}

    def losses():
        return (st.params["w"] ** 4).sum(1) + st.params["theta"] ** 2  # (F,)

    g = dict(zip(st.params, torch.autograd.grad(losses().sum(), list(st.params.values())), strict=True))
    active = torch.tensor([1.0, 1.0, 0.0])  # the last fold sits out this step
    at = st.sharpness_aware(g, active, lambda: (losses(),))
    norm = (g["w"] ** 2).sum(1).add(g["theta"] ** 2).sqrt()  # each fold's own gradient norm
    moved_w = w0 + 0.5 * g["w"] / norm[:, None] * active[:, None]
    moved_t = 1.0 + 0.5 * g["theta"] / norm * active
    torch.testing.assert_close(at["w"], 4 * moved_w**3)
    torch.testing.assert_close(at["theta"], 2 * moved_t)
    torch.testing.assert_close(at["w"][2], g["w"][2])  # a fold sitting out: its plain gradient
    torch.testing.assert_close(st.params["w"].detach(), w0)  # the weights are put back
    with pytest.raises(UsageError, match="sam_rho must be >= 0"):
        load_preset("facesleuth-r", sam_rho=-0.1)


def test_domain_adversarial_training_changes_training_and_stays_per_fold(toy):
    cfg = load_preset("facesleuth-r", domain_adv=1.0)
    fit = FitConfig.from_model(cfg, seed=4, epochs=3, batch_size=16)
    folds = group_folds(toy["groups"], 4)[:2]
    domain = np.where(toy["groups"] % 2 == 0, "casme2", "samm")  # two datasets in every fold
    together = fit_folds(cfg, fit, **_arrays(toy), folds=folds, domain=domain)
    (alone,) = fit_folds(cfg, fit, **_arrays(toy), folds=folds[1:], domain=domain)
    np.testing.assert_allclose(alone.test_probs, together[1].test_probs, atol=1e-4)
    (plain,) = fit_folds(load_preset("facesleuth-r"), fit, **_arrays(toy), folds=folds[1:], domain=domain)
    assert np.abs(plain.test_probs - alone.test_probs).max() > 1e-3
    assert "domain_head.weight" in alone.state_dict  # saved with the model, read by nothing else
    narrow = load_preset("facesleuth-r", domain_adv=1.0, n_domains=2)
    with pytest.raises(UsageError, match="more than n_domains 2; set n_domains: 3 in the preset"):
        fit_folds(narrow, fit, **_arrays(toy), folds=folds, domain=toy["groups"] % 3)
    for other in ({"mirror_sym": True}, {"mixup": 0.4}):
        with pytest.raises(UsageError, match="domain_adv is for arch facesleuth-r without mirror_sym or mix"):
            load_preset("facesleuth-r", domain_adv=0.5, **other)


def test_the_gradient_reversal_turns_the_domain_heads_pull_on_the_features():
    from fsr_cli.model.network import build_model

    torch.manual_seed(0)
    model = build_model(load_preset("facesleuth-r", domain_adv=1.0))
    flow, app = torch.randn(6, 3, 28, 28), torch.randn(6, 1, 32, 32)
    logits, dom = model(flow, app, adv=torch.tensor(0.5))
    torch.testing.assert_close(logits, model(flow, app))  # the classification path is unchanged
    first = model.motion.stages[0].conv.weight
    (g_rev,) = torch.autograd.grad(dom.sum(), first)
    z = model.ln(torch.cat([model.proj_motion(model.motion(flow)), model.proj_app(model.appearance(app))], 1))
    (g_plain,) = torch.autograd.grad(model.domain_head(z).sum(), first)
    torch.testing.assert_close(g_rev, -0.5 * g_plain)  # the features are pushed to confuse the head
    head = model.domain_head.weight
    (g_head,) = torch.autograd.grad(model(flow, app, adv=torch.tensor(0.5))[1].sum(), head)
    (g_head_plain,) = torch.autograd.grad(model.domain_head(z).sum(), head)
    torch.testing.assert_close(g_head, g_head_plain)  # while the head itself learns as usual


def test_focal_loss_scales_each_class_term_and_reports_the_plain_cross_entropy():
    from fsr_cli.train.engine import _Folds

    st = _Folds.__new__(_Folds)
    st.cfg = load_preset("facesleuth-r", focal_gamma=2.0, label_smoothing=0.0)
    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]]])  # (F=1, B=2, K=3)
    y, w, on = torch.tensor([[0, 2]]), torch.ones(1, 2), torch.ones(1)
    p = logits.softmax(-1)[0, [0, 1], [0, 2]]
    torch.testing.assert_close(st.loss(logits, y, w, on), (-((1 - p) ** 2) * p.log()).mean().view(1))
    torch.testing.assert_close(st.loss(logits, y, w, on, focal=False), -p.log().mean().view(1))
    with pytest.raises(UsageError, match="focal_gamma must be >= 0"):
        load_preset("facesleuth-r", focal_gamma=-1.0)


def test_weight_averaging_keeps_the_mean_of_the_last_epochs_weights():
    from fsr_cli.train.engine import _Folds

    st = _Folds.__new__(_Folds)  # the averaging alone, on weights set by hand
    st.params, st.swa, st.swa_n = {"w": torch.zeros(2, 3)}, {}, 0
    for k, value in enumerate([1.0, 2.0, 6.0]):
        st.params["w"].fill_(value)
        st.average_weights(last=k == 2)
    torch.testing.assert_close(st.params["w"], torch.full((2, 3), 3.0))
    with pytest.raises(UsageError, match="swa_epochs"):
        load_preset("facesleuth-r", swa_epochs=31)


def test_an_epoch_budget_below_the_averaged_epochs_is_refused_naming_the_fix(tmp_path):
    from fsr_cli.train.runner import TrainConfig, resolve

    run = dict(datasets=[tmp_path], protocol="loso", model_overrides={"swa_epochs": 10})
    with pytest.raises(UsageError, match=r"--epochs 5: .* last 10 epochs.*give --epochs 10 or more"):
        resolve(TrainConfig(**run, epochs=5))
    _, fit = resolve(TrainConfig(**run, epochs=10))  # the whole budget averaged: allowed
    assert fit.epochs == 10


def test_flip_aug_mirrors_the_raw_face_in_each_folds_normalised_units():
    st = _two_fold_stats()
    st.stat.update(app_mean=torch.zeros(2, 1), app_std=torch.ones(2, 1))
    raw = torch.randn(10, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    app = torch.randn(10, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    idx = torch.arange(10).view(2, 5)
    flow_n, app_n = st.normalised(raw, app, idx)
    flipped, app_f = st.flip(flow_n, app_n, np.array([True, False]))
    mirrored_n, mirrored_app = st.normalised(mirror_flow(raw), app.flip(-1), idx)
    chosen = [(flipped[0, b] - flow_n[0, b]).abs().max() > 0 for b in range(5)]
    assert 0 < sum(chosen) < 5  # a random part of the active fold's batch
    for b in range(5):
        want = mirrored_n[0, b] if chosen[b] else flow_n[0, b]
        torch.testing.assert_close(flipped[0, b], want)  # exactly the mirrored raw face, normalised
        torch.testing.assert_close(app_f[0, b], mirrored_app[0, b] if chosen[b] else app_n[0, b])
    torch.testing.assert_close(flipped[1], flow_n[1])  # a fold sitting out is left alone


def test_class_balance_power_interpolates_between_plain_and_inverse_frequency_weights(toy):
    y = toy["y"]
    keep = np.flatnonzero((y == 0) | (np.arange(len(y)) % 3 == 0))  # class 0 three times as common
    fold = Fold("skewed", keep[:-8], keep[-8:])
    assert np.bincount(y[fold.train_idx]).std() > 5

    def probs(**option):
        cfg = load_preset("facesleuth-r", **option)
        fit = FitConfig.from_model(cfg, seed=2, epochs=2, batch_size=16)
        return fit_folds(cfg, fit, **_arrays(toy), folds=[fold])[0].test_probs

    np.testing.assert_array_equal(probs(class_balance_power=0.0), probs(class_balance=False))
    full, half = probs(), probs(class_balance_power=0.5)
    assert np.abs(half - full).max() > 1e-3 and np.abs(half - probs(class_balance=False)).max() > 1e-3
    with pytest.raises(UsageError, match="class_balance_power"):
        load_preset("facesleuth-r", class_balance_power=-1)


def test_app_drop_blanks_a_random_part_of_the_active_folds_faces_only():
    from types import SimpleNamespace

    from fsr_cli.train.engine import _Folds

    st = _Folds.__new__(_Folds)
    st.device, st.cfg = "cpu", load_preset("facesleuth-r", app_drop=0.5)
    st.streams = [SimpleNamespace(rng=np.random.default_rng(s)) for s in (0, 1)]
    app = torch.randn(2, 200, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    out = st.blank_faces(app, np.array([True, False]))
    blank = (out[0] == 0).flatten(1).all(1)
    assert 60 < int(blank.sum()) < 140  # about half of the active fold's faces ...
    torch.testing.assert_close(out[0][~blank], app[0][~blank])  # ... the others untouched
    torch.testing.assert_close(out[1], app[1])  # a fold sitting out is left alone
    with pytest.raises(UsageError, match="app_drop"):
        load_preset("facesleuth-r", app_drop=1.0)


def _two_fold_stats():
    from types import SimpleNamespace

    from fsr_cli.train.engine import _Folds

    st = _Folds.__new__(_Folds)  # the augmentation alone, with two folds' statistics set by hand
    st.device = "cpu"
    st.streams = [SimpleNamespace(rng=np.random.default_rng(s)) for s in (0, 1)]
    st.stat = {
        "flow_mean": torch.tensor([[0.3, -0.2, 0.1], [-1.0, 0.3, 0.0]]),
        "flow_std": torch.tensor([[2.0, 1.5, 1.0], [0.5, 2.0, 1.0]]),
    }
    return st


def test_warp_turns_the_motion_vectors_with_the_face():
    # A patch right of centre moving outward (u = 1): rotated about the centre, it must still
    # move outward from the centre wherever it lands, and its strain is only carried along.
    st = _two_fold_stats()
    st.cfg = load_preset("facesleuth-r", rot_aug=60.0, scale_aug=0.15)
    H = 28
    yy, xx = torch.meshgrid(
        torch.arange(H, dtype=torch.float32), torch.arange(H, dtype=torch.float32), indexing="ij"
    )
    patch = (((xx - 21) ** 2 + (yy - 13.5) ** 2) < 6).float()
    raw = torch.zeros(2, 16, 3, H, H)
    raw[:, :, 0], raw[:, :, 2] = patch, 2 * patch
    m, sd = st.stat["flow_mean"].view(2, 1, 3, 1, 1), st.stat["flow_std"].view(2, 1, 3, 1, 1)
    out = st.warp((raw - m) / sd, np.array([True, False])) * sd + m
    turned = 0
    for b in range(16):
        u, v, strain = out[0, b]
        w = strain.clamp(min=0)
        cx, cy = (w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()
        radial = torch.stack([cx - 13.5, cy - 13.5])
        flow = torch.stack([(w * u).sum(), (w * v).sum()]) / w.sum()
        cos = torch.dot(radial, flow) / (radial.norm() * flow.norm())
        assert cos > 0.99  # the vectors still point away from the centre
        # resampled alike, then only (u, v) turned: |(u, v)| is still half the strain everywhere
        torch.testing.assert_close(torch.hypot(u, v), strain / 2, atol=1e-5, rtol=0)
        turned += abs(float(torch.atan2(radial[1], radial[0]))) > 0.1
    assert turned >= 8  # random angles, most of them away from 0
    torch.testing.assert_close(out[1], raw[1], atol=1e-5, rtol=0)  # a fold sitting out is left alone


def test_cutout_blanks_one_square_of_the_active_folds_flow():
    st = _two_fold_stats()
    st.cfg = load_preset("facesleuth-r", cutout=6, cutout_p=0.5)
    flow = torch.randn(2, 200, 3, 12, 12, generator=torch.Generator().manual_seed(0))
    out = st.cut_out(flow, np.array([True, False]))
    blanked = (out[0] == 0).all(1)  # (B, H, W): zero in all three maps
    hit = blanked.flatten(1).any(1)
    assert 60 < int(hit.sum()) < 140  # about half of the active fold's samples
    for b in np.flatnonzero(hit.numpy()):
        rows, cols = blanked[b].any(1).nonzero().squeeze(1), blanked[b].any(0).nonzero().squeeze(1)
        assert len(rows) <= 6 and len(cols) <= 6  # one square, clipped at the border
        assert int(blanked[b].sum()) == len(rows) * len(cols)
    torch.testing.assert_close(out[0][~hit], flow[0][~hit])  # the others untouched
    torch.testing.assert_close(out[1], flow[1])  # a fold sitting out is left alone
    with pytest.raises(UsageError, match="cutout"):
        load_preset("facesleuth-r", cutout=4, cutout_p=1.5)
    with pytest.raises(UsageError, match="rot_aug"):
        load_preset("facesleuth-r", rot_aug=-1.0)


def test_head_dropout_is_refused_where_it_cannot_be_honoured():
    with pytest.raises(UsageError, match=r"head_dropout must lie in \[0, 1\)"):
        load_preset("facesleuth-r", head_dropout=1.0)
    with pytest.raises(UsageError, match="head_dropout is for arch facesleuth-r; set it to 0 for ststnet"):
        load_preset("ststnet", head_dropout=0.2)


def test_tta_shift_changes_the_test_predictions_not_the_training(toy):
    folds = group_folds(toy["groups"], 4)[:1]
    runs = {}
    for shift in (0, 1):
        cfg = load_preset("facesleuth-r", tta_shift=shift)
        fit = FitConfig.from_model(cfg, seed=4, epochs=2, batch_size=16)
        (runs[shift],) = fit_folds(cfg, fit, **_arrays(toy), folds=folds)
    assert [h["loss"] for h in runs[0].history] == [h["loss"] for h in runs[1].history]
    for k, v in runs[0].state_dict.items():
        torch.testing.assert_close(runs[1].state_dict[k], v)
    assert np.abs(runs[0].test_probs - runs[1].test_probs).max() > 1e-4
    model = build_model(load_preset("facesleuth-r", tta_shift=1))
    model.load_state_dict(runs[1].state_dict)
    np.testing.assert_allclose(
        predict_proba([(model, runs[1].norm)], toy["flow"][folds[0].test_idx], toy["app"][folds[0].test_idx]),
        runs[1].test_probs,
        atol=1e-5,
    )


def test_balance_datasets_weighs_every_dataset_and_its_classes_alike():
    from fsr_cli.train.engine import sample_weights

    y = np.array([0] * 30 + [1] * 10 + [2] * 20 + [0] * 5 + [1] * 5 + [2] * 10)  # two datasets
    domain = np.array(["big"] * 60 + ["small"] * 20)
    train = np.arange(80)
    plain = sample_weights(load_preset("facesleuth-r"), y, domain, train)
    for c in range(3):  # class balance alone: every class weighs the same in total
        assert plain[y == c].sum() == pytest.approx(80 / 3)
    cells = sample_weights(load_preset("facesleuth-r", balance_datasets=True), y, domain, train)
    for d in ("big", "small"):
        assert cells[domain == d].sum() == pytest.approx(40)  # every dataset the same in total ...
        for c in range(3):  # ... and each of its classes
            assert cells[(domain == d) & (y == c)].sum() == pytest.approx(80 / 6)
    one = sample_weights(load_preset("facesleuth-r", balance_datasets=True), y, np.zeros(80, int), train)
    np.testing.assert_allclose(one, plain)  # one dataset: plain class balance
    np.testing.assert_array_equal(
        sample_weights(load_preset("facesleuth-r", class_balance=False), y, domain, train), 1
    )
    with pytest.raises(UsageError, match="balance_datasets needs class_balance"):
        load_preset("facesleuth-r", balance_datasets=True, class_balance=False)


def test_a_loss_that_turns_non_finite_stops_naming_the_fold_and_epoch(toy):
    # issue 29 item 5: NaN probabilities were argmax'd to the first class and scored, exit 0
    from fsr_cli.train.engine import NonFiniteLoss

    cfg = load_preset("motion-only")
    fit = FitConfig.from_model(cfg, seed=0, epochs=2, batch_size=16)
    flow = toy["flow"].copy()
    folds = group_folds(toy["groups"], 2)
    flow[folds[1].train_idx[0], 0, 3, 3] = np.nan  # features.py refuses such input; the engine checks too
    with pytest.raises(NonFiniteLoss, match=r"^fold g\d: the training loss became nan at epoch 1; "):
        fit_folds(cfg, fit, flow=flow, app=toy["app"], y=toy["y"], folds=folds)
