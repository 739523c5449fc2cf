"""`fsr theta maps`: attention maps of a real tiny run, for a prepared sample and for a video."""

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from fsr_cli.cli.cmd_theta_maps import maps
from fsr_cli.errors import FsrError, UsageError
from fsr_cli.model.checkpoint import load_checkpoint
from fsr_cli.predict.theta_maps import DPI, PANEL_IN, TITLE_IN, layer_maps, theta_maps
from fsr_cli.prepared import load_prepared


def _png_panels(path, n_panels):
    """The PNG as an array, checked to hold n_panels panels that each show something."""
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.shape[:2] == (round((PANEL_IN + TITLE_IN) * DPI), round(n_panels * PANEL_IN * DPI))
    width = img.shape[1] // n_panels
    for k in range(n_panels):  # the middle of every panel is a face, not blank figure background
        centre = img[img.shape[0] // 2 - 40 : img.shape[0] // 2 + 40, k * width + 110 : k * width + 190, :3]
        assert centre.std() > 0.05, k
    return img


def test_sample_uid_uses_its_held_out_fold(world, tmp_path):
    sample = load_prepared(world.casme2).samples[0]
    out = tmp_path / "maps.png"
    doc = theta_maps(world.run, sample.uid, out=out)
    assert (doc["input"], doc["source"], doc["fold"]) == ("sample", sample.uid, f"casme2/{sample.subject}")
    assert doc["model"] == f"fold casme2/{sample.subject}"
    model, _ = load_checkpoint(world.run / "folds" / "casme2" / sample.subject / "model.pt")
    assert [d["theta_deg"] for d in doc["layers"]] == pytest.approx(model.thetas_deg(), abs=1e-3)
    # 28x28 flow -> unshuffle 2 -> 14, then 2x pooling per stage
    assert [d["grid"] for d in doc["layers"]] == [[14, 14], [7, 7], [4, 4]]
    assert all(0 <= d["min"] <= d["max"] <= 1 for d in doc["layers"])
    assert doc["size_px"] == [4 * 300, 390]
    _png_panels(out, 4)  # the face with its flow, then one panel per SOA layer
    assert doc["truth"] == sample.label3 and doc["predicted"] in ("negative", "positive", "surprise")
    assert 1 / 3 <= doc["probability"] <= 1  # the winning class of three


def test_cli_on_a_video_with_the_final_model(world, tmp_path):
    app = typer.Typer()
    app.command()(maps)
    out = tmp_path / "video-maps.png"
    r = CliRunner().invoke(app, [str(world.run), str(world.videos[0]), "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["input"], doc["fold"], doc["model"], len(doc["layers"])) == ("clip", "final", "final", 3)
    _png_panels(out, 4)
    args = [str(world.run), str(world.videos[0]), "--out", str(out), "--fold", "casme2/02", "--json"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0 and json.loads(r.stdout)["model"] == "fold casme2/02"


def test_bad_targets(world, tmp_path):
    out = tmp_path / "x.png"
    first = [s.uid for s in load_prepared(world.casme2).samples[:3]]
    for uid in ("samm/006/x", "casme2/01/nope"):
        with pytest.raises(UsageError) as err:
            theta_maps(world.run, uid, out=out)
        assert str(err.value) == (
            f"{uid}: no such clip file or folder, and not a sample 'dataset/subject/clip' of the run "
            f"(6 samples, e.g. {', '.join(first)}, ...)"
        )
    with pytest.raises(FsrError, match=r"blank.mp4: no face found in frame 0"):
        theta_maps(world.run, str(world.blank), out=out)
    assert not out.exists()


def test_a_model_without_soa_has_no_maps(tmp_path):
    import torch

    from fsr_cli.model.checkpoint import save_checkpoint
    from fsr_cli.model.config import ModelConfig
    from fsr_cli.model.network import build_model
    from fsr_cli.predict import load_predictor

    cfg = ModelConfig(name="no-orientation", soa="none", motion_widths=(8, 8), app_dim=8, fuse_dim=16)
    path = tmp_path / "model.pt"
    norm = {"flow_mean": [0.0] * 3, "flow_std": [1.0] * 3, "app_mean": [0.5], "app_std": [0.25]}
    torch.manual_seed(0)
    state = build_model(cfg).state_dict()
    save_checkpoint(path, cfg=cfg, state_dict=state, classes=["a", "b", "c"], norm=norm)
    arrays = {"flow": np.zeros((3, 64, 64), np.float32), "apex": np.zeros((64, 64), np.uint8)}
    message = r"model 'no-orientation' has no SOA layer; no attention maps to draw \(give a run of"
    with pytest.raises(UsageError, match=message):
        layer_maps(load_predictor(checkpoint=path), arrays)


def test_an_imported_scaled_flow_gets_no_displacement_arrows():
    """issue 31: 0-1 scaled flows were drawn as displacements ("peak 1.25 px", all one way)."""
    from fsr_cli.native import pyplot
    from fsr_cli.predict.theta_maps import _face_panel

    plt = pyplot()
    arrays = {"apex": np.zeros((224, 224), np.uint8), "flow": np.full((3, 28, 28), 0.5, np.float32)}
    fig, (a, b) = plt.subplots(1, 2)
    _face_panel(a, arrays, scaled=True)
    assert "no arrows" in a.get_title() and not a.collections  # no quiver drawn
    arrays["flow"][:2] = 1.0  # a TV-L1 flow in pixels on a 28 px grid under a 224 px face
    _face_panel(b, arrays, scaled=False)
    (quiver,) = b.collections
    assert quiver.get_offsets().max() > 28  # positions drawn in face pixels, not flow pixels
    plt.close(fig)
