import os

# Keep the suite deterministic and inside the two cores the CI machine has.
os.environ.setdefault("OMP_NUM_THREADS", "1")
