"""Worker processes exit when the fsr process that started them dies.

A pool's workers (and the forkserver preprocess forks them from) are not told when their parent
is killed with SIGKILL: they would go on computing queued work, holding memory, for as long as
the queue lasts. `hold(parent)` starts a daemon thread in the worker that checks every
`interval` seconds whether `parent` still runs and ends the worker at once (os._exit) when it
does not. A parent that has died but is not yet reaped (a zombie) counts as dead.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        # Field 3 (after the parenthesised command name) is the state; Z and X are dead.
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no procfs (macOS): os.kill's answer stands
    return state not in ("Z", "X")


def hold(parent: int, *, interval: float = 0.5) -> threading.Thread:
    """Exit this process (status 1) as soon as `parent` is gone; returns the watching thread."""

    def watch() -> None:
        while alive(parent):
            time.sleep(interval)
        os._exit(1)

    thread = threading.Thread(target=watch, name="fsr-lifeline", daemon=True)
    thread.start()
    return thread
