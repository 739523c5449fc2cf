from pathlib import Path

import numpy as np
import pytest
from prepared_builders import casme2_like, make_prepared, shared_data

from fsr_cli.errors import UsageError
from fsr_cli.train.features import build_features, load_sets, resize_flow, sample_arrays


def test_resize_keeps_displacements_in_pixels_of_the_new_grid():
    flow = np.zeros((3, 64, 32), np.float32)
    flow[0], flow[1], flow[2] = 4.0, 2.0, 0.5  # u, v pixels; strain dimensionless
    out = resize_flow(flow, 16)
    assert out.shape == (3, 16, 16) and out.dtype == np.float32
    np.testing.assert_allclose(out[0], 4.0 * 16 / 32)  # x shrinks by 2
    np.testing.assert_allclose(out[1], 2.0 * 16 / 64)  # y shrinks by 4
    np.testing.assert_allclose(out[2], 0.5)
    np.testing.assert_allclose(resize_flow(flow, 16, scaled=True)[0], 4.0)  # imported 0-1 images: no rescale


def test_sample_arrays_shapes_and_ranges():
    arrays = {"flow": np.ones((3, 32, 32), np.float32), "apex": np.full((32, 32), 255, np.uint8)}
    flow, app = sample_arrays(arrays, flow_size=28, app_size=48)
    assert flow.shape == (3, 28, 28) and app.shape == (1, 48, 48)
    np.testing.assert_allclose(app, 1.0)


def test_build_features_maps_labels_and_counts_the_left_out():
    casme2, samm = shared_data()
    feats = build_features(load_sets([casme2, samm]), label_set="composite", flow_size=16, app_size=24)
    # 3 casme2 subjects + 2 samm subjects, 3 composite classes, 2 clips each; 'others'/'Other' left out
    assert len(feats) == (3 + 2) * 3 * 2
    assert feats.classes == ("negative", "positive", "surprise")
    assert feats.excluded == {"casme2": {"others": 6}, "samm": {"other": 4}}
    assert feats.flow.shape == (30, 3, 16, 16) and feats.app.shape == (30, 1, 24, 24)
    assert feats.y.dtype == np.int64
    first = [c for c in feats.clip if c.startswith("01_disgust")]
    assert all(feats.y[list(feats.clip).index(c)] == 0 for c in first)
    assert set(feats.groups) == {"casme2/01", "casme2/02", "casme2/03", "samm/006", "samm/007"}


def test_five_class_set_keeps_others():
    casme2, _ = shared_data()
    feats = build_features(load_sets([casme2]), label_set="casme2-5", flow_size=8, app_size=8)
    assert feats.classes == ("happiness", "surprise", "disgust", "repression", "others")
    assert feats.excluded == {"casme2": {}}
    assert np.bincount(feats.y, minlength=5).tolist() == [6, 6, 6, 0, 6]


def test_bad_inputs(tmp_path: Path):
    casme2, _ = shared_data()
    with pytest.raises(
        UsageError, match="unknown label set 'seven'; choose one of: composite, casme2-5, samm-5"
    ):
        build_features(load_sets([casme2]), label_set="seven", flow_size=8, app_size=8)
    (tmp_path / "raw").mkdir()
    with pytest.raises(UsageError, match=r"raw: not preprocessed \(no prepared.json\); run `fsr preprocess"):
        load_sets([tmp_path / "raw"])
    with pytest.raises(UsageError, match="dataset 'casme2' given twice"):
        load_sets([casme2, casme2_like(tmp_path / "copy")])
    only_others = make_prepared(tmp_path / "o", dataset="x", subjects=["1"], emotions={"others": None})
    with pytest.raises(
        UsageError, match="no sample of x is in label set 'composite'; choose another --labels"
    ):
        build_features(load_sets([only_others]), label_set="composite", flow_size=8, app_size=8)
    # composite-labelled imports under a 5-class set: only 'surprise' survives, a one-class problem
    composite = make_prepared(
        tmp_path / "c", dataset="casme2", subjects=["1", "2"],
        emotions={"negative": "negative", "positive": "positive", "surprise": "surprise"},
    )  # fmt: skip
    one_class = r"label set 'casme2-5' keeps only class 'surprise' of casme2 \(4 samples"
    with pytest.raises(UsageError, match=one_class):
        build_features(load_sets([composite]), label_set="casme2-5", flow_size=8, app_size=8)


def test_each_record_keeps_its_own_dataset(tmp_path: Path):
    """An imported manifest may mix datasets: groups and LODO folds follow each record's dataset."""
    import json

    from fsr_cli.train.protocols import make_folds

    root = casme2_like(tmp_path / "mixed", subjects=("01", "02"), per_class=1)
    manifest = root / ".fsr" / "prepared.json"
    doc = json.loads(manifest.read_text())
    doc["dataset"] = "imported"
    for rec in doc["samples"]:
        if rec["subject"] == "02":
            rec["dataset"] = "samm"
    manifest.write_text(json.dumps(doc))
    feats = build_features(load_sets([root]), label_set="composite", flow_size=8, app_size=8)
    assert set(feats.groups) == {"casme2/01", "samm/02"}
    assert sorted(f.name for f in make_folds(feats, "lodo")) == ["casme2", "samm"]
    assert set(feats.excluded) == {"casme2", "samm"}


def test_a_damaged_artifact_names_the_file_and_the_fix(tmp_path: Path):
    from fsr_cli.errors import CacheError

    root = casme2_like(tmp_path / "d", subjects=("01",), per_class=1)
    pset = load_sets([root])[0]
    sample = pset.samples[0]
    (pset.root / sample.entry / "arrays.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(
        CacheError, match=r"arrays.npz: missing or damaged artifact of casme2/01/.*run `fsr preprocess"
    ):
        build_features([pset], label_set="composite", flow_size=8, app_size=8)
