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


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks): tells a process from a later one
    that reuses its pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def descendants(pid: int) -> dict[int, str]:
    """Every living descendant of `pid` (children, their children, ...) with its start time."""
    out, todo = {}, [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [
                int(c)
                for t in Path(f"/proc/{p}/task").iterdir()
                for c in (t / "children").read_text().split()
            ]
        except (OSError, ValueError):
            continue
        for k in kids:
            if (start := _start_time(k)) is not None:
                out[k] = start
                todo.append(k)
    return out


def guard_tree(owner: int | None = None, *, interval: float = 0.25):
    """Start a watcher process that kills every descendant of `owner` (default: this process) as
    soon as `owner` dies, even by SIGKILL; returns its Popen (terminate it to stop watching).

    Services such as a local Ray instance start grandchildren (Ray's dashboard and runtime-env
    agents under its raylet) that notice a dead driver only after tens of seconds. The watcher
    notes the tree every `interval` seconds while the owner lives, and kills what it last saw.
    Linux only (procfs); elsewhere it returns None.
    """
    import subprocess
    import sys

    owner = os.getpid() if owner is None else owner
    if not Path(f"/proc/{owner}/task").is_dir():
        return None
    return subprocess.Popen(
        [sys.executable, "-m", "fsr_cli.lifeline", str(owner), str(interval)],
        start_new_session=True,  # not in the owner's process group: it outlives a group kill
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _watch_tree(owner: int, interval: float) -> None:
    import signal

    me, seen = os.getpid(), {}
    while alive(owner):
        seen = {p: s for p, s in descendants(owner).items() if p != me}
        time.sleep(interval)
    for pid, start in seen.items():
        if _start_time(pid) == start:  # the same process, not a later one with its pid
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


if __name__ == "__main__":
    import sys

    _watch_tree(int(sys.argv[1]), float(sys.argv[2]))
