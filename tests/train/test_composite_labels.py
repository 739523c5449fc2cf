"""Imported composite-shaped data keeps every sample: a label that already is a class passes through."""

from pathlib import Path

import cv2
import numpy as np

from fsr_cli.data.labels import composite_label, label_in_set
from fsr_cli.preprocess.importer import import_csv
from fsr_cli.train.features import build_features, load_sets

# The MEGC2019 composite's release labels every sample with its 3-class name, CASME II's
# negatives (disgust, repression) included, alongside SAMM and SMIC-HS.
ROWS = [
    ("casme2", "sub01", "EP02_01f", "positive"),
    ("casme2", "sub01", "EP19_05f", "negative"),
    ("casme2", "sub02", "EP09_01", "negative"),
    ("casme2", "sub02", "EP01_11f", "surprise"),
    ("samm", "006", "006_1_2", "negative"),
    ("samm", "007", "007_3_1", "positive"),
    ("smic", "s1", "s1_ne_01", "negative"),
    ("smic", "s2", "s2_sur_01", "surprise"),
]


def test_a_class_name_is_its_own_class_in_every_dataset():
    for dataset in ("casme2", "samm", "smic", None):
        assert composite_label("negative", dataset) == "negative"
        assert label_in_set("negative", "composite", dataset) == "negative"
    # the dataset rules still hold for native emotions: CASME II's sadness has no composite class
    assert composite_label("sadness", "casme2") is None and composite_label("sadness", "samm") == "negative"
    assert label_in_set("disgust", "composite", "casme2") == "negative"


def test_composite_import_keeps_casme2_negatives(tmp_path: Path):
    rng = np.random.default_rng(0)
    (tmp_path / "flow").mkdir()
    lines = ["dataset,subject,sample,label,flow,appearance"]
    for d, s, c, label in ROWS:
        name = f"flow/{d}_{s}_{c}.png"
        cv2.imwrite(str(tmp_path / name), rng.integers(0, 256, (28, 28, 3), dtype=np.uint8))
        lines.append(f"{d},{s},{c},{label},{name},")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    report = import_csv(tmp_path / "labels.csv", tmp_path / "out")
    assert not report.problems and len(report.records) == len(ROWS)
    feats = build_features(load_sets([tmp_path / "out"]), label_set="composite", flow_size=28, app_size=32)
    assert len(feats) == len(ROWS) and feats.excluded == {"casme2": {}, "samm": {}, "smic": {}}
    kept = [(d, feats.classes[y]) for d, y in zip(feats.dataset, feats.y, strict=True)]
    assert kept.count(("casme2", "negative")) == 2


def test_prepared_casme2_samples_outside_the_composite_are_left_out_with_their_reason(tmp_path: Path):
    import json

    from prepared_builders import CASME2_EMOTIONS, make_prepared

    root = make_prepared(
        tmp_path / "casme2", dataset="casme2", subjects=["01", "02"], emotions=CASME2_EMOTIONS, per_class=1
    )
    manifest = root / ".fsr" / "prepared.json"
    doc = json.loads(manifest.read_text())
    by_clip = {s["clip"]: s for s in doc["samples"]}
    by_clip["01_disgust_0"]["apex_source"] = "spotted"  # the sheet had no apex ('/')
    by_clip["02_happiness_0"]["apex"] = by_clip["02_happiness_0"]["onset"]
    manifest.write_text(json.dumps(doc))
    sets = load_sets([root])
    feats = build_features(sets, label_set="composite", flow_size=28, app_size=32)
    assert feats.excluded["casme2"] == {
        "disgust: no annotated apex (not in the MEGC2019 composite)": 1,
        "happiness: apex = onset, no onset-to-apex motion (not in the MEGC2019 composite)": 1,
        "others": 2,
    }
    assert len(feats) == 4
    five = build_features(sets, label_set="casme2-5", flow_size=28, app_size=32)
    assert len(five) == 8 and five.excluded["casme2"] == {}  # only the composite follows the list
