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
