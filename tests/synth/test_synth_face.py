"""dlib must find exactly one face, with landmarks, on every identity and on the apex frames."""

import cv2
import numpy as np
import pytest

from fsr_cli.synth import detect_faces, landmarks68, make_identity, read_ground_truth, read_marker
from fsr_cli.synth.face import SOURCE_FACE_CENTER, source_face


def _frame_files(root, layout, frame_file):
    """(subject, first-frame file, apex-frame file) per clip of an image layout."""
    first = {(c["subject"], c["clip"]): c["first"] for c in read_marker(root)["clips"]}
    return [
        (
            r.subject,
            frame_file(root, layout, r, first[(r.subject, r.clip)]),
            frame_file(root, layout, r, r.apex),
        )
        for r in read_ground_truth(root)
    ]


def _one_face(img, upsamples=(0, 1)):
    h, w = img.shape[:2]
    for up in upsamples:
        boxes = detect_faces(img, upsample=up)
        assert len(boxes) == 1, f"upsample {up}: {boxes}"
    pts = landmarks68(img, boxes[0])
    assert pts.shape == (68, 2)
    assert (pts >= 0).all() and (pts[:, 0] < w).all() and (pts[:, 1] < h).all()
    return boxes[0], pts


def test_source_face_is_the_real_face_not_the_false_box_below():
    photo, pts = source_face()
    assert photo.shape == (512, 512, 3)
    centre = pts.mean(0)
    assert np.hypot(*(centre - SOURCE_FACE_CENTER)) < 15


@pytest.mark.parametrize("layout", ["casme2", "samm", "smic"])
def test_every_subject_and_every_apex_frame_has_one_face(synth_root, frame_file, layout):
    root = synth_root(layout)
    recorded = {i["subject"]: np.array(i["landmarks"]) for i in read_marker(root)["identities"]}
    widths = {}
    for subject, first, apex in _frame_files(root, layout, frame_file):
        img = cv2.imread(str(first), cv2.IMREAD_UNCHANGED)
        box, pts = _one_face(img)
        widths[subject] = np.linalg.norm(pts[16] - pts[0])
        # The landmarks fsr_synth.json records are where dlib finds them on the frames.
        assert np.linalg.norm(pts - recorded[subject], axis=1).mean() < 2.5
        _one_face(cv2.imread(str(apex), cv2.IMREAD_UNCHANGED))
    assert len(widths) == read_marker(root)["n_subjects"]
    lo, hi = (90, 130) if layout == "smic" else (105, 160)  # smic frames are 256 wide, the others 320
    assert all(lo < w < hi for w in widths.values()), widths


def test_video_frames_have_one_face(synth_root):
    root = synth_root("video")
    for row in read_ground_truth(root):
        cap = cv2.VideoCapture(str(root / "clips" / f"{row.clip}.mp4"))
        frames = []
        for i in range(row.apex + 1):
            ok, frame = cap.read()
            assert ok
            if i in (0, row.apex):
                frames.append(frame[..., ::-1].copy())
        cap.release()
        for f in frames:
            _one_face(f, upsamples=(0,))


def test_identities_are_distinct(synth_root, frame_file):
    root = synth_root("casme2")
    firsts = {}
    for subject, first, _ in _frame_files(root, "casme2", frame_file):
        firsts.setdefault(subject, cv2.imread(str(first)).astype(np.float32))
    imgs = list(firsts.values())
    for i in range(len(imgs)):
        for j in range(i + 1, len(imgs)):
            assert np.abs(imgs[i] - imgs[j]).mean() > 10


def test_grey_identity_has_equal_channels_and_a_face():
    ident = make_identity(np.random.default_rng(5), width=320, height=240, grey=True)
    assert ident.grey and ident.image.shape == (240, 320, 3)
    assert (ident.image[..., 0] == ident.image[..., 2]).all()
    _one_face(ident.image)
