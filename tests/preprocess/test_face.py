import cv2
import numpy as np
import pytest

from fsr_cli.errors import SampleError
from fsr_cli.preprocess import face


def test_hog_finds_the_astronaut_face(astronaut):
    box, detector = face.detect_face(astronaut)
    assert detector == "hog"
    assert np.allclose(box.as_list(), [175, 76, 265, 166], atol=3)


def test_landmarks_are_a_face_inside_the_box(astronaut, astronaut_landmarks):
    box, points = astronaut_landmarks
    assert points.shape == (68, 2)
    left, right = face.eye_centres(points)
    assert box.left < left[0] < right[0] < box.right
    assert box.top < left[1] < points[33, 1] < points[57, 1] < points[8, 1]  # eyes, nose, mouth, chin
    assert left[0] < points[30, 0] < right[0]  # nose tip between the eyes
    assert abs(left[1] - right[1]) < 5  # the astronaut looks straight at the camera


def test_cnn_detector_is_the_fallback_when_hog_misses(astronaut):
    # Rolled 60 degrees the frontal HOG detector no longer fires; the CNN still finds the face.
    centre = (220.0, 121.0)
    rolled = cv2.warpAffine(astronaut, cv2.getRotationMatrix2D(centre, 60, 1.0), astronaut.shape[::-1])
    assert len(face.hog_detector()(rolled, face.HOG_UPSAMPLE)) == 0
    box, detector = face.detect_face(rolled)
    assert detector == "cnn"
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    assert np.hypot(cx - centre[0], cy - centre[1]) < 30


def test_no_face_is_a_sample_error_naming_the_frame():
    noise = np.random.default_rng(0).integers(0, 255, (120, 160), dtype=np.uint8)
    with pytest.raises(SampleError, match=r"^no face found in sub01/img46.jpg$"):
        face.detect_face(noise, name="sub01/img46.jpg")
