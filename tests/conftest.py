import os

# Keep the suite deterministic and inside the two cores the CI machine has.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# `fsr preprocess` / `import-flow` remember what they prepared in the user's cache folder (the
# default of a bare `fsr train`): the suite keeps that record in a folder of its own.
if "FSR_TEST_CACHE_HOME" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["FSR_TEST_CACHE_HOME"] = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="fsr-xdg-")
    atexit.register(shutil.rmtree, os.environ["FSR_TEST_CACHE_HOME"], True)


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def ray_local():
    """One real local Ray instance (2 CPUs) for the tests that use it; executors join it."""
    ray = pytest.importorskip("ray")
    # Ray's workers import the tests' job functions by module name: give them the tests' folders.
    here = os.path.dirname(os.path.abspath(__file__))
    extra = [os.path.join(here, d) for d in ("train", "preprocess")]
    os.environ["PYTHONPATH"] = os.pathsep.join([*extra, *filter(None, [os.environ.get("PYTHONPATH")])])
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def cut_avi():
    """cut_avi(video, folder, keep=): `video` re-encoded as MJPG .avi, then cut after `keep` of
    its bytes (a corrupt tail); returns the cut file's path."""
    return _cut_avi


def _cut_avi(video, folder, *, keep: float):
    import cv2

    cap = cv2.VideoCapture(str(video))
    fps, size = (
        cap.get(cv2.CAP_PROP_FPS),
        (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))),
    )
    full, cut = folder / "full.avi", folder / "cut.avi"
    w = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    while (got := cap.read())[0]:
        w.write(got[1])
    w.release()
    data = full.read_bytes()
    cut.write_bytes(data[: int(len(data) * keep)])
    return cut
