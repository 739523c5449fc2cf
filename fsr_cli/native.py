"""Quiet native libraries and plots: what C code and matplotlib would print on stderr that is
not fsr's to say.

- `quiet_fd2()`: libjpeg (inside OpenCV) writes `Corrupt JPEG data: N extraneous bytes before
  marker` straight to file descriptor 2 for frames it still decodes; many datasets' JPEGs carry
  such bytes. Inside the block fd 2 goes to a scratch file; the lines are returned in a list
  (for callers that want to count them) instead of interleaving with fsr's own output.
- `pyplot()`: matplotlib's pyplot on the Agg backend, with its `Glyph ... missing from font`
  warnings (clip or subject names in scripts the bundled font lacks) silenced: the figure is
  drawn with a box for such a glyph either way.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings


@contextlib.contextmanager
def quiet_fd2():
    """Redirect fd 2 for the block; yields the list that receives what was written there."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            scratch.seek(0)
            lines.extend(scratch.read().decode(errors="replace").splitlines())


def pyplot():
    """matplotlib.pyplot on Agg, missing-glyph warnings silenced."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    warnings.filterwarnings(
        "ignore", message=r"Glyph \d+ .* missing from (current )?font", category=UserWarning
    )
    return plt
