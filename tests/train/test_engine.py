import math

import numpy as np
import pytest
import torch

from fsr_cli.errors import UsageError
from fsr_cli.model.config import load_preset
from fsr_cli.model.network import build_model
from fsr_cli.model.toy import toy_flows
from fsr_cli.train.engine import FitConfig, Fold, fit_folds, predict_proba
from fsr_cli.train.foldwise import fold_norm, loss_floor, soa_blur_at


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
    from fsr_cli.train.foldwise import fold_seed

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
    quiet = load_preset("facesleuth-r", flow_noise_margin=0.0)
    quiet_fit = FitConfig.from_model(quiet, seed=2, epochs=2, batch_size=16)
    (clean,) = fit_folds(quiet, quiet_fit, **_arrays(toy), folds=folds[1:])
    assert np.abs(clean.test_probs - alone.test_probs).max() > 1e-3  # the noise reached training


def test_loss_floor_is_the_entropy_of_the_smoothed_labels():
    # 3 classes, smoothing 0.1: targets 14/15, 1/30, 1/30
    cfg = load_preset("facesleuth-r")
    assert loss_floor(cfg, cfg.train) == pytest.approx(
        -(14 / 15 * math.log(14 / 15) + 2 / 30 * math.log(1 / 30))
    )
    plain = load_preset("facesleuth-r", label_smoothing=0.0)
    assert loss_floor(plain, plain.train) == 0.0


@pytest.mark.parametrize(("margin", "expected"), [(100.0, [0.0, 0.5, 1.0]), (1e-9, [0.0, 0.0, 0.0])])
def test_flow_noise_rises_only_while_the_training_loss_sits_near_its_floor(toy, margin, expected):
    # margin 100: every loss counts as near the floor, so the std climbs a step per epoch; margin
    # 1e-9: no loss gets that close in 3 epochs, so the std stays at 0 and cannot go below it
    cfg = load_preset("facesleuth-r", flow_noise_margin=margin, flow_noise_step=0.5)
    fit = FitConfig.from_model(cfg, seed=0, epochs=3, batch_size=16)
    folds = group_folds(toy["groups"], 4)[:2]
    for r in fit_folds(cfg, fit, **_arrays(toy), folds=folds):
        assert [h["flow_noise"] for h in r.history] == expected
        assert min(h["loss"] for h in r.history) > loss_floor(cfg, fit) + 1e-9


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
