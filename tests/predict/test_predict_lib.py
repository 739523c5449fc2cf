"""The predict library: which models a run gives, and that a clip is prepared as training prepared it."""

from pathlib import Path

import numpy as np
import pytest

from fsr_cli.errors import FsrError, UsageError
from fsr_cli.predict import frame_numbers, load_predictor, predict_clip, prepare_video
from fsr_cli.predict.video import Clip
from fsr_cli.prepared import load_prepared
from fsr_cli.synth import read_ground_truth


@pytest.fixture(scope="module")
def ensemble(world):
    return load_predictor(run=world.ensemble)


def test_ensemble_is_the_mean_of_the_fold_models(world, ensemble):
    assert ensemble.kind == "ensemble of 2 fold models"
    assert [p.relative_to(world.ensemble).as_posix() for p in ensemble.paths] == [
        "folds/casme2/01/model.pt",
        "folds/casme2/02/model.pt",
    ]
    clip = world.videos[1]
    mean = predict_clip(clip, ensemble)["probabilities"]
    folds = [
        predict_clip(clip, load_predictor(run=world.ensemble, fold=f))["probabilities"]
        for f in ("casme2/01", "casme2/02")
    ]
    for c in ensemble.classes:
        assert mean[c] == pytest.approx((folds[0][c] + folds[1][c]) / 2, abs=2e-6)
    # the run was trained with --final: an ensemble in its place is said, not silent
    assert [w for w in ensemble.warnings if "final/model.pt is missing" in w]
    assert load_predictor(run=world.run).warnings == ()


def test_an_ensemble_missing_a_fold_says_so(world, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(world.ensemble, run)
    (run / "folds" / "casme2" / "02" / "model.pt").unlink()
    p = load_predictor(run=run)
    assert p.kind == "ensemble of 1 fold models"
    assert "1 of 2 fold models are missing (casme2/02); the ensemble averages the other 1" in p.warnings


def test_run_settings_follow_its_prepared_data(world):
    final = load_predictor(run=world.run)
    assert final.kind == "final" and final.classes == ("negative", "positive", "surprise")
    assert (final.crop, final.remove_drift, final.fps) == (128, True, 200.0)  # CASME II: 200 fps
    assert (final.flow_size, final.app_size) == (28, 32)
    one = load_predictor(checkpoint=world.run / "folds" / "casme2" / "01" / "model.pt")
    assert (one.kind, one.crop, one.fps, len(one.models)) == ("checkpoint", 128, None, 1)
    folds = "final, casme2/01, casme2/02"
    with pytest.raises(UsageError, match=rf"--fold 'casme2/09' is not a fold of .*; choose one of: {folds}$"):
        load_predictor(run=world.run, fold="casme2/09")
    with pytest.raises(FsrError, match="final/model.pt: no such model"):
        load_predictor(run=world.ensemble, fold="final")


def test_training_records_its_preprocessing_in_the_run_and_the_checkpoints(world):
    import torch
    import yaml

    recorded = {"size": 128, "remove_drift": True, "scaled": False}
    config = yaml.safe_load((world.run / "config.yaml").read_text())
    assert [d["preprocessing"] for d in config["datasets"]] == [recorded]
    doc = torch.load(world.run / "folds" / "casme2" / "01" / "model.pt", weights_only=True)
    assert doc["extra"]["preprocessing"] == [recorded]


def test_preprocessing_comes_from_the_run_then_the_checkpoint_then_prepared_json(tmp_path):
    import json

    from fsr_cli.predict.predictor import preprocessing

    imported = {"size": None, "remove_drift": None, "scaled": True}
    run = {"datasets": [{"preprocessing": imported}, {"preprocessing": {"size": 96, "remove_drift": False}}]}
    assert preprocessing(run, {"preprocessing": [{"size": 64, "remove_drift": True}]}) == (96, False, True)
    lone = {"preprocessing": [{"size": 64, "remove_drift": False, "scaled": False}]}
    assert preprocessing({}, lone) == (64, False, False)  # a checkpoint given alone
    manifest = tmp_path / "prepared.json"
    manifest.write_text(json.dumps({"params": {"size": 112, "remove_drift": False}}))
    older = {"datasets": [{"prepared": str(manifest)}, {"prepared": str(tmp_path / "gone.json")}]}
    assert preprocessing(older, {}) == (112, False, False)  # a run from before the record
    assert preprocessing({"datasets": [{"prepared": str(tmp_path / "gone.json")}]}, {}) == (128, True, False)


def _dataset_clip(world):
    """A CASME II clip folder with an annotated apex, its truth row and its prepared record."""
    pset = load_prepared(world.casme2)
    record = next(s for s in pset.samples if s.apex_source == "annotated")
    row = next(r for r in read_ground_truth(world.casme2) if r.uid == record.uid)
    folder = next(world.casme2.glob(f"CASME2_RAW_selected/sub{row.subject}/{row.clip}"))
    return folder, row, record, pset


def test_folder_of_dataset_frames_matches_the_training_features(world):
    from fsr_cli.train.engine import predict_proba
    from fsr_cli.train.features import sample_arrays

    folder, row, record, pset = _dataset_clip(world)
    predictor = load_predictor(run=world.run)
    doc = predict_clip(folder, predictor, onset=row.onset, apex=row.apex)
    # frame numbers are the file names' (img46.jpg -> 46), as the annotation gives them
    assert doc["onset"] == {"frame": row.onset, "index": 0, "time_s": 0.0, "source": "given"}
    assert doc["apex"]["frame"] == row.apex
    assert doc["apex"]["time_s"] == pytest.approx((row.apex - row.onset) / 200)
    assert (doc["fps"], doc["fps_source"], doc["frames"]) == (200.0, "run", row.offset - row.onset + 1)
    # The same decoding and stages as training: the arrays of the prepared sample.
    ref, ours = pset.load(record), prepare_video(folder, predictor, onset=row.onset, apex=row.apex)
    np.testing.assert_array_equal(ours["apex"], ref["apex"])
    np.testing.assert_allclose(ours["flow"], ref["flow"], atol=1e-5)
    # ... and the same resize: the probabilities of the prepared sample.
    flow, app = sample_arrays(pset.load(record), flow_size=predictor.flow_size, app_size=predictor.app_size)
    trained = predict_proba(list(predictor.models), flow[None], app[None])[0]
    assert np.abs(np.array(list(doc["probabilities"].values())) - trained).max() < 0.02


def test_folder_without_frame_rate_needs_fps(world):
    folder, row, _, _ = _dataset_clip(world)
    one = load_predictor(checkpoint=world.run / "final" / "model.pt")
    message = r"a folder of frames has no frame rate; give --fps \(e.g. --fps 200\)$"
    with pytest.raises(UsageError, match=message):
        predict_clip(folder, one)
    doc = predict_clip(folder, one, fps=100.0, apex=row.apex)
    assert doc["fps_source"] == "--fps"
    assert doc["apex"]["time_s"] == pytest.approx((row.apex - row.onset) / 100)


def test_frame_numbers():
    def folder(*names):
        return Clip(Path("clip"), None, [Path(n) for n in names])

    assert frame_numbers(folder("img46.jpg", "img47.jpg", "img100.jpg")) == [46, 47, 100]
    assert frame_numbers(folder("a.jpg", "b.jpg", "c7.jpg")) == [0, 1, 2]
    assert frame_numbers(folder("x1.jpg", "y1.jpg", "z2.jpg")) == [0, 1, 2]  # numbers that repeat: positions
    assert frame_numbers(Clip(Path("clip.mp4"), 30.0)) is None  # a video: 0-based indices


def test_a_folder_with_a_frame_of_another_size_is_refused(tmp_path):
    import cv2

    from fsr_cli.predict.video import read_clip

    for i, side in enumerate((64, 64, 48, 64)):
        cv2.imwrite(str(tmp_path / f"img{i + 1}.png"), np.full((side, side), 100, np.uint8))
    with pytest.raises(
        UsageError, match=r"img3.png: 48x48 pixels where the clip's first frame img1.png is 64x64"
    ):
        list(read_clip(tmp_path).stream())  # the frames are checked as they stream
    (tmp_path / "img3.png").write_bytes(b"")
    with pytest.raises(UsageError, match=r"img3.png: unreadable image \(an empty file\)"):
        list(read_clip(tmp_path).stream())
